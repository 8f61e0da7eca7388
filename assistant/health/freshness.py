"""Freshness: when each page is due for review (its `updated` date plus its `review_every`, else
the default interval in Settings), which pages are overdue, and the badge on citations from them.

`today` is always passed in: the report and the tests decide what day it is, never the clock here.
A page with no `updated` date has no due date: it is listed as never reviewed, not guessed overdue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from assistant.models import Answer, Page


@dataclass(frozen=True)
class PageFreshness:
    page: str
    page_title: str
    business: str
    owner: str | None
    updated: str | None
    review_every_days: int
    due: str | None  # ISO date; None when the page has no `updated`
    overdue_days: int  # > 0: overdue by this many days

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


def parse_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def due_date(page: Page, default_days: int) -> date | None:
    updated = parse_date(page.updated)
    return updated + timedelta(days=page.review_every_days or default_days) if updated else None


def page_freshness(pages: Sequence[Page], today: date, default_days: int) -> list[PageFreshness]:
    """Every page, most overdue first."""
    out = []
    for page in pages:
        due = due_date(page, default_days)
        out.append(PageFreshness(page.slug, page.title, page.business, page.owner, page.updated,
                                 page.review_every_days or default_days, due.isoformat() if due else None,
                                 (today - due).days if due else 0))
    return sorted(out, key=lambda f: (-f.overdue_days, f.due is not None, f.page))


def due_dates(pages: Sequence[Page], default_days: int) -> dict[str, date]:
    """Page slug -> the day its review falls due (pages with a known `updated` only)."""
    return {p.slug: due for p in pages if (due := due_date(p, default_days)) is not None}


def mark_overdue(answer: Answer, due: Mapping[str, date], today: date) -> Answer:
    """The answer with `review_overdue` set on each citation whose page is past its review date."""
    if not any(c.page in due for c in answer.citations):
        return answer
    return answer.model_copy(update={"citations": [
        c.model_copy(update={"review_overdue": c.page in due and due[c.page] < today}) for c in answer.citations]})
