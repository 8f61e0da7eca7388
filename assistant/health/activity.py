"""What agents did, as the health report reads it: gap signals (abstentions from the ask log, 👎
answers from the feedback store), per-section usage counts and the trainers' resolutions.

The one place that knows the stores' row shapes; everything after it takes plain values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from assistant.config import Settings
from assistant.health.gap_queue import GapSignal, SectionRef


@dataclass(frozen=True)
class Activity:
    signals: list[GapSignal] = field(default_factory=list)
    usage: list[Any] = field(default_factory=list)  # rows with page, section, anchor, cited, up, down
    resolutions: dict[str, dict[str, str]] = field(default_factory=dict)  # question -> {kind, page, section, note}


def _refs(entries: Iterable[dict[str, Any]]) -> tuple[SectionRef, ...]:
    return tuple(SectionRef(str(e.get("page", "")), str(e.get("section", "")), str(e.get("anchor", "") or ""))
                 for e in entries if e.get("page"))


def signals_from_feedback(rows: Iterable[Any]) -> list[GapSignal]:
    """👎 answers (rows with question, rating, comment, created, citations)."""
    return [GapSignal(r.question, "abstained" if getattr(r, "abstained", False) else "thumbs_down", r.created,
                      r.comment, _refs(r.citations)) for r in rows if r.rating == 0]


def signals_from_asks(rows: Iterable[Any]) -> list[GapSignal]:
    """Abstentions from the ask log (rows with question, created, abstained, sections)."""
    return [GapSignal(r.question, "abstained", str(r.created), "", _refs(r.sections)) for r in rows if r.abstained]


def resolutions_by_question(rows: Iterable[Any]) -> dict[str, dict[str, str]]:
    """Question -> its latest resolution (rows newest first, as GapResolutions.rows gives them)."""
    latest: dict[str, dict[str, str]] = {}
    for r in rows:
        for question in r.questions:
            latest.setdefault(question.strip(), {"kind": r.kind, "page": r.page or "", "section": r.section or "",
                                                 "anchor": r.anchor or "", "note": r.note, "by": r.by})
    return latest


def read_activity(settings: Settings) -> Activity:
    """Abstentions (ask log), 👎 answers (feedback), usage and resolutions from the database."""
    from assistant.asklog import AskLog
    from assistant.database import open_database
    from assistant.feedback import FeedbackStore
    from assistant.gap_resolutions import GapResolutions

    db = open_database(settings)
    log = AskLog(db)
    # An abstention rated 👎 is already in the ask log: counted once, as an abstention.
    thumbs_down = [r for r in FeedbackStore(db).rows(rating=0) if not r.abstained]
    return Activity(signals=signals_from_asks(log.rows(abstained=True)) + signals_from_feedback(thumbs_down),
                    usage=list(log.usage()), resolutions=resolutions_by_question(GapResolutions(db).rows()))
