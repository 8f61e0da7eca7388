"""Property: nothing the assistant says contains the banned term, in any spelling."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import guardrails
from assistant.models import Answer, Draft

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
    text, verdicts = guardrails.apply(question, history, Draft(answer=draft, abstained=False), "http://ui")
    answer = guardrails.guard(Answer(question=question, answer=text, abstained=False, guardrails=verdicts))
    for said in [answer.answer, *(v.message for v in answer.guardrails)]:
        assert guardrails.BANNED not in skeleton(said)


@settings(max_examples=300, deadline=None)
@given(spelling=banned_spelling(), before=filler, after=filler)
def test_scrub_catches_generated_spellings(spelling: str, before: str, after: str) -> None:
    assert guardrails.BANNED not in skeleton(guardrails.scrub(f"{before} {spelling} {after}"))


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="abcdefghijklmnopqrstuvwxyz .,$0123456789", max_size=80))
def test_scrub_changes_nothing_without_the_term(text: str) -> None:
    if guardrails.BANNED not in skeleton(text):
        assert guardrails.scrub(text) == text
