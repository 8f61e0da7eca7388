"""The words the rules read: money amounts, the typo corrector (rapidfuzz against the concepts' words), state names."""

from __future__ import annotations

import pytest

from assistant.rules import default_book
from assistant.rules.slots import amounts, states
from assistant.rules.typos import MIN_CORRECTED_CHARS, prepare, tokens
from assistant.text import fold

P = pytest.param
LEXICON = default_book().lexicon
CORRECTOR = LEXICON.corrector


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
    P("hook him up with a 25 coupon", (25.0,), id="number-before-coupon"),
    P("knock sixty off the next visit", (60.0,), id="spelled-number-off"),
    P("she wants 30 back", (30.0,), id="number-back"),
    P("could we give her a twenty for the wait", (20.0,), id="banknote-slang"),
    P("is a fifty ok for the trouble", (50.0,), id="banknote-then-ok"),
    P("a ten minute hold", (), id="banknote-word-before-a-noun"),
    P("is a one-off credit ok", (), id="one-off-is-not-money"),
    P("she is asking for forty", (40.0,), id="spelled-after-an-ask"),
    P("he wants three appointments moved", (), id="spelled-count-not-money"),
    P("he's asking for fifty-ish back", (50.0,), id="approximate-spelled"),
    P("a 40ish coupon", (40.0,), id="approximate-digits"),
    P("a couple twenties as a courtesy", (40.0,), id="several-banknotes"),
    P("two tens for the trouble", (20.0,), id="several-banknotes-counted"),
    P("can i bump it to 60 without asking", (60.0,), id="raised-to"),
    P("bump it up to 2 weeks", (), id="raised-to-a-duration"),
    P("can i make it 3 payments", (), id="made-into-a-count"),
    P("split it into two $25 coupons", (50.0,), id="several-credits-total"),
    P("give the wv lady the 25 toward her next service", (25.0,), id="give-a-person-the-number"),
    P("give her the 2 options", (), id="give-the-count"),
    P("she has two 20 dollar coupons on the account", (20.0,), id="several-credits-held-are-no-ask"),
    P("she wants the 800 number for billing", (), id="the-number-without-a-recipient"),
    P("can we up it to 150 total on the plan", (), id="raised-to-a-plan-total"),
    P("sorry, 25 not 45", (25.0,), id="corrected-amount"),
    P("she has 2 not 3 violations", (), id="corrected-count-not-money"),
    P("he says 60 is fair", (60.0,), id="judged-amount"),
    P("she wants 15 more", (15.0,), id="number-more"),
    P("she wants 2 more days", (), id="number-more-days"),
    P("typo, 30 not 300", (30.0,), id="corrected-amount-typo"),
    P("it was in 2024 not 2023", (), id="years-are-no-correction"),
    P("is the courtesy cap 35 not 50?", (), id="no-correction-word-no-correction"),
    P("can i add 45 more minutes to her appt", (), id="add-more-minutes"),
])
def test_amounts(text: str, expected: tuple[float, ...]) -> None:
    assert amounts(fold(text)) == expected


@pytest.mark.parametrize("text,expected", [
    P("note the acct", "note the account", id="acct"),
    P("cx is mad", "client is mad", id="cx"),
    P("talk w/ collections", "talk with collections", id="slash-w"),
    P("w/o approval", "without approval", id="slash-wo"),
    P("whats the #", "whats the number", id="hash"),
    P("60 pct", "60 percent", id="pct"),
    P("accton cxs", "accton cxs", id="only-whole-words"),
])
def test_agents_shorthand_is_spelt_out(text: str, expected: str) -> None:
    assert " ".join(LEXICON.expand(prepare(text)).split()) == expected


