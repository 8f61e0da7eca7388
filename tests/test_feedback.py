"""The feedback store, on SQLite and PostgreSQL: a click is one row at once, a comment updates it,
filters and CSV export; bad input is one `InvalidFeedback`, never a driver error."""

from __future__ import annotations

import csv
import io

import pytest

from assistant.database import Database
from assistant.errors import InvalidFeedback
from assistant.fakes import fake_answer
from assistant.feedback import FeedbackStore, to_csv
from assistant.models import Answer


@pytest.fixture
def store(db: Database) -> FeedbackStore:
    return FeedbackStore(db)


def test_a_rating_is_stored_at_once_and_a_comment_updates_the_same_row(store: FeedbackStore) -> None:
    first = store.record(fake_answer("Up to $35. [1]", ["Up to $35."], rules=["credit-cap"]), ["earlier"], 0)
    store.update(first, comment="wrong section")
    [row] = store.rows()
    assert (row.id, row.rating, row.comment, row.history) == (first, 0, "wrong section", ["earlier"])
    assert row.verdicts[0]["rule"] == "credit-cap" and row.citations[0]["quote"] == "Up to $35."
    assert row.created.endswith("+00:00") and not row.abstained


def test_a_changed_rating_updates_the_row(store: FeedbackStore) -> None:
    first = store.record(fake_answer("x"), [], 1, comment="kept")
    store.update(first, rating=0)
    assert [(r.rating, r.comment) for r in store.rows()] == [(0, "kept")]


def test_rows_filter_by_rating_and_text_newest_first(store: FeedbackStore) -> None:
    up = store.record(fake_answer("tow receipts"), [], 1)
    down = store.record(fake_answer("reset fee"), [], 0, comment="missed the reset rule")
    assert [r.id for r in store.rows(rating=0)] == [down]
    assert [r.id for r in store.rows(text="reset rule")] == [down]
    assert [r.id for r in store.rows(text="TOW")] == [up]  # case-insensitive on every backend
    assert [r.id for r in store.rows()] == [down, up]


@pytest.mark.parametrize(("needle", "expected"), [
    pytest.param("100%", ["credited 100% of it"], id="percent-is-literal"),
    pytest.param("%", ["credited 100% of it"], id="lone-percent-matches-only-a-percent"),
    pytest.param("a_b", ["field a_b"], id="underscore-is-literal"),
    pytest.param("_", ["field a_b"], id="lone-underscore"),
    pytest.param("\\", ["back\\slash"], id="backslash"),
    pytest.param("/", ["the tow/reset form"], id="slash-the-escape-character"),
])
def test_search_wildcards_match_themselves(store: FeedbackStore, needle: str, expected: list[str]) -> None:
    for comment in ["credited 100% of it", "field a_b", "field axb", "back\\slash", "the tow/reset form", "plain"]:
        store.record(fake_answer("x"), [], 1, comment=comment)
    assert [r.comment for r in store.rows(text=needle)] == expected


@pytest.mark.parametrize("rating", [7, -1, 2, "1", 0.5])
def test_a_rating_other_than_up_or_down_is_refused(store: FeedbackStore, rating: object) -> None:
    first = store.record(fake_answer("x"), [], 1)
    with pytest.raises(InvalidFeedback, match="rating"):
        store.record(fake_answer("x"), [], rating)  # type: ignore[arg-type]
    with pytest.raises(InvalidFeedback, match="rating"):
        store.update(first, rating=rating)  # type: ignore[arg-type]
    assert [r.rating for r in store.rows()] == [1]


def test_a_comment_over_the_limit_is_refused_before_anything_is_written(store: FeedbackStore) -> None:
    limit = store.db.settings.max_comment_chars
    first = store.record(fake_answer("x"), [], 1, comment="c" * limit)  # the limit itself is fine
    with pytest.raises(InvalidFeedback, match=f"limit is {limit}"):
        store.record(fake_answer("y"), [], 0, comment="c" * (limit + 1))
    with pytest.raises(InvalidFeedback, match=f"limit is {limit}"):
        store.update(first, comment="c" * 50_000_000)  # the 50 MB comment from issue #16
    assert [len(r.comment) for r in store.rows()] == [limit]


