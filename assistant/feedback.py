"""Agent feedback on answers, stored in SQLite under the data directory.

A thumbs click is written at once (with the question, history, answer, citations and verdicts),
so nothing is lost if the page reloads; a comment typed afterwards updates the same row.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.models import Answer

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (0, 1)),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    history TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    citations TEXT NOT NULL,
    verdicts TEXT NOT NULL
)
"""
COLUMNS = ("id", "created", "rating", "comment", "question", "history", "answer", "abstained", "citations",
           "verdicts")


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
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def record(self, answer: Answer, history: list[str], rating: int, comment: str = "") -> int:
        if rating not in (0, 1):
            raise ValueError("rating must be 0 (down) or 1 (up)")
        row = (datetime.now(UTC).isoformat(timespec="seconds"), rating, comment, answer.question,
               json.dumps(history), answer.answer, int(answer.abstained),
               json.dumps([c.model_dump(mode="json") for c in answer.citations]),
               json.dumps([v.model_dump(mode="json") for v in answer.guardrails]))
        with closing(self._connect()) as db, db:
            cur = db.execute("INSERT INTO feedback (created, rating, comment, question, history, answer, abstained, "
                             "citations, verdicts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            return int(cur.lastrowid or 0)

    def update(self, feedback_id: int, rating: int | None = None, comment: str | None = None) -> None:
        with closing(self._connect()) as db, db:
            if rating is not None:
                db.execute("UPDATE feedback SET rating = ? WHERE id = ?", (rating, feedback_id))
            if comment is not None:
                db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (comment, feedback_id))

    def rows(self, rating: int | None = None, text: str = "") -> list[FeedbackRow]:
        query = f"SELECT {', '.join(COLUMNS)} FROM feedback WHERE 1=1"
        args: list[int | str] = []
        if rating is not None:
            query += " AND rating = ?"
            args.append(rating)
        if text:
            query += " AND (question LIKE ? OR comment LIKE ? OR answer LIKE ?)"
            args += [f"%{text}%"] * 3
        with closing(self._connect()) as db:
            found = db.execute(query + " ORDER BY id DESC", args).fetchall()
        return [FeedbackRow(id=r[0], created=r[1], rating=r[2], comment=r[3], question=r[4],
                            history=json.loads(r[5]), answer=r[6], abstained=bool(r[7]),
                            citations=json.loads(r[8]), verdicts=json.loads(r[9])) for r in found]


def to_csv(rows: list[FeedbackRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "created", "rating", "comment", "question", "history", "answer", "abstained",
                     "citations", "rules"])
    for r in rows:
        writer.writerow([r.id, r.created, "up" if r.rating else "down", r.comment, r.question,
                         " | ".join(r.history), r.answer, r.abstained,
                         "; ".join(f"{c['page']} / {c['section']}" for c in r.citations),
                         "; ".join(f"{v['rule']}:{v['action']}" for v in r.verdicts)])
    return out.getvalue()
