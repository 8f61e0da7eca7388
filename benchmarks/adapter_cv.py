"""Does a learned query adapter help e5? Training data only: `python -m benchmarks.adapter_cv`.

The procedure behind docs/metrics.md "A learned query adapter for e5" (benchmarks/query_adapter.py):

1. **CV on the bank** (`--by question` / `--by section`, `--folds` k): the bank's (question, chunk
   of its section) pairs (`tune.training_pairs`, bank only) split into k folds as `tune_cv` splits
   them. For each outer fold the adapter's recipe (method and identity weight, from `GRID`, the
   identity itself included) is chosen by an inner CV (`--inner-folds`, split the same way) on the
   other folds' pairs only, by inner hit@1 (ties: inner hit@3, then the earlier in `GRID`, which
   lists the most conservative first); it is fitted on those pairs, and each held-back question is
   searched by dense search alone over every chunk: hit@k = its section among the first k
   distinct sections (`tune_cv.section_hits`). e5 without the adapter is scored on the same
   questions.
2. **the production recipe**: the same choice made by CV over the whole bank (split `--by`).
3. **whole chain** (`--chain`, needs `assistant ingest` with e5 in the configured data dir): the
   gated sets (evals/*.yaml) and evals/train/conversations*.yaml through `run_cases`, as `assistant
   eval` scores them, without and with the adapter fitted on the whole bank, in the same process on
   the same index. The adapter is applied where production would apply it: to the query vector of
   every dense search (`HybridSearch._dense`), not to the bank nearness.
4. `--bank FILE`: a further bank file's questions (those of existing sections, near-duplicates of
   a training question left out) scored by dense search alone, e5 vs the production adapter: a
   check set, never trained on. `--train-bank FILE` trains on its pairs too instead.

Never reads `evals/held-out/`.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assistant.chunking import embedding_text
from assistant.config import load_settings
from assistant.embeddings import E5Embeddings, offline_environment
from assistant.evals import PROJECT_SETS, TRAIN_SETS, load_cases
from assistant.question_bank import BankEntry, near_duplicate
from assistant.tune import Pair, bank_pairs, corpus_chunks, training_pairs
from assistant.vector_cache import cached_vectors
from benchmarks import query_adapter as adapters
from benchmarks.query_adapter import AdapterRecipe
from benchmarks.tune_cv import at, folds_of, section_hits

SEED = 13
# The most conservative first: a tie keeps the identity (plain e5), then the heavier pull to it.
GRID: list[AdapterRecipe] = (
    [AdapterRecipe(method="identity")]
    + [AdapterRecipe(method="ridge", weight=w) for w in (30.0, 10.0, 3.0, 1.0, 0.3, 0.1)]
    + [AdapterRecipe(method="contrastive", weight=w, scale=20.0) for w in (10.0, 3.0, 1.0)]
)
# A first run's grid (ridge 1 .. 0.003, contrastive 0.1 .. 0.001 at scale 50) chose the identity or
# the weakest adapters in every fold: the weights were moved up, never tuned on a held-back fold.


class Data:
    """The bank's pairs as vectors: each question's e5 query vector, each chunk's passage vector."""

    def __init__(self, pairs: list[Pair], query_vec: dict[str, np.ndarray], chunk_vecs: np.ndarray,
                 chunk_sections: list[tuple[str, str]], passage_index: dict[str, int]) -> None:
        self.pairs = pairs
        self.query_vec = query_vec
        self.chunk_vecs = chunk_vecs
        self.chunk_sections = chunk_sections
        self.passage_index = passage_index
        self.gold = {p.question: {q.section for q in pairs if q.question == p.question} for p in pairs}

    def fit(self, recipe: AdapterRecipe, pairs: list[Pair]) -> np.ndarray:
        return adapters.fit(recipe, np.stack([self.query_vec[p.question] for p in pairs]),
                            [self.passage_index[p.passage] for p in pairs], self.chunk_vecs,
                            self.chunk_sections, [p.section for p in pairs])

    def ranks(self, adapter: np.ndarray, questions: list[str]) -> list[int | None]:
        vectors = adapters.apply(adapter, np.stack([self.query_vec[q] for q in questions]))
        return section_hits(vectors, self.chunk_vecs, self.chunk_sections, [self.gold[q] for q in questions])


