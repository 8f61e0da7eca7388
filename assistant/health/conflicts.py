"""Conflicting facts: two sections of the same business, about the same topic, stating different
values of the same kind in sentences about the same thing; and probable typos of identifiers.

A conflict needs all three: the sections are similar (similarity.py), the two sentences share
most of their words once the values are taken out (so "$100 deductible" and "$100 recovery fee"
are not compared), and their value sets differ. An identifier (e-mail, team name) within a small
edit distance of a more common one in the same business is a probable typo of it: it is reported
as such and compared under the common spelling, so a typo never reads as a second conflict.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA

from assistant.health.facts import Fact
from assistant.health.sections import HealthSection
from assistant.health.similarity import Pair
from assistant.text import tokens

# Share of the shorter sentence's content words the other sentence must have (values out).
SAME_SUBJECT = {"email": 0.5, "phone": 0.5, "fax": 0.5, "money": 0.5, "duration": 0.5, "team": 0.6}
# ...and at least this many of them: two words in common ("email", "client") is a coincidence.
SAME_SUBJECT_WORDS = 3
TYPO_KINDS = frozenset({"email", "team"})
TYPO_MAX_EDITS = 2  # transpositions count as one ("lmgholdigns")
TYPO_MIN_CHARS = 6  # shorter names differ by two letters without being misspellings


@dataclass(frozen=True)
class Quote:
    page: str
    page_title: str
    section: str
    anchor: str
    sentence: str
    written: str = ""


@dataclass(frozen=True)
class Conflict:
    kind: str
    business: str
    similarity: float
    a: Quote  # the first section (its page sorts first)
    b: Quote
    a_values: tuple[str, ...]
    b_values: tuple[str, ...]
    a_quotes: tuple[str, ...] = field(default=())  # every sentence of the section stating its values
    b_quotes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Typo:
    kind: str
    business: str
    value: str  # as misspelled
    likely: str  # the spelling used elsewhere
    edits: int
    where: Quote
    likely_count: int  # how often the likely spelling is stated in this business


def _quote(s: HealthSection, sentence: str, written: str = "") -> Quote:
    return Quote(s.page, s.page_title, s.section, s.anchor, sentence, written)


def find_typos(items: Sequence[HealthSection]) -> tuple[list[Typo], dict[tuple[str, str, str], str]]:
    """Probable typos, and the map (business, kind, misspelled value) -> likely value."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for s in items:
        for f in s.facts:
            if f.kind in TYPO_KINDS:
                counts[(s.business, f.kind)][f.value] += 1
    likely: dict[tuple[str, str, str], tuple[str, int]] = {}
    for (business, kind), counter in counts.items():
        values = sorted(counter, key=lambda v: (-counter[v], v))  # most stated first: the reference spelling
        for n, value in enumerate(values):
            if len(value) < TYPO_MIN_CHARS:
                continue
            for reference in values[:n]:
                if counter[reference] < counter[value] or len(reference) < TYPO_MIN_CHARS:
                    continue
                edits = OSA.distance(value, reference, score_cutoff=TYPO_MAX_EDITS)
                if 0 < edits <= TYPO_MAX_EDITS and (business, kind, reference) not in likely:
                    likely[(business, kind, value)] = (reference, edits)
                    break
    typos = []
    for s in items:
        for f in s.facts:
            if (hit := likely.get((s.business, f.kind, f.value))) is not None:
                typos.append(Typo(f.kind, s.business, f.value, hit[0], hit[1], _quote(s, f.sentence, f.written),
                                  counts[(s.business, f.kind)][hit[0]]))
    return typos, {key: ref for key, (ref, _) in likely.items()}


@dataclass(frozen=True)
class _Statement:
    sentence: str
    values: frozenset[str]
    subject: frozenset[str]  # content words with the values taken out


def _statements(s: HealthSection, canonical: dict[tuple[str, str, str], str]) -> dict[str, list[_Statement]]:
    grouped: dict[tuple[str, str], list[Fact]] = defaultdict(list)
    for f in s.facts:
        grouped[(f.kind, f.sentence)].append(f)
    written_in: dict[str, list[str]] = defaultdict(list)
    for f in s.facts:
        written_in[f.sentence].append(f.written)
    out: dict[str, list[_Statement]] = defaultdict(list)
    for (kind, sentence), facts in grouped.items():
        text = sentence
        for written in written_in[sentence]:  # every value out, of any kind: what is left is the subject
            text = text.replace(written, " ")
        values = frozenset(canonical.get((s.business, kind, f.value), f.value) for f in facts)
        out[kind].append(_Statement(sentence, values, frozenset(tokens(text))))
    return out


def _same_subject(a: frozenset[str], b: frozenset[str], kind: str) -> bool:
    shared = len(a & b)
    return shared >= SAME_SUBJECT_WORDS and shared / min(len(a), len(b)) >= SAME_SUBJECT[kind]


def find_conflicts(items: Sequence[HealthSection], pairs: Sequence[Pair],
                   canonical: dict[tuple[str, str, str], str]) -> list[Conflict]:
    statements: dict[int, dict[str, list[_Statement]]] = {}

    def of(i: int) -> dict[str, list[_Statement]]:
        if i not in statements:
            statements[i] = _statements(items[i], canonical)
        return statements[i]

    conflicts = []
    for pair in pairs:
        ia, ib = pair.a, pair.b
        if items[ib].key < items[ia].key:
            ia, ib = ib, ia
        sa, sb = items[ia], items[ib]
        if sa.business != sb.business or not sa.facts or not sb.facts:
            continue
        stated_a, stated_b = of(ia), of(ib)
        for kind in sorted(set(stated_a) & set(stated_b)):
            hits = [(x, y) for x in stated_a[kind] for y in stated_b[kind]
                    if x.values != y.values and _same_subject(x.subject, y.subject, kind)]
            if not hits:
                continue
            quotes_a = tuple(dict.fromkeys(x.sentence for x, _ in hits))
            quotes_b = tuple(dict.fromkeys(y.sentence for _, y in hits))
            values_a = tuple(sorted(set().union(*(x.values for x, _ in hits))))
            values_b = tuple(sorted(set().union(*(y.values for _, y in hits))))
            if values_a == values_b:
                continue
            conflicts.append(Conflict(kind, sa.business, round(pair.similarity, 4), _quote(sa, quotes_a[0]),
                                      _quote(sb, quotes_b[0]), values_a, values_b, quotes_a, quotes_b))
    return sorted(conflicts, key=lambda c: (c.business, c.kind, c.a.page, c.a.section, c.b.page, c.b.section))
