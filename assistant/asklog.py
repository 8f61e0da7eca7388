"""The ask log: every answer an interface gave (chat, API, CLI), abstentions included, with the
sections it cited or, when it abstained, the closest ones. Knowledge health reads it: unanswered
questions, and how often each section is cited and rated (`usage`).

Interfaces record; `Chain.ask` never does (the chain stays free of side effects, and evals must not
fill the log). A log must take whatever was asked: text no database can store is cleaned, not refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select

from assistant.database import Database, asks, feedback, insert, iso, now, parse_time, storable, transaction
from assistant.models import Answer, CitationSource

Channel = Literal["chat", "api", "cli"]
CHANNELS: tuple[str, ...] = ("chat", "api", "cli")


@dataclass(frozen=True)
class AskRow:
    id: int
    created: str  # ISO 8601, UTC
    question: str
    history: list[str]
    abstained: bool
    channel: str
    sections: list[dict[str, str]]  # {"page", "section", "anchor"}: the citations, then see_also


@dataclass(frozen=True)
class SectionUsage:
    page: str
    section: str
    anchor: str
    cited: int  # answers that cited it (once per answer)
    up: int  # thumbs up / down on answers that cited it
    down: int


class AskLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, answer: Answer, history: list[str], channel: str) -> int:
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
        row = {"created": now(), "channel": channel, "question": self._fit(answer.question),
               "history": self._fit_history(history), "abstained": answer.abstained,
               "citations": _sections(answer.citations), "see_also": _sections(answer.see_also)}
        return insert(self.db, asks, row)

    def rows(self, abstained: bool | None = None, since: str | None = None, limit: int | None = None) -> list[AskRow]:
        """Newest first. `since`: an ISO time (UTC unless it names a zone); asks at or after it."""
        query = select(asks).order_by(asks.c.id.desc())
        if abstained is not None:
            query = query.where(asks.c.abstained == abstained)
        if since is not None:
            query = query.where(asks.c.created >= parse_time(since))
        if limit is not None:
            if limit < 0:
                raise ValueError(f"limit must be 0 or more, not {limit}")
            query = query.limit(limit)
        with transaction(self.db) as conn:
            found = conn.execute(query).mappings().all()
        return [AskRow(id=r["id"], created=iso(r["created"]), question=r["question"], history=r["history"],
                       abstained=bool(r["abstained"]), channel=r["channel"], sections=r["citations"] + r["see_also"])
                for r in found]

    def usage(self) -> list[SectionUsage]:
        """Per section: answers citing it, and the thumbs on rated answers citing it (most cited first)."""
        cited: Counter[tuple[str, str, str]] = Counter()
        up: Counter[tuple[str, str, str]] = Counter()
        down: Counter[tuple[str, str, str]] = Counter()
        with transaction(self.db) as conn:
            for (citations,) in conn.execute(select(asks.c.citations)):
                cited.update(_keys(citations))
            for rating, citations in conn.execute(select(feedback.c.rating, feedback.c.citations)):
                (up if rating else down).update(_keys(citations))
        keys = sorted(set(cited) | set(up) | set(down), key=lambda k: (-cited[k], -down[k], k))
        return [SectionUsage(page=k[0], section=k[1], anchor=k[2], cited=cited[k], up=up[k], down=down[k])
                for k in keys]

    def _fit(self, text: str) -> str:
        return storable(text)[: self.db.settings.max_question_chars]

    def _fit_history(self, history: Iterable[object]) -> list[str]:
        # The newest turns matter most; the oldest are dropped first when the record budget is spent.
        budget, kept = self.db.settings.max_record_chars, []
        for turn in reversed(list(history)):
            text = self._fit(str(turn))
            budget -= len(text)
            if budget < 0:
                break
            kept.append(text)
        return kept[::-1]


def _sections(sources: Iterable[CitationSource]) -> list[dict[str, str]]:
    return [{"page": s.page, "section": s.section, "anchor": s.anchor} for s in sources]


def _keys(sections: Iterable[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """Each section once per answer, however often the answer cites it."""
    return {(s.get("page", ""), s.get("section", ""), s.get("anchor", "")) for s in sections}
