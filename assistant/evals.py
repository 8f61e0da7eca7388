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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.baseline import NaiveRanks
from assistant.config import PROJECT_ROOT
from assistant.errors import AssistantError, EvalSetError
from assistant.metrics import first_rank, percentile, rank_metrics, ratio
from assistant.metrics import fold as _fold  # the name score() and the tests know it by
from assistant.models import Answer, Citation
from assistant.output_filter import scrub
from assistant.present import answer_text
from assistant.release import CaseRecord, Release, compare
from assistant.rules import rule_ids
from assistant.rules.schema import Action

RULE_KEYS = ("guardrails:", "forbid_guardrails:", "actions:", "error:")
PROJECT_SETS = PROJECT_ROOT / "evals"  # top-level files are gated in CI; held-out/ is only reported
HELD_OUT_SETS = PROJECT_SETS / "held-out"  # test data: never fit or tune on it
TRAIN_SETS = PROJECT_SETS / "train"  # training data for design choices: neither gated nor held out


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    abstain: bool | None = None
    sources_any: list[str] = Field(default_factory=list)
    includes: list[str] = Field(default_factory=list)
    includes_any: list[str] = Field(default_factory=list)
    excludes: list[str] = Field(default_factory=list)
    guardrails: list[str] = Field(default_factory=list)
    forbid_guardrails: list[str] = Field(default_factory=list)
    # The action a rule in `guardrails` must give ("credit-cap: escalate"): firing with another
    # action (a caution where an escalation was due) fails the case.
    actions: dict[str, Action] = Field(default_factory=dict)

    @field_validator("guardrails", "forbid_guardrails")
    @classmethod
    def _known_rules(cls, rules: list[str]) -> list[str]:
        known = rule_ids()
        unknown = [r for r in rules if r not in known]
        if unknown:
            raise ValueError(f"unknown rule id {unknown[0]!r} (known: {', '.join(sorted(known))})")
        return rules

    @model_validator(mode="after")
    def _actions_of_expected_rules(self) -> Expect:
        stray = [r for r in self.actions if r not in self.guardrails]
        if stray:
            raise ValueError(f"actions: {stray[0]!r} is not among the guardrails this case expects to fire")
        return self


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


def evidence_of(cases: Iterable[Case]) -> dict[str, tuple[str, list[str]]]:
    """{case id: (question, evidence phrases)}: what the naive baseline is run on."""
    return {c.id: (c.question, c.expect.sources_any) for c in cases}


def held_out_cases() -> list[Case]:
    return load_cases([HELD_OUT_SETS])


def measured_cases() -> list[Case]:
    """Every case that measures the assistant (gated and held-out), not the training sets."""
    return gated_cases() + held_out_cases()


def set_name(case: Case) -> str:
    """The case's file as reports name it: relative to evals/ for the project's own sets."""
    try:
        return str(Path(case.file).resolve().relative_to(PROJECT_SETS))
    except ValueError:
        return case.file


def citation_text(citation: Citation) -> str:
    """Where an evidence phrase may stand: the verbatim quote and the section paths it cites."""
    return " ".join([citation.quote, citation.section, *(a.section for a in citation.also_in)])


def source_rank(case: Case, answer: Answer) -> int | None:
    """1-based rank of the first citation whose quote or section holds an expected phrase.

    Phrases are compared as an agent is shown them: a quote with the banned term carries the
    redaction mark instead (output_filter), so the trainer's verbatim phrase is scrubbed the same way."""
    return first_rank((citation_text(c) for c in answer.citations), [scrub(p) for p in case.expect.sources_any])


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
    given = {v.rule: v.action for v in answer.guardrails}
    other = {r: given[r] for r, action in exp.actions.items() if r in given and given[r] != action}
    if other:
        failures.append(f"actions: {', '.join(f'{r} gave {a}, expected {exp.actions[r]}' for r, a in other.items())}")
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

    def record(self) -> CaseRecord:
        """What the release comparison pairs on (see assistant/release.py)."""
        return CaseRecord(set=set_name(self.case), passed=self.passed,
                          rank=source_rank(self.case, self.answer) if self.answer else None,
                          abstained=bool(self.answer and self.answer.abstained),
                          fired=[v.rule for v in self.answer.guardrails] if self.answer else [])

    def to_json(self) -> dict[str, Any]:
        return {"id": self.case.id, "tags": self.case.tags, "passed": self.passed, "failures": self.failures,
                "question": self.case.question, "history": self.case.history,
                "expect": self.case.expect.model_dump(exclude_defaults=True),
                "result": self.answer.model_dump(mode="json") if self.answer else None}


@dataclass
class EvalRun:
    results: list[CaseResult]
    summary: dict[str, Any] = field(default_factory=dict)
    sets: dict[str, dict[str, Any]] = field(default_factory=dict)  # set name -> the same summary, its cases only
    label: str = "all"  # the summary's name in per-set tables

    def records(self) -> dict[str, CaseRecord]:
        return {r.case.id: r.record() for r in self.results}


