"""Usage: per section, how often answers cited it and the 👍/👎 its answers got.

Counts come from the ask log and the feedback store (the caller reads them); sections no answer
ever cited are listed too, with zeros: for an owner "never used" is a finding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.health.sections import HealthSection


@dataclass(frozen=True)
class SectionUsage:
    page: str
    section: str
    anchor: str
    cited: int = 0
    up: int = 0
    down: int = 0


def section_usage(counted: Iterable[Any], items: Sequence[HealthSection]) -> list[SectionUsage]:
    """Every section of the corpus with its counts (rows with page, section, anchor, cited, up,
    down), most cited first; counted sections no page has any more are kept (they were cited)."""
    by_key: dict[tuple[str, str], SectionUsage] = {}
    for row in counted:
        key = (row.page, row.section)
        old = by_key.get(key, SectionUsage(row.page, row.section, row.anchor or ""))
        by_key[key] = SectionUsage(row.page, row.section, old.anchor or row.anchor or "", old.cited + int(row.cited),
                                   old.up + int(row.up), old.down + int(row.down))
    for s in items:
        by_key.setdefault(s.key, SectionUsage(s.page, s.section, s.anchor))
    return sorted(by_key.values(), key=lambda u: (-u.cited, -u.down, u.page, u.section))
