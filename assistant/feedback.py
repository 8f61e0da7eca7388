"""Agent feedback on answers, in the app's database (assistant/database.py).

A thumbs click is written at once (with the question, history, answer, citations and verdicts),
so nothing is lost if the page reloads; a comment typed afterwards updates the same row.
Everything is checked before it is written: a bad rating, an over-long comment or text no database
can store is one `InvalidFeedback`, never a driver error. The CSV export neutralises cells a
spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from assistant.database import Database, feedback, insert, is_storable, iso, now, storable, transaction
from assistant.errors import InvalidFeedback
from assistant.models import Answer


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    created: str
    rating: int  # 1 = thumbs up, 0 = thumbs down
    comment: str
    question: str
    history: list[str]
    answer: str
    abstained: bool
    citations: list[dict[str, Any]]
    verdicts: list[dict[str, Any]]


class FeedbackStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, answer: Answer, history: list[str], rating: int, comment: str = "") -> int:
        self._check_rating(rating)
        self._check_comment(comment)
        citations = [c.model_dump(mode="json") for c in answer.citations]
        verdicts = [v.model_dump(mode="json") for v in answer.guardrails]
        self._check_record(answer, history, citations, verdicts)
        row = {"created": now(), "rating": int(rating), "comment": comment, "question": answer.question,
               "history": list(history), "answer": answer.answer, "abstained": answer.abstained,
               "citations": citations, "verdicts": verdicts}
        return insert(self.db, feedback, row)

    def update(self, feedback_id: int, rating: int | None = None, comment: str | None = None) -> None:
        if not isinstance(feedback_id, int) or not 0 < feedback_id < 2**31:  # PostgreSQL's integer range
            raise InvalidFeedback(f"no feedback with id {feedback_id!r}")
        values: dict[str, Any] = {}
        if rating is not None:
            self._check_rating(rating)
            values["rating"] = int(rating)
        if comment is not None:
            self._check_comment(comment)
            values["comment"] = comment
        with transaction(self.db) as conn:
            # The write comes first: an SQLite transaction that reads before it writes can't wait its turn.
            if values:
                found = conn.execute(feedback.update().where(feedback.c.id == feedback_id).values(values)).rowcount
            else:
                found = len(conn.execute(select(feedback.c.id).where(feedback.c.id == feedback_id)).all())
        if not found:
            raise InvalidFeedback(f"no feedback with id {feedback_id}")

    def rows(self, rating: int | None = None, text: str = "") -> list[FeedbackRow]:
        """Newest first; `text` is a case-insensitive substring of the question, comment or answer
        (`%` and `_` match themselves)."""
        query = select(feedback).order_by(feedback.c.id.desc())
        if rating is not None:
            self._check_rating(rating)
            query = query.where(feedback.c.rating == rating)
        if text:
            needle = storable(text)
            query = query.where(or_(*(column.icontains(needle, autoescape=True)
                                      for column in (feedback.c.question, feedback.c.comment, feedback.c.answer))))
        with transaction(self.db) as conn:
            found = conn.execute(query).mappings().all()
        return [FeedbackRow(id=r["id"], created=iso(r["created"]), rating=r["rating"], comment=r["comment"],
                            question=r["question"], history=r["history"], answer=r["answer"],
                            abstained=bool(r["abstained"]), citations=r["citations"], verdicts=r["verdicts"])
                for r in found]

    @staticmethod
    def _check_rating(rating: object) -> None:
        if not isinstance(rating, int) or rating not in (0, 1):
            raise InvalidFeedback(f"rating must be 0 (thumbs down) or 1 (thumbs up), not {rating!r}")

    def _check_comment(self, comment: object) -> None:
        if not isinstance(comment, str):
            raise InvalidFeedback("comment is not text")
        limit = self.db.settings.max_comment_chars
        if len(comment) > limit:
            raise InvalidFeedback(f"comment is {len(comment)} characters long; the limit is {limit}")
        if not is_storable(comment):
            raise InvalidFeedback("comment contains a NUL character or broken Unicode (a lone surrogate)")

    def _check_record(self, answer: Answer, history: Sequence[object], citations: list[dict[str, Any]],
                      verdicts: list[dict[str, Any]]) -> None:
        if isinstance(history, str) or not all(isinstance(turn, str) for turn in history):
            raise InvalidFeedback("history must be a list of the earlier questions")
        texts = {"question": answer.question, "answer": answer.answer,
                 **{f"history turn {i + 1}": str(turn) for i, turn in enumerate(history)}}
        for label, value in texts.items():
            if not is_storable(value):
                raise InvalidFeedback(f"{label} contains a NUL character or broken Unicode (a lone surrogate)")
        size = sum(map(len, texts.values())) + len(json.dumps(citations)) + len(json.dumps(verdicts))
        limit = self.db.settings.max_record_chars
        if size > limit:
            raise InvalidFeedback(f"the answer to store is {size} characters long; the limit is {limit} "
                                  "(ASSISTANT_MAX_RECORD_CHARS)")


# OWASP "CSV injection": a cell starting with one of these is run as a formula by spreadsheet apps;
# a leading apostrophe makes it text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list[FeedbackRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "created", "rating", "comment", "question", "history", "answer", "abstained",
                     "citations", "rules"])
    for r in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in (
            r.id, r.created, "up" if r.rating else "down", r.comment, r.question, " | ".join(r.history), r.answer,
            r.abstained, "; ".join(f"{c['page']} / {c['section']}" for c in r.citations),
            "; ".join(f"{v['rule']}:{v['action']}" for v in r.verdicts))])
    return out.getvalue()
