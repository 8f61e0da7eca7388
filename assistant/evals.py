"""Eval sets: load trainer-written cases, run each through `Chain.ask`, score, summarize.

Cases are data (YAML list or JSONL, fixed field names); scoring is cheap and deterministic.
Phrases match case-insensitively after whitespace folding. Must never special-case a question:
the runner only calls the same `ask` as the chat.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.config import PROJECT_ROOT
from assistant.errors import AssistantError, EvalSetError
from assistant.guardrails import RULE_IDS
from assistant.models import Answer
from assistant.present import answer_text

RULE_KEYS = ("guardrails:", "forbid_guardrails:", "error:")
PROJECT_SETS = PROJECT_ROOT / "evals"  # top-level files are gated in CI; held-out/ is only reported


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    abstain: bool | None = None
    sources_any: list[str] = Field(default_factory=list)
    includes: list[str] = Field(default_factory=list)
    includes_any: list[str] = Field(default_factory=list)
    excludes: list[str] = Field(default_factory=list)
    guardrails: list[str] = Field(default_factory=list)
    forbid_guardrails: list[str] = Field(default_factory=list)

    @field_validator("guardrails", "forbid_guardrails")
    @classmethod
    def _known_rules(cls, rules: list[str]) -> list[str]:
        unknown = [r for r in rules if r not in RULE_IDS]
        if unknown:
            raise ValueError(f"unknown rule id {unknown[0]!r} (known: {', '.join(sorted(RULE_IDS))})")
        return rules


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    history: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    expect: Expect = Field(default_factory=Expect)
    file: str = Field("", exclude=True)

    @property
    def is_guardrail_case(self) -> bool:
        return bool(self.expect.guardrails or self.expect.forbid_guardrails)

    @property
    def expects_abstain(self) -> bool | None:
        if self.expect.abstain is not None:
            return self.expect.abstain
        return False if (self.expect.sources_any or self.expect.includes) else None


def _case_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml", ".jsonl"})
        elif path.is_file():
            files.append(path)
        else:
            raise EvalSetError(f"{path}: no such file or folder")
    if not files:
        raise EvalSetError("no eval case files (.yaml, .yml, .jsonl) found")
    return files


def _raw_cases(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"{path}: unreadable ({exc})") from None
    try:
        if path.suffix == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        data = yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise EvalSetError(f"{path}: not valid {'JSONL' if path.suffix == '.jsonl' else 'YAML'} ({exc})") from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise EvalSetError(f"{path}: expected a list of cases at the top level")
    return data


def load_cases(paths: Iterable[Path]) -> list[Case]:
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in _case_files(paths):
        for index, raw in enumerate(_raw_cases(path), start=1):
            label = raw.get("id", f"#{index}") if isinstance(raw, dict) else f"#{index}"
            if not isinstance(raw, dict):
                raise EvalSetError(f"{path}: case {label}: expected a mapping")
            try:
                case = Case(**raw, file=str(path))
            except ValidationError as exc:
                err = exc.errors()[0]
                key = ".".join(str(p) for p in err["loc"]) or "case"
                raise EvalSetError(f"{path}: case {label}: key {key!r}: {err['msg']}") from None
            if case.id in seen:
                raise EvalSetError(f"{path}: case {case.id}: key 'id': duplicate (also in {seen[case.id]})")
            seen[case.id] = str(path)
            cases.append(case)
    return cases


def gated_cases() -> list[Case]:
    """The project's regression set: the files directly in evals/ (what CI gates on)."""
    return load_cases(sorted(PROJECT_SETS.glob("*.yaml")))


def _fold(text: str) -> str:
    return " ".join(text.lower().split())


def source_rank(case: Case, answer: Answer) -> int | None:
    """1-based rank of the first citation whose quote or section holds an expected phrase."""
    phrases = [_fold(p) for p in case.expect.sources_any]
    for rank, citation in enumerate(answer.citations, start=1):
        haystack = _fold(" ".join([citation.quote, citation.section, *(a.section for a in citation.also_in)]))
        if any(p in haystack for p in phrases):
            return rank
    return None


def score(case: Case, answer: Answer) -> list[str]:
    """Every failed expectation as a readable line; an empty list means the case passed."""
    exp, failures = case.expect, []
    said = _fold(answer_text(answer))
    said_all = _fold(" ".join([answer.answer, *(v.message for v in answer.guardrails)]))
    fired = {v.rule for v in answer.guardrails}
    if exp.abstain is not None and answer.abstained != exp.abstain:
        failures.append(f"abstain: expected {str(exp.abstain).lower()}, got {str(answer.abstained).lower()}")
    if exp.sources_any and source_rank(case, answer) is None:
        cited = "; ".join(f"[{c.n}] {c.page} / {c.section}" for c in answer.citations) or "nothing"
        failures.append(f"sources_any: no citation contains any of {exp.sources_any}; cited {cited}")
    missing = [p for p in exp.includes if _fold(p) not in said]
    if missing:
        failures.append(f"includes: answer lacks {missing}")
    if exp.includes_any and not any(_fold(p) in said for p in exp.includes_any):
        failures.append(f"includes_any: answer has none of {exp.includes_any}")
    present = [p for p in exp.excludes if _fold(p) in said_all]
    if present:
        failures.append(f"excludes: answer or guardrail messages contain {present}")
    not_fired = [r for r in exp.guardrails if r not in fired]
    if not_fired:
        failures.append(f"guardrails: {not_fired} did not fire (fired: {sorted(fired) or 'none'})")
    wrongly = [r for r in exp.forbid_guardrails if r in fired]
    if wrongly:
        failures.append(f"forbid_guardrails: {wrongly} fired")
    return failures