def questions_of(pairs: list[Pair]) -> list[str]:
    return sorted({p.question for p in pairs})


def choose(data: Data, pairs: list[Pair], folds: int, by: str) -> tuple[AdapterRecipe, list[dict[str, Any]]]:
    """The GRID recipe with the best inner-CV hit@1 on `pairs` (ties: hit@3, then GRID order)."""
    fold_of = folds_of(pairs, folds, by, SEED)
    scores = []
    for recipe in GRID:
        ranks: list[int | None] = []
        for f in range(folds):
            train = [p for p, g in zip(pairs, fold_of, strict=True) if g != f]
            test = questions_of([p for p, g in zip(pairs, fold_of, strict=True) if g == f])
            ranks += data.ranks(data.fit(recipe, train), test)
        scores.append({"recipe": recipe.__dict__, "hit@1": at(ranks, 1), "hit@3": at(ranks, 3)})
    best = max(range(len(GRID)), key=lambda i: (scores[i]["hit@1"], scores[i]["hit@3"], -i))
    return GRID[best], scores


def nested_cv(data: Data, folds: int, inner: int, by: str) -> dict[str, Any]:
    pairs = data.pairs
    fold_of = folds_of(pairs, folds, by, SEED)
    identity = np.eye(data.chunk_vecs.shape[1], dtype=np.float32)
    ranks: dict[str, dict[str, int | None]] = {"e5": {}, "adapter": {}}
    chosen = []
    for f in range(folds):
        train = [p for p, g in zip(pairs, fold_of, strict=True) if g != f]
        test = questions_of([p for p, g in zip(pairs, fold_of, strict=True) if g == f])
        recipe, _ = choose(data, train, inner, by)
        ranks["e5"].update(zip(test, data.ranks(identity, test), strict=True))
        ranks["adapter"].update(zip(test, data.ranks(data.fit(recipe, train), test), strict=True))
        chosen.append(recipe.__dict__)
        print(f"by {by}, fold {f + 1}/{folds}: {len(test)} questions, chosen {recipe}; hit@1 e5 "
              f"{at([ranks['e5'][q] for q in test], 1):.3f} adapter {at([ranks['adapter'][q] for q in test], 1):.3f}",
              file=sys.stderr, flush=True)
    qs = sorted(ranks["e5"])
    summary = {name: {"hit@1": at([r[q] for q in qs], 1), "hit@3": at([r[q] for q in qs], 3),
                      "hits@1": sum(1 for q in qs if r[q] == 1)} for name, r in ranks.items()}
    return {"by": by, "folds": folds, "inner_folds": inner, "questions": len(qs), "summary": summary,
            "chosen_per_fold": chosen, "ranks": ranks}


def file_vectors(settings: Any, e5: E5Embeddings, path: Path) -> dict[str, np.ndarray]:
    """Every question of a bank file, embedded as a query (cached on the file's questions)."""
    qs = sorted({e["question"] for e in yaml.safe_load(path.read_text(encoding="utf-8")) or []})
    vecs = cached_vectors(settings.data_dir / "vectors", "adapter-file", e5.name, qs,
                          lambda: np.asarray([e5.embed_query(q) for q in qs], dtype=np.float32))
    return dict(zip(qs, vecs, strict=True))


