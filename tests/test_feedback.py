"""The feedback store: a click is one row at once, a comment updates it, filters and CSV export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from assistant.fakes import fake_answer
from assistant.feedback import FeedbackStore, to_csv


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "nested" / "feedback.sqlite3")


def test_a_rating_is_stored_at_once_and_a_comment_updates_the_same_row(store: FeedbackStore) -> None:
    first = store.record(fake_answer("Up to $35. [1]", ["Up to $35."], rules=["credit-cap"]), ["earlier"], 0)
    store.update(first, comment="wrong section")
    [row] = store.rows()
    assert (row.id, row.rating, row.comment, row.history) == (first, 0, "wrong section", ["earlier"])
    assert row.verdicts[0]["rule"] == "credit-cap" and row.citations[0]["quote"] == "Up to $35."


def test_rows_filter_by_rating_and_text(store: FeedbackStore) -> None:
    store.record(fake_answer("tow receipts"), [], 1)
    down = store.record(fake_answer("reset fee"), [], 0, comment="missed the reset rule")
    assert [r.id for r in store.rows(rating=0)] == [down]
    assert [r.id for r in store.rows(text="reset rule")] == [down]
    assert len(store.rows()) == 2


def test_a_rating_other_than_up_or_down_is_refused(store: FeedbackStore) -> None:
    with pytest.raises(ValueError, match="rating"):
        store.record(fake_answer("x"), [], 7)


def test_csv_export_has_one_line_per_row(store: FeedbackStore) -> None:
    store.record(fake_answer("Up to $35. [1]", ["Up to $35."], rules=["credit-cap"]), ["a", "b"], 1, comment="ok")
    rows = list(csv.reader(io.StringIO(to_csv(store.rows()))))
    assert rows[0][:4] == ["id", "created", "rating", "comment"]
    assert rows[1][2:6] == ["up", "ok", "q", "a | b"] and rows[1][-1] == "credit-cap:deny"
