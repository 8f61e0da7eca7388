"""Concepts: the small phrase syntax, `unless`, and the slots code fills (fractions, states, the banned term)."""

from __future__ import annotations

import pytest

from assistant.rules.concepts import Lexicon, compile_phrase, match_at
from assistant.rules.schema import ConceptFile
from assistant.rules.slots import fractions, read_slots
from assistant.rules.typos import prepare

P = pytest.param


@pytest.mark.parametrize("phrase,words,matches", [
    P("refund*", "refunded", True, id="prefix"),
    P("refund", "refunded", False, id="word-is-exact"),
    P("give|send ... back", "send the fee back", True, id="alternatives-and-gap"),
    P("give ... back", "give a b c d e back", False, id="gap-is-at-most-four-words"),
    P("take {number} to close", "take $500 to close", True, id="number-money"),
    P("take {number} to close", "take half to close", True, id="number-word"),
    P("take {number} to close", "take it to close", False, id="number-not-a-word"),
])
def test_phrase_syntax(phrase: str, words: str, matches: bool) -> None:
    assert (match_at(compile_phrase(phrase), words.split(), 0) is not None) is matches


def test_unless_blocks_only_matches_inside_it() -> None:
    lexicon = Lexicon(ConceptFile.model_validate(
        {"concepts": {"credit": {"phrases": ["credit*"], "unless": ["credit card*"]}}}))
    assert lexicon.find("pay with a credit card".split()) == frozenset()
    assert lexicon.find("a credit for the credit card fee".split()) == {"credit"}


@pytest.mark.parametrize("text,expected", [
    P("pay 70 percent of the balance", (0.7,), id="percent-word"),
    P("pay 70% and close", (0.7,), id="percent-sign"),
    P("seventy percent", (0.7,), id="spelled-percent"),
    P("half of what she owes", (0.5,), id="half"),
    P("two thirds today", (2 / 3,), id="two-thirds"),
    P("$70 credit", (), id="money-is-not-a-fraction"),
    P("three fourths of it", (0.75,), id="three-fourths"),
    P("a fifth of the debt", (0.2,), id="a-fifth"),
    P("40 cents on the dollar", (0.4,), id="cents-on-the-dollar"),
    P("80 pct", (0.8,), id="pct"),
])
def test_fractions(text: str, expected: tuple[float, ...]) -> None:
    assert fractions(prepare(text)) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["settlement", "s e t t l e m e n t", "sеttlement", "SETTLE-MENT"])
def test_the_banned_term_slot_catches_what_the_output_filter_catches(text: str) -> None:
    assert read_slots(text, prepare(text), prepare(text)).banned_term