@pytest.mark.parametrize("word,expected", [
    P("refnd", "refund", id="dropped-letter"),
    P("resett", "resett", id="known-by-prefix"),  # "reset*" already reads it: nothing to correct
    P("setlement", "settlement", id="settlement-one-t"),
    P("courtsey", "courtesy", id="transposed"),
    P("colections", "collection", id="long-word-two-edits"),  # read as the stem the phrases use
    P("virignia", "virginia", id="long-word-transposition"),
    P("supervsior", "supervisor", id="long-word-swap"),
    P("credt", "credit", id="short-word-one-edit"),
    P("dispt", "disput", id="stem-target"),
    P("change", "change", id="not-a-typo-real-word"),
    P("payments", "payments", id="known-plural"),
    P("temper", "temper", id="not-a-typo-near-tamper"),
    P("fee", "fee", id="short-word-untouched"),
    P("sky", "sky", id="unrelated-short"),
    P("elephant", "elephant", id="unrelated-long"),
    P("co-pay", "co-pay", id="not-alphabetic"),
    P("night", "night", id="first-letter-kept"),  # one edit from "fight", but typos keep the first letter
    P("coming", "coming", id="common-word-near-comping"),
    P("texts", "texts", id="not-a-typo-near-texas"),  # a state word is a typo target: "texts" is no state
])
def test_typo_corrector(word: str, expected: str) -> None:
    assert CORRECTOR.correct(word) == expected


def test_every_not_typo_is_one_the_corrector_would_otherwise_change() -> None:
    # A listed real word no concept word is near protects nothing: the list must not collect dead entries.
    import yaml

    from assistant.rules import DEFAULT_FOLDER

    listed = yaml.safe_load((DEFAULT_FOLDER / "concepts.yaml").read_text())["not_typos"]
    for word in listed:
        assert len(word) >= MIN_CORRECTED_CHARS and CORRECTOR.candidates(word), word


def test_negations_and_possessives_become_words_the_phrases_name() -> None:
    assert tokens(prepare("client hasn't been charged, isnt it? can't we? James Smith's number")) == [
        "client", "has", "not", "been", "charged", "is", "not", "it", "can", "not", "we", "james", "smith", "number"]


@pytest.mark.parametrize("text", ["West Virginia", "W.Va.", "w virginia", "WV", "W.V.", "west-va", "Mountain State",
                                  "west virgina", "WestVirginia"])
def test_west_virginia_spellings(text: str) -> None:
    prepared = prepare(f"client in {text} wants a credit")
    assert "WV" in states(prepared, f"client in {text} wants a credit")


@pytest.mark.parametrize("text,code", [("Virginia", "VA"), ("Virginia Beach", "VA"), ("wave", None), ("TX", "TX"),
                                       ("Ohio", "OH"), ("IN COLLECTION", None), ("ok", None)])
def test_other_places_are_not_west_virginia(text: str, code: str | None) -> None:
    found = states(prepare(f"client in {text} wants a credit"), f"client in {text} wants a credit")
    assert "WV" not in found and (code in found if code else not found)


@pytest.mark.parametrize("raw,code", [
    P("client in PA wants a credit", "PA", id="in-code"),
    P("OH client wants a credit", "OH", id="code-before-client"),
    P("she moved to OK last year", "OK", id="to-code"),
    P("OK so the client wants a credit", None, id="ok-is-a-word"),
    P("hi, cx wants a credit", None, id="hi-lower"),
    P("ME and the client went over it", None, id="me-shouted"),
    P("NOTE: CLIENT IS IN PA NOW", None, id="shouted-run"),
    P("CLIENT IS IN COLLECTION", None, id="in-shouted"),
])
def test_ambiguous_state_codes_count_only_in_a_state_like_place(raw: str, code: str | None) -> None:
    found = states(prepare(raw), raw)
    assert found == ({code} if code else set())


def test_dotted_team_names_read_as_one_word() -> None:
    assert "art" in tokens(prepare("send them to A.R.T. today"))
    assert "art" in tokens(prepare("is a.r.t open"))


@pytest.mark.parametrize("raw,expected", [
    P("she's in ohio not wv", {"OH"}, id="not-wv"),
    P("she is not in West Virginia anymore, she moved to texas", {"TX"}, id="not-in-west-virginia"),
    P("client is in wv not ohio", {"WV"}, id="the-state-negated-is-the-other"),
    P("WV client, not happy about the wait", {"WV"}, id="not-after-the-state"),
    P("isnt WV one of the states with no credits?", {"WV"}, id="isnt-is-a-question-not-a-negation"),
    P("Not in WV anymore, moved to Ohio", {"OH"}, id="negated-code-in-capitals"),
    P("isnt west virginia excluded?", {"WV"}, id="isnt-folds-to-is-not-still-a-question"),
    P("not from WV", set(), id="not-from"),
])
def test_a_state_named_after_not_is_not_one_the_client_is_in(raw: str, expected: set[str]) -> None:
    assert states(prepare(raw), raw) == expected
