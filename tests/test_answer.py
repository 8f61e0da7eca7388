"""The extractive composer on hand-made passages: units, business choice, abstention."""

from __future__ import annotations

import math

import pytest

from assistant.answer import RUNNER_UP_SHARE, compose, coverage, units
from assistant.models import Chunk, Passage, Source


def _passage(text: str, business: str, relevance: float, score: float = 1.0, lexical: float = 0.0,
             page: str = "") -> Passage:
    page = page or "p-" + business
    chunk = Chunk(id=text[:8], page=page, page_title="T", business=business, section="S", anchor="s",
                  text=text)
    return Passage(chunk=chunk, sources=(Source(page=chunk.page, page_title="T", section="S", anchor="s"),),
                   score=score, relevance=relevance, lexical=lexical)


def test_units_are_exact_spans() -> None:
    text = "First rule. Second rule!\n\nIntro:\n\n- item one\n- item two"
    for unit in units(text):
        assert text[unit.start:unit.end] == unit.text
    assert [u.intro for u in units(text)] == [False, False, True, False, False]


def test_the_best_passage_decides_the_business() -> None:
    # Two middling passages of business b outscore the best one of a together; a still decides.
    passages = [_passage("Email collections after a payment.", "a", 0.8, score=0.17),
                _passage("Verify the email the invoice went to.", "b", 0.7, score=0.16),
                _passage("Notes after the payment call.", "b", 0.7, score=0.15)]
    draft = compose("who do I email after a payment", passages, 0.4)
    assert {c.page for c in draft.citations} == {"p-a"}


def test_compose_abstains_below_threshold_and_keeps_one_business() -> None:
    low = [_passage("Credits are fine.", "a", 0.1)]
    assert compose("credit", low, 0.4).abstained
    mixed = [_passage("Credits up to $35 are fine.", "a", 0.8), _passage("Credits go to Ana.", "b", 0.79)]
    draft = compose("credits", mixed, 0.4)
    assert [c.page for c in draft.citations] == ["p-a"]


def test_citations_carry_the_anchor_not_a_link() -> None:
    draft = compose("credits", [_passage("Credits up to $35 are fine.", "a", 0.8)], 0.4)
    assert draft.citations[0].anchor == "s" and draft.citations[0].url == ""


# -- abstention on both retrieval signals --------------------------------------------------------------

BM25_ONE = math.e - 1  # log1p of it is 1: coverage = relevance + lexical weight
# (case, [(relevance, BM25) per passage], abstain_below, lexical weight, abstains?)
ABSTENTION = [
    pytest.param([(0.84, 0.0)], 0.85, 0.0, True, id="dense-only-under-threshold"),
    pytest.param([(0.86, 0.0)], 0.85, 0.0, False, id="dense-only-over-threshold"),
    pytest.param([(0.84, 100.0)], 0.85, 0.0, True, id="weight-0-ignores-bm25"),
    pytest.param([(0.84, BM25_ONE)], 0.85, 0.02, False, id="the-questions-words-in-the-page-rescue-it"),
    pytest.param([(0.84, BM25_ONE)], 0.87, 0.02, True, id="not-enough-words-to-rescue-it"),
    pytest.param([(0.80, 0.0)], 0.79, 0.05, False, id="bm25-never-lowers-the-score"),
    # The best of each signal counts, from different passages: the calibration measures them so.
    pytest.param([(0.84, 0.0), (0.70, BM25_ONE)], 0.85, 0.02, False, id="best-of-each-signal"),
]


@pytest.mark.parametrize(("signals", "below", "weight", "abstains"), ABSTENTION)
def test_abstention_reads_both_signals(signals: list[tuple[float, float]], below: float, weight: float,
                                       abstains: bool) -> None:
    passages = [_passage(f"Credits up to ${n + 30} are fine.", "a", r, score=1.0 - n / 10, lexical=b)
                for n, (r, b) in enumerate(signals)]
    assert compose("credits", passages, below, weight).abstained is abstains


def test_coverage_is_relevance_plus_weighted_log_bm25() -> None:
    assert coverage(0.8, BM25_ONE, 0.05) == pytest.approx(0.85)
    assert coverage(0.8, -3.0, 0.05) == 0.8


@pytest.mark.parametrize(("nearness", "weight", "abstains"), [
    pytest.param(0.95, 2.0, False, id="a-question-like-a-trainers-is-covered"),
    pytest.param(0.70, 2.0, True, id="far-from-every-bank-question-abstains"),
    pytest.param(0.70, 0.0, False, id="weight-0-ignores-the-bank"),
])
def test_abstention_reads_the_nearness_to_the_bank(nearness: float, weight: float, abstains: bool) -> None:
    passage = _passage("Credits up to $35 are fine.", "a", 0.86, score=1.0).model_copy(
        update={"bank_nearness": nearness})
    below = 0.85 + weight * 0.8  # the bank term must carry 0.8 of nearness to clear it
    assert compose("credits", [passage], below, 0.0, weight).abstained is abstains


# -- which passages the answer quotes ---------------------------------------------------------------

BEST = "Courtesy credits up to $35 are fine for a closed service center."
# Shares one word with the question, far less than the best passage's sentence: the sentence-score
# rule alone would leave it out; retrieval's score decides whether it stays.
RUNNER_UP = "Escalate anything over that to a lead. Credits need a note."
# (runner-up's fused score as a share of the top's, cited?)
RUNNER_UP_CASES = [
    pytest.param(1.0, True, id="tied"),
    pytest.param(RUNNER_UP_SHARE, True, id="at-the-share"),
    pytest.param(RUNNER_UP_SHARE - 0.05, False, id="under-the-share"),
    pytest.param(0.3, False, id="far-behind"),
]


@pytest.mark.parametrize(("share", "cited"), RUNNER_UP_CASES)
def test_the_runner_up_is_quoted_when_retrieval_scores_it_close(share: float, cited: bool) -> None:
    passages = [_passage(BEST, "a", 0.9, score=0.3, page="p1"),
                _passage(RUNNER_UP, "a", 0.9, score=0.3 * share, page="p2"),
                _passage("Credits are reviewed by CSG.", "a", 0.9, score=0.3 * share - 0.01, page="p3")]
    draft = compose("can I give courtesy credits for a closed service center", passages, 0.5)
    pages = [c.page for c in draft.citations]
    assert pages[0] == "p1" and draft.citations[0].quote == BEST
    assert ("p2" in pages) is cited
    for citation, passage in zip(draft.citations, passages, strict=False):
        if citation.page == passage.chunk.page:
            assert citation.quote in passage.chunk.text  # verbatim, never rewritten


def test_the_runner_up_of_another_business_is_never_quoted() -> None:
    passages = [_passage(BEST, "a", 0.9, score=0.3), _passage(RUNNER_UP, "b", 0.9, score=0.3)]
    assert [c.page for c in compose("courtesy credits closed service center", passages, 0.5).citations] == ["p-a"]


def test_a_later_passage_needs_coverage_of_its_own() -> None:
    # Its sentence scores as well as the best one, but retrieval found it barely relevant and
    # without the question's words: quoting it would put an out-of-scope passage in the answer.
    passages = [_passage(BEST, "a", 0.9, score=0.3, lexical=5.0, page="p1"),
                _passage("Other text.", "a", 0.9, score=0.1, page="p2"),
                _passage(BEST.replace("$35", "$36"), "a", 0.6, score=0.09, page="p3")]
    cited = [c.page for c in compose("courtesy credits closed service center", passages, 0.85, 0.02).citations]
    assert cited == ["p1"]
