"""The previous release's per-case results, and the paired comparison of a new run with them.

`assistant eval --save-results PATH` writes one record per case (passed, source rank, abstained,
rules fired) plus the run's summaries; `--compare PATH` reads it back. The comparison is paired
by case id because rates hide churn: one case fixed and another broken leave the pass rate where
it was, and that trade is exactly what a reviewer needs to see. A case the old file does not hold
is "new", never fixed or broken. Never reads or changes how a case is scored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.errors import EvalSetError

FORMAT = 1
CHANGES = ("fixed", "broken", "hit@1_fixed", "hit@1_broken", "new")


class CaseRecord(BaseModel):
    """What one case did in one run: enough to pair it with the same case in another run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    set: str
    passed: bool
    rank: int | None = None  # of the first citation holding an evidence phrase; None without sources_any or no hit
    abstained: bool = False
    fired: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Release:
    """A results file as read back: where it came from, and its records by case id."""

    path: str
    cases: dict[str, CaseRecord]


def compare(now: Mapping[str, CaseRecord], before: Mapping[str, CaseRecord]) -> dict[str, list[str]]:
    """Case ids per change, in `now`'s order. Cases only in `before` (dropped or renamed) are ignored."""
    changes: dict[str, list[str]] = {key: [] for key in CHANGES}
    for case_id, rec in now.items():
        old = before.get(case_id)
        if old is None:
            changes["new"].append(case_id)
            continue
        if rec.passed != old.passed:
            changes["fixed" if rec.passed else "broken"].append(case_id)
        if (rec.rank == 1) != (old.rank == 1):
            changes["hit@1_fixed" if rec.rank == 1 else "hit@1_broken"].append(case_id)
    return changes


def save(path: Path, records: Mapping[str, CaseRecord], summary: dict[str, Any], sets: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Per-tag and per-rule rates stay in the overall summary only: per set they would triple the file.
    sets = {name: {k: v for k, v in s.items() if k not in ("by_tag", "by_rule")} for name, s in sets.items()}
    head = json.dumps({"format": FORMAT, "summary": summary, "sets": sets}, indent=1)
    # One line per case: a release-to-release diff of the committed file then reads case by case.
    cases = ",\n".join(f"  {json.dumps(case_id)}: {json.dumps(rec.model_dump())}" for case_id, rec in records.items())
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(head[:-2] + ',\n "cases": {\n' + cases + "\n }\n}\n", encoding="utf-8")
    tmp.replace(path)


def load(path: Path) -> Release:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalSetError(f"{path}: not a readable results file ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("cases"), dict):
        raise EvalSetError(f"{path}: not a results file of format {FORMAT} (write one with --save-results)")
    records: dict[str, CaseRecord] = {}
    for case_id, raw in data["cases"].items():
        try:
            records[case_id] = CaseRecord.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"]) or "record"
            raise EvalSetError(f"{path}: case {case_id}: key {key!r}: {err['msg']}") from None
    return Release(path=str(path), cases=records)