@dataclass
class CaseResult:
    case: Case
    answer: Answer | None
    failures: list[str]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def rules_held(self) -> bool:
        """The case's rule expectations (guardrails, forbid_guardrails) held; errors count as not."""
        return not any(f.startswith(RULE_KEYS) for f in self.failures)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.case.id, "tags": self.case.tags, "passed": self.passed, "failures": self.failures,
                "question": self.case.question, "history": self.case.history,
                "expect": self.case.expect.model_dump(exclude_defaults=True),
                "result": self.answer.model_dump(mode="json") if self.answer else None}


@dataclass
class EvalRun:
    results: list[CaseResult]
    summary: dict[str, Any] = field(default_factory=dict)


class Asker(Protocol):
    def ask(self, question: str, history: list[str] | None = None) -> Answer: ...


def run_cases(chain: Asker, cases: list[Case], progress: bool = False,
              on_progress: Callable[[int, int], None] | None = None) -> EvalRun:
    results: list[CaseResult] = []
    iterator: Iterable[Case] = cases
    if progress:
        from tqdm import tqdm

        iterator = tqdm(cases, desc="eval", unit="case")
    for done, case in enumerate(iterator, start=1):
        try:
            answer: Answer | None = chain.ask(case.question, case.history)
            failures = score(case, answer)  # type: ignore[arg-type]
        except AssistantError as exc:
            answer, failures = None, [f"error: {exc}"]
        results.append(CaseResult(case, answer, failures))
        if on_progress:
            on_progress(done, len(cases))
    return EvalRun(results=results, summary=summarize(results))


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 2)


def summarize(results: list[CaseResult]) -> dict[str, Any]:
    """Metric definitions: see docs/metrics.md."""
    n = len(results)
    passed = sum(r.passed for r in results)
    by_tag: dict[str, list[bool]] = {}
    by_rule: dict[str, list[bool]] = {}
    for r in results:
        for tag in r.case.tags or ["untagged"]:
            by_tag.setdefault(tag, []).append(r.passed)
        for rule in {*r.case.expect.guardrails, *r.case.expect.forbid_guardrails}:
            by_rule.setdefault(rule, []).append(r.passed)
    ranks = [source_rank(r.case, r.answer) if r.answer else None for r in results if r.case.expect.sources_any]
    tp = fp = fn = 0
    abst = {"tp": 0, "fp": 0, "fn": 0}
    for r in results:
        fired = {v.rule for v in r.answer.guardrails} if r.answer else set()
        exp = r.case.expect
        if r.case.is_guardrail_case:
            tp += len(fired & set(exp.guardrails))
            fn += len(set(exp.guardrails) - fired)
            fp += len(fired & set(exp.forbid_guardrails))
            if exp.guardrails:  # the trainer listed the rules that apply: any other firing is extra
                fp += len(fired - set(exp.guardrails) - set(exp.forbid_guardrails))
        expected_abstain = r.case.expects_abstain
        if expected_abstain is not None and r.answer:
            if r.answer.abstained and expected_abstain:
                abst["tp"] += 1
            elif r.answer.abstained:
                abst["fp"] += 1
            elif expected_abstain:
                abst["fn"] += 1
    guard_cases = [r for r in results if r.case.is_guardrail_case]
    totals = [r.answer.timings_ms.total for r in results if r.answer]
    return {
        "cases": n, "passed": passed, "failed": n - passed, "pass_rate": _ratio(passed, n) or 0.0,
        "guardrail_cases": len(guard_cases),
        "guardrail_case_pass_rate": _ratio(sum(r.rules_held for r in guard_cases), len(guard_cases)) or 1.0,
        "guardrail_cases_fully_passed": sum(r.passed for r in guard_cases),
        "by_tag": {t: {"cases": len(v), "pass_rate": _ratio(sum(v), len(v))} for t, v in sorted(by_tag.items())},
        "by_rule": {t: {"cases": len(v), "pass_rate": _ratio(sum(v), len(v))} for t, v in sorted(by_rule.items())},
        "retrieval": {"cases": len(ranks),
                      "hit@1": _ratio(sum(1 for k in ranks if k == 1), len(ranks)),
                      "hit@3": _ratio(sum(1 for k in ranks if k and k <= 3), len(ranks)),
                      "mrr": _ratio(sum(1 / k for k in ranks if k), len(ranks))},
        "abstention": {"precision": _ratio(abst["tp"], abst["tp"] + abst["fp"]),
                       "recall": _ratio(abst["tp"], abst["tp"] + abst["fn"]), **abst},
        "guardrail": {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn), "tp": tp, "fp": fp, "fn": fn},
        "latency_ms": {"p50": _percentile(totals, 0.5), "p95": _percentile(totals, 0.95),
                       "mean": round(statistics.fmean(totals), 2) if totals else None, "all": [round(t, 2) for t in totals]},
    }
