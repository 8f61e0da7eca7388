"""Choosing the abstention rule from scored training cases (the pure part of assistant.calibration)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from assistant.calibration import (
    Scored,
    calibration_cases,
    errors,
    fit,
    fit_weights,
    pick_threshold,
    training_cases,
)
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


# -- two signals: the lexical weight (logistic regression) and the threshold on the combined score ---

def two_signal(inside: list[tuple[float, float]], outside: list[tuple[float, float]]) -> list[Scored]:
    """(dense relevance, BM25) pairs, in scope and out of scope."""
    return ([Scored(f"in-{n}", True, r, b) for n, (r, b) in enumerate(inside)]
            + [Scored(f"out-{n}", False, r, b) for n, (r, b) in enumerate(outside)])


# Dense relevance alone overlaps (0.84-0.86 on both sides); the questions' own words in the pages
# (BM25) separate them: the fitted weight must be positive and the combined score must need fewer
# wrong calls than the dense relevance alone.
OVERLAPPING_DENSE = two_signal(
    inside=[(0.84, 6.0), (0.85, 5.0), (0.86, 7.0), (0.90, 4.0), (0.93, 8.0), (0.95, 6.0)],
    outside=[(0.80, 1.0), (0.84, 1.5), (0.85, 0.5), (0.86, 1.0), (0.82, 0.0)])
# BM25 says nothing here (the same for every case): the weight must not invent a signal.
LEXICAL_FLAT = two_signal(inside=[(0.86, 3.0), (0.90, 3.0), (0.95, 3.0)], outside=[(0.80, 3.0), (0.83, 3.0)])
# More BM25 goes with *out* of scope here: a negative weight would reward missing words, so none.
LEXICAL_BACKWARDS = two_signal(inside=[(0.88, 0.5), (0.90, 1.0), (0.92, 0.2)],
                               outside=[(0.80, 6.0), (0.84, 5.0), (0.86, 7.0)])


@pytest.mark.parametrize(("cases", "positive"), [
    pytest.param(OVERLAPPING_DENSE, True, id="bm25-separates-what-dense-cannot"),
    pytest.param(LEXICAL_FLAT, False, id="flat-bm25-gets-no-weight"),
    pytest.param(LEXICAL_BACKWARDS, False, id="backwards-bm25-gets-no-weight"),
])
def test_the_lexical_weight_is_fitted_and_never_negative(cases: list[Scored], positive: bool) -> None:
    weight, _ = fit_weights(cases, bank=False)
    assert (weight > 0) is positive and weight >= 0


def three_signal(inside: list[tuple[float, float, float]], outside: list[tuple[float, float, float]]) -> list[Scored]:
    """(dense relevance, BM25, bank nearness) triples, in scope and out of scope."""
    return ([Scored(f"in-{n}", True, r, b, q) for n, (r, b, q) in enumerate(inside)]
            + [Scored(f"out-{n}", False, r, b, q) for n, (r, b, q) in enumerate(outside)])


# Dense and BM25 overlap; only the nearness to the bank questions separates.
BANK_SEPARATES = three_signal(
    inside=[(0.84, 2.0, 0.92), (0.85, 1.0, 0.95), (0.86, 1.5, 0.90), (0.83, 1.0, 0.93), (0.88, 2.0, 0.91)],
    outside=[(0.85, 1.5, 0.80), (0.84, 2.0, 0.78), (0.86, 1.0, 0.82), (0.83, 1.5, 0.79)])
# Nearness goes with *out* of scope: never a negative weight (it is dropped, the rest refitted).
BANK_BACKWARDS = three_signal(
    inside=[(0.90, 2.0, 0.80), (0.92, 3.0, 0.78), (0.91, 2.5, 0.79)],
    outside=[(0.82, 0.5, 0.95), (0.83, 0.0, 0.93), (0.81, 1.0, 0.94)])


@pytest.mark.parametrize(("cases", "positive"), [
    pytest.param(BANK_SEPARATES, True, id="nearness-separates-what-dense-and-bm25-cannot"),
    pytest.param(BANK_BACKWARDS, False, id="backwards-nearness-gets-no-weight"),
])
def test_the_bank_weight_is_fitted_and_never_negative(cases: list[Scored], positive: bool) -> None:
    _, weight = fit_weights(cases)
    assert (weight > 0) is positive and weight >= 0


def test_the_three_signal_score_beats_two_when_the_bank_separates() -> None:
    chosen, two = fit(BANK_SEPARATES), fit(BANK_SEPARATES, bank=False)
    assert chosen.bank_weight > 0 and chosen.errors == 0 < two.errors
    assert errors(BANK_SEPARATES, chosen.value, chosen.lexical_weight, chosen.bank_weight) == 0


def test_the_combined_score_beats_dense_alone_when_bm25_separates() -> None:
    chosen = fit(OVERLAPPING_DENSE)
    dense_only = pick_threshold(OVERLAPPING_DENSE)
    assert chosen.lexical_weight > 0 and chosen.errors == 0 < dense_only.errors
    # The threshold sits in the gap of the combined scores, so errors() agrees with the choice.
    assert errors(OVERLAPPING_DENSE, chosen.value, chosen.lexical_weight) == 0
    assert chosen.gap[0] < chosen.value <= chosen.gap[1]


def test_coverage_adds_the_damped_bm25_score_to_the_relevance() -> None:
    case = Scored("c", True, 0.8, math.e - 1)
    assert case.coverage(0.0) == 0.8
    assert case.coverage(0.05) == pytest.approx(0.85)  # log1p(e - 1) = 1
    assert Scored("neg", True, 0.8, -2.0).coverage(0.05) == 0.8  # BM25 below zero counts as none
    assert Scored("near", True, 0.8, 0.0, 0.9).coverage(0.0, 2.0) == pytest.approx(2.6)  # + 2 * nearness


def test_the_fit_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both"):
        fit_weights(two_signal([(0.9, 1.0)], []))


def test_training_cases_are_the_gated_and_training_sets_never_held_out() -> None:
    files = {Path(c.file).resolve().parent.name for c in training_cases()}
    assert files == {"evals", "train"}
