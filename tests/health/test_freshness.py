"""Freshness: review intervals from front matter, due dates, the overdue flag on citations."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.corpus import parse_page
from assistant.errors import CorpusError
from assistant.health.freshness import due_dates, mark_overdue, page_freshness
from assistant.markup import review_days
from assistant.models import Answer, Citation, Page


@pytest.mark.parametrize("text,days", [("90", 90), ("90 days", 90), ("12 weeks", 84), ("6 months", 180),
                                       ("1 year", 365), (" 30 Days ", 30)])
def test_review_interval_shapes(text: str, days: int) -> None:
    assert review_days(text) == days


@pytest.mark.parametrize("text", ["soon", "0 days", "90 fortnights", "-5"])
def test_bad_review_interval_is_a_corpus_error_naming_the_field(tmp_path: Path, text: str) -> None:
    path = tmp_path / "p.md"
    path.write_text(f"---\ntitle: P\nslug: p\nsource: x\nbusiness: b\nreview_every: {text}\n---\n# P\n\ntext\n")
    with pytest.raises(CorpusError, match="review_every"):
        parse_page(path)


def page(slug: str, updated: str | None, review_every: str | None = None, owner: str | None = None) -> Page:
    return Page(slug=slug, title=slug.title(), business="b", source="x", updated=updated, review_every=review_every,
                owner=owner, body="# x\n")


def test_due_dates_and_overdue_use_the_page_interval_else_the_default() -> None:
    pages = [page("old", "2026-01-01"), page("weekly", "2026-11-01", "7 days", owner="Ops"), page("fresh", "2026-11-20"),
             page("unknown", None)]
    rows = {f.page: f for f in page_freshness(pages, date(2026, 11, 26), default_days=90)}
    assert rows["old"].due == "2026-04-01" and rows["old"].overdue_days == 239
    assert rows["weekly"].due == "2026-11-08" and rows["weekly"].overdue and rows["weekly"].owner == "Ops"
    assert not rows["fresh"].overdue and rows["fresh"].due == "2027-02-18"
    assert rows["unknown"].due is None and not rows["unknown"].overdue
    assert [f.page for f in page_freshness(pages, date(2026, 11, 26), 90)][:2] == ["old", "weekly"]


def test_citations_from_an_overdue_page_carry_the_flag() -> None:
    answer = Answer(question="q", answer="a [1] [2]", abstained=False, citations=[
        Citation(n=1, page="old", section="S", quote="x"), Citation(n=2, page="fresh", section="S", quote="y")])
    due = due_dates([page("old", "2026-01-01"), page("fresh", "2026-11-20")], 90)
    marked = mark_overdue(answer, due, date(2026, 11, 26))
    assert [c.review_overdue for c in marked.citations] == [True, False]
    assert '"review_overdue":true' in marked.model_dump_json()
    assert [c.review_overdue for c in mark_overdue(answer, due, date(2026, 1, 2)).citations] == [False, False]
