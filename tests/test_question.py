"""The Question value: validation, follow-up detection and search text, made once."""

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


def test_a_follow_up_is_searched_with_the_turn_before() -> None:
    q = make_question("and in West Virginia?", ["what is the credit limit?"])
    assert q.follow_up and q.search_text == "and in West Virginia? what is the credit limit? and in West Virginia?"


def test_a_self_contained_question_ignores_history() -> None:
    q = make_question("How do I read a  CNG invoice?", ["earlier"])
    assert not q.follow_up and q.search_text == "How do I read a CNG invoice?"


def test_the_question_keeps_the_turns_the_rules_read() -> None:
    # The rules read the text and the earlier turns with their own vocabulary (assistant/rules).
    q = make_question("W.Va  clent wants a $20 credt", ["earlier", "later"], business="ignition-interlock")
    assert q.text == "W.Va clent wants a $20 credt" and q.history == ("earlier", "later")
    assert q.business == "ignition-interlock"
