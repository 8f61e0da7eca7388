"""Trainers' gap resolutions, on SQLite and PostgreSQL: "covered by page X § Y" feeds the question
bank, "needs a page" stays listed; the latest decision on a question wins; bad input is refused."""

from __future__ import annotations

import pytest

from assistant.database import Database
from assistant.errors import InvalidFeedback
from assistant.gap_resolutions import GapResolutions


@pytest.fixture
def gaps(db: Database) -> GapResolutions:
    return GapResolutions(db)


def test_a_covered_group_is_stored_and_feeds_the_question_bank(gaps: GapResolutions) -> None:
    first = gaps.resolve(["can I credit a tow?", "tow credit?"], "covered", page="credits", anchor="tow",
                         section="Tow > Receipts", note="same as the tow rule", by="trainer-1")
    [row] = gaps.rows()
    assert (row.id, row.kind, row.questions, row.page, row.section, row.anchor, row.note, row.by) == (
        first, "covered", ["can I credit a tow?", "tow credit?"], "credits", "Tow > Receipts", "tow",
        "same as the tow rule", "trainer-1")
    assert row.created.endswith("+00:00")
    assert gaps.covered_questions() == [("can I credit a tow?", "credits", "tow"), ("tow credit?", "credits", "tow")]


def test_needs_a_page_stays_out_of_the_question_bank(gaps: GapResolutions) -> None:
    gaps.resolve(["lasagna recipe?"], "needs_page", note="no page on food")
    [row] = gaps.rows()
    assert (row.kind, row.page, row.anchor) == ("needs_page", None, None)
    assert gaps.covered_questions() == []


def test_the_latest_decision_on_a_question_wins(gaps: GapResolutions) -> None:
    gaps.resolve(["a?", "b?"], "covered", page="p1", anchor="x")
    gaps.resolve(["a?"], "needs_page")
    gaps.resolve(["b?"], "covered", page="p2", anchor="y")
    gaps.resolve(["c?"], "covered", page="p3", anchor="z")
    assert gaps.covered_questions() == [("b?", "p2", "y"), ("c?", "p3", "z")]
    assert [r.kind for r in gaps.rows()] == ["covered", "covered", "needs_page", "covered"]  # newest first


@pytest.mark.parametrize(("kwargs", "message"), [
    pytest.param({"questions": ["q"], "kind": "covered"}, "page and the section anchor", id="covered-without-page"),
    pytest.param({"questions": ["q"], "kind": "covered", "page": "p"}, "anchor", id="covered-without-anchor"),
    pytest.param({"questions": ["q"], "kind": "maybe"}, "kind", id="unknown-kind"),
    pytest.param({"questions": [], "kind": "needs_page"}, "non-empty list", id="no-questions"),
    pytest.param({"questions": "q", "kind": "needs_page"}, "non-empty list", id="a-string-not-a-list"),
    pytest.param({"questions": ["  "], "kind": "needs_page"}, "question 1 is empty", id="blank-question"),
    pytest.param({"questions": ["q", "x" * 2001], "kind": "needs_page"}, "question 2 is 2001", id="long-question"),
    pytest.param({"questions": ["q\ud800"], "kind": "needs_page"}, "surrogate", id="lone-surrogate"),
    pytest.param({"questions": ["q"], "kind": "needs_page", "note": "\x00"}, "NUL", id="nul-in-note"),
    pytest.param({"questions": ["q"], "kind": "needs_page", "note": "n" * 2001}, "note is 2001", id="long-note"),
    pytest.param({"questions": ["q"], "kind": "needs_page", "by": "b" * 501}, "by is 501", id="long-name"),
    pytest.param({"questions": ["q"] * 1001, "kind": "needs_page"}, "1001 questions", id="too-many"),
])
def test_bad_resolutions_are_invalid_feedback_and_nothing_is_written(gaps: GapResolutions, kwargs: dict[str, object],
                                                                       message: str) -> None:
    with pytest.raises(InvalidFeedback, match=message):
        gaps.resolve(**kwargs)  # type: ignore[arg-type]
    assert gaps.rows() == []
