"""The extractive composer on hand-made passages: units, business choice, abstention."""

from __future__ import annotations

from assistant.answer import compose, units
from assistant.models import Chunk, Passage, Source


def _passage(text: str, business: str, relevance: float, score: float = 1.0) -> Passage:
    chunk = Chunk(id=text[:8], page="p-" + business, page_title="T", business=business, section="S", anchor="s",
                  text=text)
    return Passage(chunk=chunk, sources=(Source(page=chunk.page, page_title="T", section="S", anchor="s"),),
                   score=score, relevance=relevance)


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
