"""Gaps an owner must fill: sections whose content was lost in export (the importer's marker) and
pages nobody owns (no `owner` in the front matter)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.health.sections import HealthSection
from assistant.markup import GAP_MARKER
from assistant.models import Page


@dataclass(frozen=True)
class LostContent:
    page: str
    page_title: str
    section: str
    anchor: str
    marker: str  # the marker line as the page writes it
    nothing_left: bool  # the marker is all the section has


@dataclass(frozen=True)
class Unowned:
    page: str
    page_title: str
    business: str


def lost_content(items: Sequence[HealthSection]) -> list[LostContent]:
    out = []
    for s in items:
        if not s.has_gap:
            continue
        for line in s.body.splitlines():
            if line.lstrip().startswith(GAP_MARKER):
                out.append(LostContent(s.page, s.page_title, s.section, s.anchor, line.strip(), not s.sentences))
    return out


def unowned(pages: Sequence[Page]) -> list[Unowned]:
    return [Unowned(p.slug, p.title, p.business) for p in pages if not (p.owner or "").strip()]
