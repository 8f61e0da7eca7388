"""The output filter: nothing the assistant says contains the banned term, in any spelling (properties
and a table), and ordinary text passes untouched."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import links, output_filter, rules
from assistant.errors import InvalidQuestion
from assistant.models import Answer
from assistant.output_filter import BANNED, scrub
from assistant.present import answer_text
from assistant.question import make_question

LOOKALIKE = {"e": ["e", "E", "е", "3", "é", "ｅ"], "s": ["s", "S", "5", "ѕ", "$"], "t": ["t", "T", "7", "т"],
             "l": ["l", "L", "1", "ӏ"], "m": ["m", "M", "м"], "n": ["n", "N"]}
SEPARATORS = ["", "", "", " ", "-", ".", "_", "*", "\u200b", " - ", "/"]


@st.composite
def banned_spelling(draw: st.DrawFn) -> str:
    out = []
    for ch in "settlement" + draw(st.sampled_from(["", "s"])):
        out.append(draw(st.sampled_from(LOOKALIKE.get(ch, [ch]))))
        out.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(out)


filler = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
message = st.lists(st.one_of(filler, banned_spelling()), max_size=6).map(" ".join)


def skeleton(text: str) -> str:
    """An independent oracle: letters only, folded the way a reader would read them."""
    table = str.maketrans("35$71|0€", "essllloe") | str.maketrans({"е": "e", "ѕ": "s", "т": "t", "ӏ": "l", "м": "m"})
    text = unicodedata.normalize("NFKC", text).lower().translate(table)
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if "a" <= c <= "z")


@settings(max_examples=300, deadline=None)
@given(question=message, history=st.lists(message, max_size=3), draft=message)
def test_no_input_makes_the_banned_term_appear(question: str, history: list[str], draft: str) -> None:
    # The chain's last steps on any question and any composed body (a stand-in for a future LLM's).
    try:
        asked = make_question(question, history, max_chars=10_000)
    except InvalidQuestion as exc:  # rejected input: the one line the agent sees must be clean too
        assert BANNED not in skeleton(str(exc))
        return
    answer = Answer(question=question, answer=draft, abstained=False, guardrails=rules.evaluate(asked))
    answer = output_filter.apply(links.attach(answer, "http://ui"))
    for said in [answer_text(answer), *(v.message for v in answer.guardrails)]:
        assert BANNED not in skeleton(said)


@settings(max_examples=300, deadline=None)
@given(spelling=banned_spelling(), before=filler, after=filler)
def test_scrub_catches_generated_spellings(spelling: str, before: str, after: str) -> None:
    assert BANNED not in skeleton(scrub(f"{before} {spelling} {after}"))


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="abcdefghijklmnopqrstuvwxyz .,$0123456789", max_size=80))
def test_scrub_changes_nothing_without_the_term(text: str) -> None:
    if BANNED not in skeleton(text):
        assert scrub(text) == text


@pytest.mark.parametrize("text", [
    "settlement", "Settlements", "SETTLEMENT", "settle-ment", "settle ment", "s e t t l e m e n t",
    "S.E.T.T.L.E.M.E.N.T", "s-e-t-t-l-e-m-e-n-t", "sеttlеmеnt", "settl3ment", "5ettlement",
    "se\u200bttlement", "ｓｅｔｔｌｅｍｅｎｔ", "séttlement", "a “Settlement” conversation",
])
def test_scrub_removes_every_spelling(text: str) -> None:
    out = scrub(f"Say no {text} here.")
    assert "settlement" not in "".join(ch for ch in out.lower() if ch.isalpha())
    assert out.startswith("Say no ") and out.endswith(" here.")


def test_scrub_leaves_ordinary_text_alone() -> None:
    text = "If a client would like to settle their balance in a payment plan, transfer to ART. $35 [1]"
    assert scrub(text) == text
