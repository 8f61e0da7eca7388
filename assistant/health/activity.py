"""What agents did, as the health report reads it: gap signals (abstentions and 👎 answers),
per-section usage counts and the trainers' resolutions, from the stores under the data dir.

The one place that knows the stores' row shapes; everything after it takes plain values.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from assistant.config import Settings
from assistant.health.gap_queue import GapSignal, SectionRef
from assistant.health.usage import SectionUsage


@dataclass(frozen=True)
class Activity:
    signals: list[GapSignal] = field(default_factory=list)
    usage: list[SectionUsage] = field(default_factory=list)
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


def usage_from_feedback(rows: Iterable[Any]) -> list[SectionUsage]:
    """Per-section counts over rated answers only (used while no ask log exists)."""
    counts: dict[tuple[str, str], list[Any]] = defaultdict(lambda: ["", 0, 0, 0])
    for r in rows:
        for c in {(c["page"], c["section"]): c for c in r.citations if c.get("page")}.values():
            entry = counts[(c["page"], c["section"])]
            entry[0] = entry[0] or c.get("anchor", "")
            entry[1] += 1
            entry[2 if r.rating == 1 else 3] += 1
    return [SectionUsage(p, s, a, cited, up, down) for (p, s), (a, cited, up, down) in counts.items()]


def read_activity(settings: Settings) -> Activity:
    """Signals, usage and resolutions from the feedback store (an empty data dir is no activity)."""
    from assistant.feedback import FeedbackStore

    if not settings.feedback_db.exists():
        return Activity()
    rows = FeedbackStore(settings.feedback_db).rows()
    return Activity(signals=signals_from_feedback(rows), usage=usage_from_feedback(rows))
