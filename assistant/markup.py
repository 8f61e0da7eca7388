"""The corpus pages' Markdown conventions, in one leaf module every stage can import.

Headings, section labels and anchors, the lost-content marker, list items, sentence ends and
emphasis: the importer writes these shapes, the corpus reader, the chunker, the composer, the
guardrails and the page viewer read them. Pure functions of text; imports nothing of ours.
"""

from __future__ import annotations

import re

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
LIST_ITEM = re.compile(r"^\s*-\s+")
# What the importer writes where an export lost content (a screenshot, a list): never filled in.
GAP_MARKER = "> **[Content missing in export:"
SECTION_SEPARATOR = " > "
# A sentence ends at . ! ? followed by space and a capital or digit (optionally behind an opening
# quote, parenthesis or emphasis star): "$35." ends a sentence, "e.g. the" and "3.5" do not.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“(*]*[A-Z0-9])")


def slugify(text: str) -> str:
    """A heading's anchor (and a page's slug): lower-case words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def section_label(path: tuple[str, ...]) -> str:
    """"A > B" for a heading path below the page title; the title itself when there is none."""
    return SECTION_SEPARATOR.join(path[1:]) or path[0]


def innermost_heading(label: str) -> str:
    return label.split(SECTION_SEPARATOR)[-1]


def has_gap(text: str) -> bool:
    return GAP_MARKER in text


def split_sentences(text: str) -> list[str]:
    return SENTENCE_END.split(text)


def plain(text: str) -> str:
    """Markdown markup off (list dashes, emphasis stars); the words stay as written."""
    text = LIST_ITEM.sub("", text)
    text = re.sub(r"\*{1,3}", "", text)
    return " ".join(text.split())


REVIEW_INTERVAL = re.compile(r"^\s*(\d{1,4})\s*(day|week|month|year)?s?\s*$", re.IGNORECASE)
DAYS_PER_UNIT = {"day": 1, "week": 7, "month": 30, "year": 365}


def review_days(text: str) -> int:
    """A page's `review_every` in days: "90", "90 days", "12 weeks", "6 months", "1 year"."""
    match = REVIEW_INTERVAL.match(str(text))
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a review interval (write e.g. 90 days, 12 weeks, 6 months)")
    return int(match.group(1)) * DAYS_PER_UNIT[(match.group(2) or "day").lower()]
