"""The output filter: nothing the assistant says contains the banned term, in any spelling (properties
and a table), and ordinary text passes untouched."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant import links, output_filter, rules
from assistant.errors import InvalidQuestion
from assistant.models import Answer, Citation, CitationSource, Verdict
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


def _every_field_answer(term: str) -> Answer:
    source = CitationSource(page=f"{term}-faq", section=f"When a {term} comes up", anchor=f"when-a-{term}-comes-up")
    quote = Citation(n=1, page=f"{term}-faq", section=f"{term} talk", anchor=f"{term}-talk", page_title=f"The {term} FAQ",
                     quote=f"We should not use the term “{term}” with our clients.", also_in=[source],
                     source_url=f"https://wiki.example/{term}-faq")
    verdict = Verdict(rule=f"no-{term}", action="deny", message=f"No {term}.", citation=source)
    return Answer(question=f"can I offer a {term}?", answer=f"A {term}. [1]", abstained=False, citations=[quote],
                  guardrails=[verdict], see_also=[source])


@pytest.mark.parametrize("term", ["settlement", "Settlements", "SETTLE-MENT", "s e t t l e m e n t", "sеttlement",
                                  "ｓｅｔｔｌｅｍｅｎｔ", "se\u200bttlement", "settl3ment"])
def test_every_field_an_agent_is_shown_is_scrubbed(term: str) -> None:
    answer = output_filter.apply(links.attach(_every_field_answer(term), "http://ui"))
    dumped = answer.model_dump(mode="json")
    dumped.pop("question")
    strings: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)
        elif isinstance(value, str):
            strings.append(value)

    walk(dumped)
    leaked = [s for s in strings if BANNED in skeleton(unquote(unquote(s)))]
    assert leaked == []
    assert answer.citations[0].quote == "We should not use the term “[restricted term]” with our clients."
    assert answer.citations[0].page_title == "The [restricted term] FAQ" and answer.guardrails[0].rule == "no-[restricted term]"
    assert answer.question == f"can I offer a {term}?"  # the agent's own words, echoed as asked


@pytest.mark.parametrize("url", [
    "http://ui/page_viewer?page=x&hl=a%20settlement%20offer", "http://ui/page_viewer?page=x&hl=a+settlement+offer",
    "http://ui/page_viewer?page=x&hl=a%2520settlement", "http://ui/page_viewer?page=x&hl=%73ettlement",
    "http://ui/page_viewer?page=x&hl=%2573ettlement", "https://wiki.example/settlement-faq#settlement-talk",
    "http://ui/page_viewer?page=x&hl=SETTLEMENTS", "http://ui/page_viewer?page=x&hl=%D1%95ettlement",
], ids=["percent", "plus", "double", "encoded-letter", "double-encoded-letter", "path-fragment", "caps", "homoglyph"])
def test_links_are_scrubbed_in_decoded_form(url: str) -> None:
    clean = output_filter.scrub_url(url)
    assert BANNED not in skeleton(unquote(unquote(unquote(clean))))
    assert clean == "" or "restricted" in unquote(clean)


def test_a_link_whose_host_carries_the_term_is_dropped() -> None:
    assert output_filter.scrub_url("https://settlement.example/page") == ""


def test_the_viewer_finds_a_redacted_quote_in_the_page() -> None:
    page = "- We should not use the term “Settlement” with our clients. A settlement conversation is for ART."
    quote = output_filter.scrub("We should not use the term “Settlement” with our clients. A settlement conversation")
    found = output_filter.redacted_pattern(quote).search(page)
    assert found and found.group() == page[2:page.index(" is for")]