@pytest.mark.parametrize("bad", [
    pytest.param("\ud800 broken", id="lone-surrogate"),
    pytest.param("nul\x00byte", id="nul"),
])
def test_text_no_database_can_store_is_invalid_feedback(store: FeedbackStore, bad: str) -> None:
    first = store.record(fake_answer("x"), [], 1)
    with pytest.raises(InvalidFeedback, match="comment"):
        store.update(first, comment=bad)
    with pytest.raises(InvalidFeedback, match="question"):
        store.record(Answer(question=bad, answer="a", abstained=False), [], 1)
    with pytest.raises(InvalidFeedback, match="history turn 2"):
        store.record(fake_answer("x"), ["fine", bad], 1)
    assert store.rows(text=bad) == []  # searching for it is no error either
    assert len(store.rows()) == 1


def test_an_answer_over_the_record_limit_is_refused(store: FeedbackStore) -> None:
    limit = store.db.settings.max_record_chars
    with pytest.raises(InvalidFeedback, match="ASSISTANT_MAX_RECORD_CHARS"):
        store.record(fake_answer("x", ["q" * limit]), [], 1)
    with pytest.raises(InvalidFeedback, match="history"):
        store.record(fake_answer("x"), "not a list", 1)  # type: ignore[arg-type]
    assert store.rows() == []


@pytest.mark.parametrize("feedback_id", [12345, 0, -3, 2**40, "1"])
def test_updating_feedback_that_does_not_exist_is_invalid_feedback(store: FeedbackStore, feedback_id: object) -> None:
    with pytest.raises(InvalidFeedback, match="no feedback with id"):
        store.update(feedback_id, comment="x")  # type: ignore[arg-type]


def test_unicode_round_trips(store: FeedbackStore) -> None:
    comment = "Ünïcödé ✓ 你好 🚗 — fine"
    store.record(fake_answer("x"), ["¿qué?"], 1, comment=comment)
    [row] = store.rows(text="你好")
    assert (row.comment, row.history) == (comment, ["¿qué?"])


def test_csv_export_has_one_line_per_row(store: FeedbackStore) -> None:
    store.record(fake_answer("Up to $35. [1]", ["Up to $35."], rules=["credit-cap"]), ["a", "b"], 1, comment="ok")
    rows = list(csv.reader(io.StringIO(to_csv(store.rows()))))
    assert rows[0][:4] == ["id", "created", "rating", "comment"]
    assert rows[1][2:6] == ["up", "ok", "q", "a | b"] and rows[1][-1] == "credit-cap:deny"


@pytest.mark.parametrize(("comment", "exported"), [
    pytest.param('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")',
                 id="equals"),
    pytest.param("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0", id="plus"),
    pytest.param("-2+3", "'-2+3", id="minus"),
    pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
    pytest.param("\t=1", "'\t=1", id="tab"),
    pytest.param("\r=1", "'\r=1", id="carriage-return"),
    pytest.param("a = b", "a = b", id="formula-character-inside-is-left-alone"),
    pytest.param("fine", "fine", id="plain"),
])
def test_csv_export_neutralises_spreadsheet_formulas(store: FeedbackStore, comment: str, exported: str) -> None:
    store.record(fake_answer("x"), [comment], 0, comment=comment)
    [header, row] = list(csv.reader(io.StringIO(to_csv(store.rows()), newline="")))
    assert row[header.index("comment")] == exported
    assert row[header.index("history")] == exported


def test_concurrent_writers_in_one_process_lose_nothing(store: FeedbackStore) -> None:
    """The chat serves several sessions from threads of one process, all on one engine."""
    from concurrent.futures import ThreadPoolExecutor

    def write(worker: int) -> list[int]:
        return [store.record(fake_answer(f"w{worker}-{i}"), [], i % 2, comment=f"w{worker}") for i in range(25)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = [i for batch in pool.map(write, range(4)) for i in batch]
    rows = store.rows()
    assert len(rows) == 100 and sorted(r.id for r in rows) == sorted(ids)
    assert sorted(r.answer for r in rows if r.comment == "w3") == sorted(f"w3-{i}" for i in range(25))
