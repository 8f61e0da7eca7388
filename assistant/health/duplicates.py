"""Duplicated content: a section whose text stands, nearly word for word, in a section of another
page ("Client Courtesy Credits" and "Credits – Key Points"), so the owner can keep one source.

Candidates are the topic-similar pairs (similarity.py); the decision is textual: the share of the
smaller section's word 4-grams found in the other. Similar topics in different words are not
duplicates; a copied paragraph with one word changed ("Team Members" / "Members") is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.health.sections import HealthSection
from assistant.health.similarity import Pair
from assistant.text import words

SHINGLE_WORDS = 4
MIN_SHINGLES = 8  # a one-line section ("Reset fees should NEVER be refunded.") is too short to call a copy
CONTAINED = 0.7  # share of the smaller section's 4-grams the other has


@dataclass(frozen=True)
class Duplicate:
    business: str
    page_a: str
    section_a: str
    anchor_a: str
    page_b: str
    section_b: str
    anchor_b: str
    contained: float  # share of the smaller section's text found in the other
    similarity: float
    excerpt: str  # the start of the smaller section, as written


def shingles(text: str) -> frozenset[int]:
    w = words(text)
    return frozenset(hash(tuple(w[i:i + SHINGLE_WORDS])) for i in range(max(0, len(w) - SHINGLE_WORDS + 1)))


def find_duplicates(items: Sequence[HealthSection], pairs: Sequence[Pair]) -> list[Duplicate]:
    cache: dict[int, frozenset[int]] = {}

    def of(i: int) -> frozenset[int]:
        if i not in cache:
            cache[i] = shingles(" ".join(items[i].sentences))
        return cache[i]

    found = []
    for pair in pairs:
        a, b = items[pair.a], items[pair.b]
        if a.page == b.page:
            continue
        sa, sb = of(pair.a), of(pair.b)
        smaller = min(len(sa), len(sb))
        if smaller < MIN_SHINGLES:
            continue
        contained = len(sa & sb) / smaller
        if contained < CONTAINED:
            continue
        small = a if len(sa) <= len(sb) else b
        if b.key < a.key:
            a, b = b, a
        found.append(Duplicate(a.business, a.page, a.section, a.anchor, b.page, b.section, b.anchor,
                               round(contained, 3), round(pair.similarity, 4), " ".join(small.sentences)[:240]))
    return sorted(found, key=lambda d: (-d.contained, d.page_a, d.section_a, d.page_b, d.section_b))