def load_data(settings: Any, e5: E5Embeddings, extra_banks: list[Path] | None = None) -> Data:
    """The bank's pairs, and with `extra_banks` (questions.yaml format) theirs too: more training pairs."""
    pairs, _ = training_pairs(settings, with_cases=False)
    chunks = corpus_chunks(settings.corpus_dir)
    for path in extra_banks or []:
        entries = [BankEntry.model_validate(e) for e in yaml.safe_load(path.read_text(encoding="utf-8")) or []]
        more, _ = bank_pairs(entries, chunks)
        known = {p.question for p in pairs}
        pairs += [p for p in more if p.question not in known]
    texts = [embedding_text(c) for c in chunks]
    passage_index: dict[str, int] = {}
    for n, t in enumerate(texts):
        passage_index.setdefault(t, n)
    cache = settings.data_dir / "vectors"  # the bank's and the pages' vectors, kept between runs
    chunk_vecs = cached_vectors(cache, "adapter-passages", e5.name, texts,
                                lambda: np.asarray(e5.embed_documents(texts), dtype=np.float32))
    qs = questions_of(training_pairs(settings, with_cases=False)[0])
    vecs = cached_vectors(cache, "adapter-queries", e5.name, qs,
                          lambda: np.asarray([e5.embed_query(q) for q in qs], dtype=np.float32))
    query_vec = dict(zip(qs, vecs, strict=True))
    for path in extra_banks or []:
        query_vec |= file_vectors(settings, e5, path)
    return Data(pairs, query_vec, chunk_vecs, [(c.page, c.section) for c in chunks], passage_index)


def chain_cases() -> list[Any]:
    """The gated sets and the training conversations: what the brief's whole-chain check runs."""
    return load_cases(sorted(PROJECT_SETS.glob("*.yaml")) + sorted(TRAIN_SETS.glob("conversations*.yaml")))


def whole_chain(settings: Any, e5: E5Embeddings, adapter: np.ndarray) -> dict[str, Any]:
    from assistant.chain import Chain
    from assistant.evals import run_cases
    from assistant.retrieve import HybridSearch

    cases = chain_cases()
    # Both runs embed the same questions: embedded once (the vectors are the model's, adapter or not).
    e5.embed_query = functools.lru_cache(maxsize=None)(e5.embed_query)  # type: ignore[method-assign]
    chain = Chain(settings, e5)
    search = chain.search
    original = HybridSearch._dense
    out: dict[str, Any] = {"cases": len(cases)}
    for name in ("adapter", "e5"):
        if name == "e5":
            search.__dict__.pop("_dense", None)
        else:
            def adapted(snap, vector, n, business, _orig=original, _self=search):  # type: ignore[no-untyped-def]
                return _orig(_self, snap, adapters.apply(adapter, np.asarray(vector)[None])[0].tolist(), n, business)
            search._dense = adapted  # type: ignore[method-assign]
        started = time.perf_counter()
        run = run_cases(chain, cases)
        s = run.summary
        out[name] = {"passed": s["passed"], "pass_rate": s["pass_rate"], "retrieval": s["retrieval"],
                     "follow_up": s["follow_up"], "abstention": s["abstention"], "seconds": time.perf_counter() - started,
                     "per_set": {k: {"passed": v["passed"], "cases": v["cases"], "hit@1": v["retrieval"]["hit@1"]}
                                 for k, v in run.sets.items()},
                     "passed_ids": sorted(r.case.id for r in run.results if r.passed)}
        print(f"whole chain, {name}: pass {s['passed']}/{s['cases']}, hit@1 {s['retrieval']['hit@1']}, "
              f"hit@3 {s['retrieval']['hit@3']}", file=sys.stderr, flush=True)
    search.__dict__.pop("_dense", None)
    out["fixed"] = sorted(set(out["adapter"]["passed_ids"]) - set(out["e5"]["passed_ids"]))
    out["broken"] = sorted(set(out["e5"]["passed_ids"]) - set(out["adapter"]["passed_ids"]))
    return out