class Asker(Protocol):
    def ask(self, question: str, history: list[str] | None = None) -> Answer: ...


def run_cases(chain: Asker, cases: list[Case], progress: bool = False,
              on_progress: Callable[[int, int], None] | None = None, naive: NaiveRanks | None = None,
              previous: Release | None = None, label: str = "all") -> EvalRun:
    """Ask every case, score it, and summarize overall and per set (file).

    `naive`: the naive baseline's ranks for the same cases, summarized alongside ours.
    `previous`: the last release's results file, for the paired fixed / broken comparison.
    """
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
    return EvalRun(results=results, summary=summarize(results, naive, previous),
                   sets=summarize_sets(results, naive, previous), label=label)


def summarize_sets(results: list[CaseResult], naive: NaiveRanks | None = None,
                   previous: Release | None = None) -> dict[str, dict[str, Any]]:
    """`summarize` per case file, in load order: an average over sets hides the set that regressed."""
    groups: dict[str, list[CaseResult]] = {}
    for r in results:
        groups.setdefault(set_name(r.case), []).append(r)
    return {name: summarize(group, naive, previous) for name, group in groups.items()}


def summarize(results: list[CaseResult], naive: NaiveRanks | None = None,
              previous: Release | None = None) -> dict[str, Any]:
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
        fired = _fired(r)
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
    follow_ups = [r.passed for r in results if r.case.history]
    must_fire = [set(r.case.expect.guardrails) <= _fired(r) for r in results if r.case.expect.guardrails]
    wrong_firing = [bool(set(r.case.expect.forbid_guardrails) & _fired(r))
                    for r in results if r.case.expect.forbid_guardrails]
    right_action = [all(v.action == r.case.expect.actions[v.rule] for v in r.answer.guardrails
                        if v.rule in r.case.expect.actions) and set(r.case.expect.actions) <= _fired(r)
                    for r in results if r.case.expect.actions and r.answer]
    summary: dict[str, Any] = {
        "cases": n, "passed": passed, "failed": n - passed, "pass_rate": ratio(passed, n) or 0.0,
        "follow_up": {"cases": len(follow_ups), "passed": sum(follow_ups), "pass_rate": ratio(sum(follow_ups), len(follow_ups))},
        "guardrail_cases": len(guard_cases),
        "guardrail_case_pass_rate": ratio(sum(r.rules_held for r in guard_cases), len(guard_cases)) or 1.0,
        "guardrail_cases_fully_passed": sum(r.passed for r in guard_cases),
        "by_tag": {t: {"cases": len(v), "pass_rate": ratio(sum(v), len(v))} for t, v in sorted(by_tag.items())},
        "by_rule": {t: {"cases": len(v), "pass_rate": ratio(sum(v), len(v))} for t, v in sorted(by_rule.items())},
        "retrieval": rank_metrics(ranks),
        "abstention": {"precision": ratio(abst["tp"], abst["tp"] + abst["fp"]),
                       "recall": ratio(abst["tp"], abst["tp"] + abst["fn"]), **abst},
        "guardrail": {"precision": ratio(tp, tp + fp), "recall": ratio(tp, tp + fn), "tp": tp, "fp": fp, "fn": fn,
                      "must_fire": {"cases": len(must_fire), "held": sum(must_fire),
                                    "rate": ratio(sum(must_fire), len(must_fire))},
                      "wrong_firing": {"cases": len(wrong_firing), "fired": sum(wrong_firing),
                                       "rate": ratio(sum(wrong_firing), len(wrong_firing))},
                      "right_action": {"cases": len(right_action), "held": sum(right_action),
                                       "rate": ratio(sum(right_action), len(right_action))}},
        "latency_ms": {"p50": percentile(totals, 0.5), "p95": percentile(totals, 0.95),
                       "mean": round(statistics.fmean(totals), 2) if totals else None, "all": [round(t, 2) for t in totals]},
    }
    if naive is not None:
        summary["naive"] = _naive_summary(results, naive)
    if previous is not None:
        changes = compare({r.case.id: r.record() for r in results}, previous.cases)
        summary["changes"] = {"against": previous.path, "compared": n - len(changes["new"]), **changes}
    return summary


def _fired(result: CaseResult) -> set[str]:
    return {v.rule for v in result.answer.guardrails} if result.answer else set()


def _naive_summary(results: list[CaseResult], naive: NaiveRanks) -> dict[str, Any]:
    """The naive baseline on the same cases with evidence phrases: a case it was not run on counts as a miss."""
    if naive.unavailable:
        return {"unavailable": naive.unavailable}
    return {**rank_metrics([naive.ranks.get(r.case.id) for r in results if r.case.expect.sources_any]),
            "chunks": naive.chunks}
