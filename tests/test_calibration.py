"""Choosing the abstention threshold from scored gated cases (the pure part of assistant.calibration)."""

from __future__ import annotations

import pytest

from assistant.calibration import Scored, calibration_cases, pick_threshold
from assistant.evals import Case, Expect, gated_cases


def scored(inside: list[float], outside: list[float]) -> list[Scored]:
    return ([Scored(f"in-{n}", True, r) for n, r in enumerate(inside)]
            + [Scored(f"out-{n}", False, r) for n, r in enumerate(outside)])


def test_separable_scores_get_the_middle_of_the_gap() -> None:
    chosen = pick_threshold(scored([0.6, 0.7, 0.9], [0.1, 0.2, 0.4]))
    assert chosen.value == 0.5 and chosen.errors == 0 and chosen.gap == (0.4, 0.6)


def test_overlap_takes_the_fewest_wrong_calls_then_the_widest_gap() -> None:
    # One outlier out of scope at 0.62: answering it (1 wrong call, gap 0.30-0.55) beats abstaining on
    # 0.55 and 0.60 to catch it (2 wrong calls), and the wide gap beats the 0.60-0.62 sliver.
    chosen = pick_threshold(scored([0.55, 0.60, 0.8, 0.9], [0.1, 0.3, 0.62]))
    assert chosen.errors == 1 and chosen.gap == (0.3, 0.55) and chosen.value == 0.43


def test_balanced_accuracy_weighs_the_rare_class_more() -> None:
    cases = scored([0.55, 0.8, 0.85, 0.9, 0.95], [0.1, 0.56])
    assert pick_threshold(cases).gap == (0.1, 0.55)  # fewest wrong calls: answer the 0.56 outlier
    balanced = pick_threshold(cases, balanced=True)
    assert balanced.gap == (0.56, 0.8) and balanced.value == 0.68  # catch it, lose one of five in scope


def test_the_threshold_stays_inside_a_narrow_gap() -> None:
    chosen = pick_threshold(scored([0.8567, 0.9], [0.8486, 0.5]))
    assert 0.8486 < chosen.value <= 0.8567 and chosen.errors == 0


def test_one_class_alone_cannot_be_calibrated() -> None:
    with pytest.raises(ValueError, match="both"):
        pick_threshold(scored([0.5, 0.6], []))


def test_only_cases_with_a_stated_scope_count_and_only_gated_ones() -> None:
    cases = [Case(id="oos", question="q", expect=Expect(abstain=True)),
             Case(id="evidence", question="q", expect=Expect(sources_any=["x"])),
             Case(id="rule-only", question="q", expect=Expect(guardrails=["wv-no-credit"]))]
    assert [(c.id, in_scope) for c, in_scope in calibration_cases(cases)] == [("oos", False), ("evidence", True)]
    files = {c.file for c in gated_cases()}
    assert files and not any("held-out" in f for f in files)
