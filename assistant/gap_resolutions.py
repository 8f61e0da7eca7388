"""Trainers' decisions on unanswered questions (knowledge health): a group of questions is either
"covered" by an existing page section (those questions then feed the question bank used for
retrieval) or "needs a page" (they stay listed for the content owner).

Stores the decisions only; grouping the questions and feeding the bank happen elsewhere. Bad input
is one `InvalidFeedback` naming the field, raised before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from assistant.database import Database, gap_resolutions, insert, is_storable, iso, now, transaction
from assistant.errors import InvalidFeedback

Kind = Literal["covered", "needs_page"]
KINDS: tuple[str, ...] = ("covered", "needs_page")
MAX_QUESTIONS = 1000  # one resolution is one group of similar questions, not the whole log
MAX_NAME_CHARS = 500  # page, section, anchor, who resolved it


@dataclass(frozen=True)
class GapResolution:
    id: int
    created: str  # ISO 8601, UTC
    kind: str  # "covered" | "needs_page"
    questions: list[str]
    page: str | None
    section: str | None
    anchor: str | None
    note: str
    by: str


class GapResolutions:
    def __init__(self, db: Database) -> None:
        self.db = db

    def resolve(self, questions: list[str], kind: Kind, page: str | None = None, anchor: str | None = None,
                section: str | None = None, note: str = "", by: str = "") -> int:
        self._check(questions, kind, page, anchor, section, note, by)
        row = {"created": now(), "kind": kind, "questions": list(questions), "page": page or None,
               "section": section or None, "anchor": anchor or None, "note": note, "resolved_by": by}
        return insert(self.db, gap_resolutions, row)

    def rows(self) -> list[GapResolution]:
        """Newest first."""
        with transaction(self.db) as conn:
            found = conn.execute(select(gap_resolutions).order_by(gap_resolutions.c.id.desc())).mappings().all()
        return [GapResolution(id=r["id"], created=iso(r["created"]), kind=r["kind"], questions=r["questions"],
                              page=r["page"], section=r["section"], anchor=r["anchor"], note=r["note"],
                              by=r["resolved_by"]) for r in found]

    def covered_questions(self) -> list[tuple[str, str, str]]:
        """(question, page, anchor) for every question whose latest resolution is "covered", oldest
        first: a later decision on the same question (another page, or "needs a page") replaces it."""
        latest: dict[str, tuple[str, str, str] | None] = {}
        for resolution in reversed(self.rows()):
            for question in resolution.questions:
                latest.pop(question, None)  # re-inserted last: the order follows the latest decision
                latest[question] = ((question, resolution.page or "", resolution.anchor or "")
                                    if resolution.kind == "covered" else None)
        return [entry for entry in latest.values() if entry is not None]

    def _check(self, questions: object, kind: object, page: object, anchor: object, section: object, note: object,
               by: object) -> None:
        if kind not in KINDS:
            raise InvalidFeedback(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if isinstance(questions, str) or not isinstance(questions, list | tuple) or not questions:
            raise InvalidFeedback("questions must be a non-empty list of questions")
        if len(questions) > MAX_QUESTIONS:
            raise InvalidFeedback(f"{len(questions)} questions in one resolution; the limit is {MAX_QUESTIONS}")
        limit = self.db.settings.max_question_chars
        for i, question in enumerate(questions):
            if not isinstance(question, str) or not question.strip():
                raise InvalidFeedback(f"question {i + 1} is empty or not text")
            if len(question) > limit:
                raise InvalidFeedback(f"question {i + 1} is {len(question)} characters long; the limit is {limit}")
        if kind == "covered" and not (isinstance(page, str) and page.strip() and isinstance(anchor, str)
                                      and anchor.strip()):
            raise InvalidFeedback("a covered question needs the page and the section anchor that cover it")
        fields = {"page": page, "anchor": anchor, "section": section, "by": by}
        for label, value in fields.items():
            if value is not None and not isinstance(value, str):
                raise InvalidFeedback(f"{label} is not text")
            if value and len(value) > MAX_NAME_CHARS:
                raise InvalidFeedback(f"{label} is {len(value)} characters long; the limit is {MAX_NAME_CHARS}")
        if not isinstance(note, str):
            raise InvalidFeedback("note is not text")
        if len(note) > self.db.settings.max_comment_chars:
            raise InvalidFeedback(f"note is {len(note)} characters long; the limit is "
                                  f"{self.db.settings.max_comment_chars}")
        texts = [*questions, note, *(v for v in fields.values() if v)]
        if not all(is_storable(t) for t in texts):
            raise InvalidFeedback("the resolution contains a NUL character or broken Unicode (a lone surrogate)")