def per_query_cost(adapter: np.ndarray, e5: E5Embeddings, repeats: int = 2000) -> dict[str, float]:
    vector = np.asarray(e5.embed_query("how do I apply a courtesy credit"), dtype=np.float32)
    started = time.perf_counter()
    for _ in range(repeats):
        adapters.apply(adapter, vector[None])[0].tolist()
    apply_us = (time.perf_counter() - started) / repeats * 1e6
    started = time.perf_counter()
    for _ in range(5):
        e5.embed_query("how do I apply a courtesy credit")
    embed_ms = (time.perf_counter() - started) / 5 * 1e3
    return {"apply_microseconds": round(apply_us, 1), "e5_embed_query_ms": round(embed_ms, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--inner-folds", type=int, default=4)
    parser.add_argument("--by", choices=["question", "section", "both", "none"], default="both")
    parser.add_argument("--chain", action="store_true", help="also run the whole chain on the training eval cases")
    parser.add_argument("--bank", type=Path, action="append", default=[],
                        help="an extra bank file (questions.yaml format) whose questions are scored too, "
                             "e5 vs the adapter fitted on the whole bank (a check set, never trained on)")
    parser.add_argument("--train-bank", type=Path, action="append", default=[],
                        help="an extra bank file (questions.yaml format) whose pairs are trained on too")
    parser.add_argument("--recipe", help="METHOD:WEIGHT, the production recipe an earlier run chose (skips choosing)")
    parser.add_argument("--out", type=Path, help="write everything here (JSON)")
    args = parser.parse_args(argv)
    offline_environment()
    settings = load_settings(embedding_backend="e5")
    e5 = E5Embeddings()
    started = time.perf_counter()
    data = load_data(settings, e5, args.train_bank)
    print(f"{len(data.pairs)} pairs, {len(data.query_vec)} questions, {len(data.chunk_vecs)} chunks "
          f"({time.perf_counter() - started:.1f} s to embed)", file=sys.stderr, flush=True)
    result: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()},
                              "grid": [r.__dict__ for r in GRID], "cv": {}}
    splits = {"both": ["question", "section"], "none": []}.get(args.by, [args.by])
    for by in splits:
        started = time.perf_counter()
        result["cv"][by] = nested_cv(data, args.folds, args.inner_folds, by)
        result["cv"][by]["seconds"] = time.perf_counter() - started
    by_final = "question" if splits == ["question"] else "section"
    scores: list[dict[str, Any]] = []
    if args.recipe:  # a recipe an earlier run chose (the choice is deterministic): skips the choosing
        method, weight = args.recipe.split(":")
        recipe = AdapterRecipe(method=method, weight=float(weight), scale=20.0 if method == "contrastive"
                               else AdapterRecipe.scale)
    else:
        recipe, scores = choose(data, data.pairs, args.folds, by_final)
    started = time.perf_counter()
    adapter = data.fit(recipe, data.pairs)
    result["production"] = {"chosen_by": by_final, "recipe": recipe.__dict__, "grid_scores": scores,
                            "fit_seconds": time.perf_counter() - started,
                            "distance_from_identity": float(np.linalg.norm(adapter - np.eye(adapter.shape[0])))}
    print(f"production recipe (CV by {by_final} on the whole bank): {recipe}", file=sys.stderr, flush=True)
    result["cost"] = per_query_cost(adapter, e5)
    if args.bank:
        chunk_keys = set(data.chunk_sections)
        extra = []
        for path in args.bank:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            extra += [e for e in raw if (e["page"], e["section"]) in chunk_keys]
        # A near-duplicate of a training question would be a question the adapter was fitted on.
        extra = [e for e in extra if not any(near_duplicate(e["question"], q) for q in data.query_vec)]
        qs = [e["question"] for e in extra]
        known = {q: v for path in args.bank for q, v in file_vectors(settings, e5, path).items()}
        vecs = np.stack([known[q] for q in qs])
        gold = [{(e["page"], e["section"])} for e in extra]
        check = {}
        for name, a in (("e5", np.eye(adapter.shape[0], dtype=np.float32)), ("adapter", adapter)):
            r = section_hits(adapters.apply(a, vecs), data.chunk_vecs, data.chunk_sections, gold)
            check[name] = {"hit@1": at(r, 1), "hit@3": at(r, 3), "hits@1": sum(1 for x in r if x == 1)}
        result["extra_bank_check"] = {"files": [str(p) for p in args.bank], "questions": len(qs), **check}
    if args.chain:
        result["chain"] = whole_chain(settings, e5, adapter)
    print(json.dumps({k: v for k, v in result.items() if k in ("production", "cost", "extra_bank_check")}
                     | {"cv": {b: r["summary"] for b, r in result["cv"].items()}}
                     | ({"chain": {k: (v if not isinstance(v, dict) else {kk: vv for kk, vv in v.items()
                                                                         if kk != "passed_ids"})
                                   for k, v in result["chain"].items()}} if "chain" in result else {}),
                     indent=1, default=str))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
