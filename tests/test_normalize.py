"""Tables for the normalizer the rules read: money amounts, the typo corrector, state names."""

from __future__ import annotations

import pytest

from assistant.normalize import PROTECTED, VOCABULARY, amounts, correct, edit_distance, normalize, typo_limit
from assistant.text import fold

P = pytest.param


@pytest.mark.parametrize("text,expected", [
    P("can I give $20?", (20.0,), id="dollar-sign"),
    P("$1,250.50 owed", (1250.5,), id="thousands-and-cents"),
    P("50 dollars back", (50.0,), id="digits-dollars"),
    P("fifty bucks", (50.0,), id="words-bucks"),
    P("seventy five dollars", (75.0,), id="compound-words"),
    P("a hundred and twenty dollars", (120.0,), id="a-hundred-and"),
    P("two thousand dollars", (2000.0,), id="thousand"),
    P("credit them 40", (40.0,), id="credit-bare-number"),
    P("refund of 12.5", (12.5,), id="refund-of"),
    P("credit for 10 days", (), id="days-not-money"),
    P("waive 30 percent", (), id="percent-not-money"),
    P("usd 15", (15.0,), id="usd-prefix"),
    P("missed 2 appointments", (), id="count-not-money"),
    P("$20 or $40", (20.0, 40.0), id="two-amounts"),
])
def test_amounts(text: str, expected: tuple[float, ...]) -> None:
    assert amounts(fold(text)) == expected


@pytest.mark.parametrize("word,expected", [
    P("refnd", "refund", id="dropped-letter"),
    P("resett", "reset", id="doubled-letter"),
    P("setlement", "settlement", id="settlement-one-t"),
    P("courtsey", "courtesy", id="transposed"),
    P("colections", "collections", id="long-word-one-typo"),
    P("virignia", "virginia", id="long-word-transposition"),
    P("supervsior", "supervisor", id="long-word-two-edits"),
    P("change", "change", id="protected-real-word"),
    P("payments", "payments", id="protected-plural"),
    P("temper", "temper", id="protected-near-tamper"),
    P("fee", "fee", id="short-word-untouched"),
    P("sky", "sky", id="unrelated-short"),
    P("elephant", "elephant", id="unrelated-long"),
    P("co-pay", "co-pay", id="not-alphabetic"),
])
def test_typo_corrector(word: str, expected: str) -> None:
    assert correct(word) == expected


def test_every_protected_word_is_one_the_corrector_would_otherwise_change() -> None:
    # A protected word no vocabulary word is near protects nothing: the list must not collect dead entries.
    for word in PROTECTED:
        limit = typo_limit(word)
        assert word not in VOCABULARY
        assert any(edit_distance(word, v, limit) <= limit for v in VOCABULARY), word


@pytest.mark.parametrize("text", ["West Virginia", "W.Va.", "w virginia", "WV", "W.V.", "west-va", "Mountain State"])
def test_west_virginia_spellings_become_one_word(text: str) -> None:
    assert "westvirginia" in normalize(f"client in {text} wants a credit").text


@pytest.mark.parametrize("text", ["Virginia", "Virginia Beach", "wave"])
def test_other_places_are_not_west_virginia(text: str) -> None:
    assert "westvirginia" not in normalize(f"client in {text} wants a credit").text


def test_dotted_team_names_read_as_one_word() -> None:
    assert "art" in normalize("send them to A.R.T. today").text.split()
    assert "art" in normalize("is a.r.t open").text.split()
