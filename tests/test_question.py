"""The Question value: validation, follow-up detection, normalized text and search text, made once."""

from __future__ import annotations

import pytest

from assistant.errors import InvalidQuestion
from assistant.question import is_follow_up, make_question

P = pytest.param


@pytest.mark.parametrize("question,problem", [
    P("", "empty", id="empty"), P("   \n\t ", "empty", id="whitespace"), P("x" * 2001, "2001 characters", id="too-long"),
    P("credit\x00\x01", "control", id="nul"), P("bad \ufffd bytes", "control", id="replacement-char"),
])
def test_bad_questions_are_rejected(question: str, problem: str) -> None:
    with pytest.raises(InvalidQuestion, match=problem):
        make_question(question)


def test_history_turns_are_validated_too() -> None:
    with pytest.raises(InvalidQuestion, match="history turn 1"):
        make_question("and then?", ["bad\x00"])


@pytest.mark.parametrize("question,expected", [
    P("and if the client lives in West Virginia?", True, id="and-start"),
    P("what about Ohio?", True, id="what-about"),
    P("Texas?", True, id="terse"),
    P("does that apply to her?", True, id="points-back"),
    P("How do I read a CNG invoice?", False, id="self-contained"),
    P("can I give a courtesy credit to a client whose service center was closed", False, id="long-question"),
])
def test_follow_up_detection(question: str, expected: bool) -> None:
    assert is_follow_up(question) is expected


def test_with_history_the_search_text_is_the_question_in_context() -> None:
    q = make_question("and in West Virginia?", ["what is the credit limit?"])
    assert q.follow_up and q.search_text == "and in West Virginia? what is the credit limit? and in West Virginia?"
    assert q.context == "what is the credit limit ?"  # normalized: what the rules match on


def test_the_context_is_the_last_two_turns() -> None:
    q = make_question("how long does it take", ["tow got towed", "cx wants  the money back", "where is the receipt sent"])
    assert q.search_text == "how long does it take cx wants the money back where is the receipt sent how long does it take"


def test_without_history_the_question_is_searched_alone() -> None:
    q = make_question("How do I read a  CNG invoice?")
    assert not q.follow_up and q.search_text == "How do I read a CNG invoice?" and q.context == ""


def test_a_self_contained_question_does_not_widen_the_rules_context() -> None:
    q = make_question("How do I read a CNG invoice?", ["earlier"])
    assert not q.follow_up and q.context == ""


def test_normalized_form_and_amounts_are_made_once() -> None:
    q = make_question("W.Va clent wants a $20 credt", business="ignition-interlock")
    assert "westvirginia" in q.normalized and "credit" in q.normalized
    assert q.amounts == (20.0,) and q.business == "ignition-interlock"
