"""Does tuning MiniLM help? k-fold cross-validation on training data only: `python -m benchmarks.tune_cv`.

The procedure behind docs/metrics.md "Fine-tuning MiniLM": the training pairs of `assistant tune`
(the question bank, optionally the gated and training eval cases) are split into k folds by
question (`--by question`: every pair of one question in the same fold) or by section (`--by
section`: a fold's sections are never seen in tuning). For each fold, MiniLM is tuned on the other
folds' pairs with `assistant tune`'s recipe, and each held-back question is searched by dense
search alone over every chunk of the pages: hit@k = one of its sections (the bank entry's, or the
sections holding the case's evidence) among the first k distinct sections. The base MiniLM and e5
(the default backend) are measured on the same questions. Never reads `evals/held-out/`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from assistant.chunking import embedding_text
from assistant.config import load_settings
from assistant.embeddings import E5Embeddings, bundled_model_path, offline_environment
from assistant.tune import Pair, Recipe, corpus_chunks, train, training_pairs


def folds_of(pairs: list[Pair], k: int, by: str, seed: int) -> list[int]:
    """Each pair's fold: its question's (or section's) group, dealt round-robin after a seeded shuffle."""
    keys = sorted({p.question if by == "question" else "\x1f".join(p.section) for p in pairs})
    random.Random(seed).shuffle(keys)
    fold_of = {key: n % k for n, key in enumerate(keys)}
    return [fold_of[p.question if by == "question" else "\x1f".join(p.section)] for p in pairs]


def section_hits(query_vectors: np.ndarray, chunk_vectors: np.ndarray, chunk_sections: list[tuple[str, str]],
                 gold: list[set[tuple[str, str]]]) -> list[int | None]:
    """Each query's 1-based rank of its first gold section among the distinct sections, dense order."""
    ranks: list[int | None] = []
    for vector, wanted in zip(query_vectors, gold, strict=True):
        seen: list[tuple[str, str]] = []
        for i in np.argsort(-(chunk_vectors @ vector), kind="stable"):
            if chunk_sections[i] not in seen:
                seen.append(chunk_sections[i])
                if chunk_sections[i] in wanted:
                    break
        ranks.append(len(seen) if seen and seen[-1] in wanted else None)
    return ranks


def at(ranks: list[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--by", choices=["question", "section"], default="question")
    parser.add_argument("--with-cases", action="store_true", help="tune on the eval cases' pairs too")
    parser.add_argument("--epochs", type=int, default=Recipe().epochs)
    parser.add_argument("--out", type=Path, help="write the per-question ranks here (JSON)")
    args = parser.parse_args(argv)
    offline_environment()
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(2)
    settings = load_settings()
    recipe = Recipe(epochs=args.epochs)
    pairs, _ = training_pairs(settings, args.with_cases)
    chunks = corpus_chunks(settings.corpus_dir)
    passages = [embedding_text(c) for c in chunks]
    sections = [(c.page, c.section) for c in chunks]
    fold_of = folds_of(pairs, args.folds, args.by, recipe.seed)
    questions = sorted({(p.question, p.source) for p in pairs})
    gold = {q: {p.section for p in pairs if p.question == q} for q, _ in questions}
    q_fold = {p.question: f for p, f in zip(pairs, fold_of, strict=True)}

    def embed(encode_q, encode_p, qs: list[str]) -> list[int | None]:  # type: ignore[no-untyped-def]
        return section_hits(np.asarray(encode_q(qs)), np.asarray(encode_p(passages)), sections, [gold[q] for q in qs])

    ranks: dict[str, dict[str, int | None]] = {"minilm": {}, "tuned": {}, "e5": {}}
    all_qs = [q for q, _ in questions]
    base = SentenceTransformer(str(bundled_model_path()), device="cpu", local_files_only=True)
    enc = lambda m: lambda texts: m.encode(texts, normalize_embeddings=True, batch_size=32)  # noqa: E731
    ranks["minilm"] = dict(zip(all_qs, embed(enc(base), enc(base), all_qs), strict=True))
    e5 = E5Embeddings()
    ranks["e5"] = dict(zip(all_qs, embed(lambda t: [e5.embed_query(x) for x in t], e5.embed_documents, all_qs),
                           strict=True))
    seconds = []
    for f in range(args.folds):
        train_pairs = [p for p, g in zip(pairs, fold_of, strict=True) if g != f]
        test_qs = [q for q in all_qs if q_fold[q] == f]
        started = time.perf_counter()
        model, losses = train(bundled_model_path(), train_pairs, recipe, progress=True)
        seconds.append(time.perf_counter() - started)
        ranks["tuned"].update(zip(test_qs, embed(enc(model), enc(model), test_qs), strict=True))
        print(f"fold {f + 1}/{args.folds}: {len(train_pairs)} pairs, {seconds[-1]:.0f} s, losses "
              f"{[round(x, 3) for x in losses]}; tuned hit@1 {at([ranks['tuned'][q] for q in test_qs], 1):.3f}",
              file=sys.stderr, flush=True)
    groups = {"all": all_qs, "bank": [q for q, s in questions if s == "bank"],
              "cases": [q for q, s in questions if s != "bank"]}
    print(f"{args.folds}-fold CV by {args.by}, tuned on {'bank + cases' if args.with_cases else 'bank'}, "
          f"{recipe.epochs} epochs; tuning {np.mean(seconds):.0f} s per fold")
    print("| questions | n | model | hit@1 | hit@3 |\n|---|---|---|---|---|")
    for name, qs in groups.items():
        if qs:
            for model_name in ("minilm", "tuned", "e5"):
                r = [ranks[model_name][q] for q in qs]
                print(f"| {name} | {len(qs)} | {model_name} | {at(r, 1):.3f} | {at(r, 3):.3f} |")
    if args.out:
        args.out.write_text(json.dumps({"args": vars(args) | {"out": str(args.out)}, "ranks": ranks,
                                        "tune_seconds": seconds}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
