"""Choose the retrieval fusion's weights on training data only: `python -m benchmarks.fusion_weights`.

The procedure behind `retrieve.Fusion`'s defaults (docs/metrics.md "Sentence-level search"): every
combination of the grid below answers, through the whole chain (retrieval, composer, rules),

- the gated sets and `evals/train/`: a case counts when it passes (its evidence cited, its rules
  right, abstaining when it should), and
- every question-bank question, asked with itself left out of the bank: it counts when the
  answer's first citation is its section,

and the combination with the most counted questions wins (ties: the earlier in the grid, whose
first values are the previous defaults). Held-out sets are never read. Needs a built index
(`assistant ingest`) for the configured model. About 5 s per combination and 100 questions.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import itertools
import json
import sys
from pathlib import Path
from typing import Any

from assistant.calibration import training_cases
from assistant.chain import Chain
from assistant.config import load_settings
from assistant.embeddings import get_embedder, offline_environment
from assistant.evals import run_cases
from assistant.question_bank import BankIndex
from assistant.retrieve import Fusion, Snapshot

# The previous defaults first (dense 1, lexical 1, bank 1 with no floor): a tie keeps them. The
# chosen values are `retrieve.Fusion`'s defaults, but the floor, which is `config.BANK_FLOOR[backend]`.
GRID = {"dense": (1.0,), "lexical": (1.0, 0.5), "bank": (1.0, 0.5, 0.0), "bank_floor": (0.0, 0.9, 0.96)}


def bank_hits(chain: Chain, snapshot: Snapshot) -> list[bool]:
    """Each file-bank question asked with itself left out of the bank: is its section cited first?"""
    full = snapshot.bank
    hits = []
    try:
        for n, entry in enumerate(full.entries[:len((snapshot.file_bank or full).entries)]):
            keep = [i for i in range(len(full.entries)) if i != n]
            chain.search.use_snapshot(dataclasses.replace(
                snapshot, bank=BankIndex([full.entries[i] for i in keep], full.vectors[keep])))
            answer = chain.ask(entry.question)
            first = answer.citations[0] if answer.citations else None
            hits.append(first is not None and any((where.page, where.section) == (entry.page, entry.section)
                                                  for where in [first, *first.also_in]))
    finally:
        chain.search.use_snapshot(snapshot)
    return hits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write every combination's scores here (JSON)")
    args = parser.parse_args(argv)
    offline_environment()
    settings = load_settings()
    embedder = get_embedder(settings)
    embedder.embed_query = functools.lru_cache(maxsize=None)(embedder.embed_query)  # type: ignore[method-assign]
    chain = Chain(settings, embedder)
    snapshot = chain.search.snapshot
    cases = training_cases()
    print(f"{len(cases)} training cases, {len((snapshot.file_bank or snapshot.bank).entries)} bank questions (left one out)")
    rows = []
    for values in itertools.product(*GRID.values()):
        chosen: dict[str, Any] = dict(zip(GRID, values, strict=True))
        fusion = Fusion(**chosen)
        if fusion.bank == 0 and fusion.bank_floor != GRID["bank_floor"][0]:
            continue  # no bank list: its floor changes nothing
        chain.search.fusion = fusion
        run = run_cases(chain, cases)
        passed = sum(1 for r in run.results if r.passed)
        bank = bank_hits(chain, snapshot)
        retrieval = run.summary["retrieval"]
        rows.append({"fusion": dataclasses.asdict(fusion), "counted": passed + sum(bank), "passed": passed,
                     "bank_first": sum(bank), "hit@1": retrieval["hit@1"], "hit@3": retrieval["hit@3"]})
        print(f"{values}: counted {passed + sum(bank)} = pass {passed}/{len(cases)} + bank first "
              f"{sum(bank)}/{len(bank)}; hit@1 {retrieval['hit@1']} hit@3 {retrieval['hit@3']}", flush=True)
    best = max(enumerate(rows), key=lambda r: (r[1]["counted"], -r[0]))[1]
    print("chosen:", json.dumps(best))
    if args.out:
        args.out.write_text(json.dumps({"grid": GRID, "rows": rows, "chosen": best}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
