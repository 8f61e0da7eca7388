"""The Question value: validation and search text, made once."""

from __future__ import annotations

import pytest

from assistant.errors import InvalidQuestion
from assistant.question import make_question

P = pytest.param


@pytest.mark.parametrize("question,problem", [
    P("", "empty", id="empty"), P("   \n\t ", "empty", id="whitespace"), P("x" * 2001, "2001 characters", id="too-long"),
    P("credit\x00\x01", "control", id="nul"), P("bad \ufffd bytes", "control", id="replacement-char"),
    P("\u200b", "empty", id="zero-width-space"), P("\ufeff\u00ad", "empty", id="bom-and-soft-hyphen"),
    P("\u3164\u2800", "empty", id="blank-letters"), P("credit \x85 $20", "control", id="c1-next-line"),
    P("credit \x9b2J", "control", id="c1-csi"), P("WV \u202ecredit", "direction", id="right-to-left-override"),
    P("credit \udcff $20?", "not valid text", id="undecodable-argv-byte"), P("\ud800", "not valid text", id="lone-surrogate"),
])
def test_bad_questions_are_rejected(question: str, problem: str) -> None:
    with pytest.raises(InvalidQuestion, match=problem):
        make_question(question)


def test_history_turns_are_validated_too() -> None:
    with pytest.raises(InvalidQuestion, match="history turn 1"):
        make_question("and then?", ["bad\x00"])


def test_with_history_the_search_text_is_the_question_in_context() -> None:
    q = make_question("and in West Virginia?", ["what is the credit limit?"])
    assert q.search_text == "and in West Virginia? what is the credit limit? and in West Virginia?"


def test_the_context_is_the_last_two_turns() -> None:
    q = make_question("how long does it take", ["tow got towed", "cx wants  the money back", "where is the receipt sent"])
    assert q.search_text == "how long does it take cx wants the money back where is the receipt sent how long does it take"


def test_without_history_the_question_is_searched_alone() -> None:
    q = make_question("How do I read a  CNG invoice?")
    assert q.search_text == "How do I read a CNG invoice?"


def test_the_question_keeps_the_turns_the_rules_read() -> None:
    # The rules read the text and the earlier turns with their own vocabulary (assistant/rules).
    q = make_question("W.Va  clent wants a $20 credt", ["earlier", "later"], business="ignition-interlock")
    assert q.text == "W.Va clent wants a $20 credt" and q.history == ("earlier", "later")
    assert q.business == "ignition-interlock"


def test_history_has_a_turn_limit() -> None:
    make_question("and then?", ["a turn"] * 50)
    with pytest.raises(InvalidQuestion, match="51 turns; the limit is 50"):
        make_question("and then?", ["a turn"] * 51)


def test_direction_marks_of_right_to_left_text_are_fine() -> None:
    assert make_question("client said \u200fשלום\u200f, credit?").text == "client said \u200fשלום\u200f, credit?"
