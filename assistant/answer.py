"""Compose a short cited answer from retrieved passages, extractively.

It picks the sentences / list items of the best passages that answer the question and backs each
`[n]` marker with a citation whose `quote` is an exact substring of the page. It never writes a
rule, amount, phone number or address of its own: every policy word in `answer` comes from a
quote. When no passage covers the question well enough, by both signals retrieval measured (the
dense relevance and the BM25 score: `coverage`), it abstains and lists the closest pages.
Passages from a different business than the best one are never mixed into the answer.

Which passages are quoted: the top-ranked one always; the runner-up when retrieval scored it
nearly as high (`RUNNER_UP_SHARE`), because retrieval's order is a better judge of the right
section than the sentences' word overlap; any later one whose best sentence scores close to the
best quote's (`SECOND_PASSAGE_SHARE`). Measured on the training sets (docs/metrics.md, "Composer").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from assistant.markup import LIST_ITEM, has_gap, plain, split_sentences
from assistant.models import Citation, CitationSource, Draft, Passage, Source
from assistant.text import tokens

ABSTAIN_TEXT = "This is not covered by the procedures, so I can't answer it from them."
GAP_NOTE = ("Note: the page \u201c{title}\u201d is incomplete here \u2014 part of it was lost in export. "
            "Don't fill the gap; check with a lead.")
MAX_UNITS_PER_PASSAGE = 3
WHOLE_CHUNK_CHARS = 320
MAX_LIST_ITEMS = 6
SECOND_PASSAGE_SHARE = 0.6  # a later passage joins the answer only if it scores this close to the best
# The runner-up passage joins the answer whenever its fused retrieval score is at least this share
# of the top passage's, whatever its sentences' word overlap: on the training sets the right section
# is often second in retrieval while its sentences share few words with the question (follow-ups,
# paraphrases). 0.7 against the old rule alone: pass 0.843 -> 0.860, hit@3 0.861 -> 0.889 on 172
# gated + training cases, for about 150 more characters per answer (docs/metrics.md, "Composer").
RUNNER_UP_SHARE = 0.7
FOLLOWING_UNIT_SHARE = 0.5  # a following sentence joins the quote if it scores this close to the best one
SHORT_UNIT_CHARS = 80  # a short line after a list intro ("Note: ...") still belongs to the list
MIN_UNIT_TOKENS = 4  # sentence scores are normalized by length, but a two-word line is not twice as good
CLOSEST_PAGES = 3  # pages offered when abstaining


@dataclass(frozen=True)
class Unit:
    """A sentence or list item: `start:end` is its exact span in the chunk text."""

    start: int
    end: int
    text: str
    is_item: bool
    intro: bool  # ends with ":" and introduces the items after it


def units(text: str) -> list[Unit]:
    out: list[Unit] = []
    offset = 0
    for line in text.split("\n"):
        start = offset
        offset += len(line) + 1
        stripped = line.strip()
        if not stripped or has_gap(stripped):
            continue
        lead = len(line) - len(line.lstrip())
        if LIST_ITEM.match(stripped):
            out.append(Unit(start + lead, start + len(line.rstrip()), stripped, True, stripped.endswith(":")))
            continue
        pos = start + lead
        for piece in split_sentences(stripped):
            begin = text.index(piece, pos)
            pos = begin + len(piece)
            out.append(Unit(begin, pos, piece, False, piece.rstrip("* ").endswith(":")))
    return out


def _score(unit_tokens: set[str], query: set[str], idf: dict[str, float]) -> float:
    shared = unit_tokens & query
    return sum(idf.get(t, 1.0) for t in shared) / math.sqrt(max(len(unit_tokens), MIN_UNIT_TOKENS))


ANAPHOR = re.compile(r"^(?:[-*\s]*)(anything|this|that|these|those|it|they|he|she|such|also|however|otherwise)\b",
                     re.IGNORECASE)


CONDITION = re.compile(r"^(?:[-*\s]*)(if|when|whenever|in the case)\b[^.]*\.$", re.IGNORECASE)


PROCEDURAL = re.compile(r"\b(how (do|can|should|would) (i|we|you)|how to|steps?|process|procedure|walk me through)\b",
                        re.IGNORECASE)


def _select(passage: Passage, query: set[str], idf: dict[str, float],
            procedural: bool = False) -> tuple[list[Unit], float]:
    """The best contiguous run of units in a passage.

    The best-scoring unit, plus: the sentence before it when it leans back on it ("Anything
    requested over that amount ..."); the lines an intro ending in ":" announces; and directly
    following units that also answer, so a rule keeps its exception.
    """
    all_units = units(passage.chunk.text)
    if not all_units:
        return [], 0.0
    scores = [_score(set(tokens(u.text)), query, idf) for u in all_units]
    best = max(range(len(all_units)), key=lambda i: (scores[i], -i))
    intros = [i for i, u in enumerate(all_units) if u.intro and i + 1 < len(all_units) and all_units[i + 1].is_item]
    if procedural and intros and scores[intros[0]] > 0:
        best = intros[0]  # "how do I ..." is answered by the steps, not by one step
    if len(passage.chunk.text) <= WHOLE_CHUNK_CHARS:
        return all_units, scores[best]  # a short section is quoted whole: steps stay together
    first = last = best
    if best > 0 and ANAPHOR.match(all_units[best].text) and not all_units[best - 1].intro:
        first = best - 1
    if all_units[best].intro:
        limit = len(all_units) if procedural else MAX_LIST_ITEMS
        while last + 1 < len(all_units) and last - best < limit and not all_units[last + 1].intro \
                and (all_units[last + 1].is_item or len(all_units[last + 1].text) < SHORT_UNIT_CHARS):
            last += 1
    else:
        if CONDITION.match(all_units[best].text) and last + 1 < len(all_units):
            last += 1  # "If you encounter ..." is answered by the sentence after it
        while (last + 1 < len(all_units) and last - first + 1 < MAX_UNITS_PER_PASSAGE
               and (scores[last + 1] >= FOLLOWING_UNIT_SHARE * scores[best] > 0
                    or (all_units[last + 1].intro and scores[last + 1] > 0))):
            last += 1
            if all_units[last].intro:  # an intro brings what it introduces
                while last + 1 < len(all_units) and all_units[last + 1].is_item:
                    last += 1
                break
    return all_units[first:last + 1], scores[best]


def coverage(relevance: float, lexical: float, lexical_weight: float, bank_nearness: float = 0.0,
             bank_weight: float = 0.0) -> float:
    """How well retrieval says the question is covered, by its three signals, in dense-cosine units.

    The dense cosine alone can't tell a near-topic question the pages don't answer from a covered
    one asked in other words: both sit near e5's floor. The BM25 score adds whether the question's
    own words stand in the pages (log1p tames BM25's long tail: a long follow-up's search text
    scores high by its length alone). The nearness to the trainers' bank questions adds whether
    anyone ever asked something like it about these pages: out-of-scope questions sit far from all
    of them. The weights are fitted on the training data by `python -m assistant.calibration`
    (0: that signal is not used).
    """
    return relevance + lexical_weight * math.log1p(max(lexical, 0.0)) + bank_weight * bank_nearness


def compose(query: str, passages: list[Passage], abstain_below: float, lexical_weight: float = 0.0,
            bank_weight: float = 0.0) -> Draft:
    # Abstain on the best of each signal among the candidates, not the top passage's: the fused
    # order can put a lexically busy passage first, but whether anything covers the question is
    # what counts. Each signal's best is taken separately, as the calibration measures them.
    nearness = passages[0].bank_nearness if passages else 0.0
    if not passages or coverage(max(p.relevance for p in passages), max(p.lexical for p in passages),
                                lexical_weight, nearness, bank_weight) < abstain_below:
        return abstain(passages)
    business = _business_of(passages)
    same_business = [p for p in passages if p.chunk.business == business]
    query_tokens = set(tokens(query))
    procedural = PROCEDURAL.search(query) is not None
    idf = _idf([p.chunk.text for p in same_business])
    picked: list[tuple[Passage, list[Unit]]] = []
    best_score = 0.0
    for rank, passage in enumerate(same_business):
        chosen, score = _select(passage, query_tokens, idf, procedural)
        if not chosen and rank == 0 and passage.chunk.has_gap:
            chosen = [Unit(0, len(passage.chunk.text), passage.chunk.text, False, False)]  # the marker itself
        if not chosen:
            continue
        if rank == 0 or not picked:
            best_score = max(best_score, score)
            picked.append((passage, chosen))
        elif rank == 1 and passage.score >= RUNNER_UP_SHARE * same_business[0].score and score > 0:
            picked.append((passage, chosen))
        elif (score >= SECOND_PASSAGE_SHARE * best_score and score > 0
              and coverage(passage.relevance, passage.lexical, lexical_weight, nearness, bank_weight) >= abstain_below):
            picked.append((passage, chosen))
    if not picked:
        return abstain(passages)
    citations: list[Citation] = []
    parts: list[str] = []
    gap_titles: list[str] = []
    for n, (passage, chosen) in enumerate(picked, start=1):
        text = passage.chunk.text
        quote = text[chosen[0].start:chosen[-1].end]
        source = passage.sources[0]
        citations.append(Citation(
            n=n, page=source.page, section=source.section, page_title=source.page_title,
            anchor=source.anchor, source_url=source.source_url, quote=quote, updated=source.updated,
            also_in=[_ref(s) for s in passage.sources[1:]],
        ))
        if has_gap(quote) and len(chosen) == 1 and chosen[0].start == 0 and chosen[0].end == len(text):
            parts.append(f"The section \u201c{source.section}\u201d of \u201c{source.page_title}\u201d lost its "
                         f"content in export. [{n}]")
        else:
            parts.append(" ".join(plain(u.text) for u in chosen) + f" [{n}]")
        if passage.chunk.has_gap:
            gap_titles.append(source.page_title)
    answer = "\n\n".join(parts)
    for title in dict.fromkeys(gap_titles):
        answer += "\n\n" + GAP_NOTE.format(title=title)
    return Draft(answer=answer, abstained=False, citations=citations)


def _business_of(passages: list[Passage]) -> str:
    """The business the question is about: the best-ranked passage's.

    The answer never mixes businesses, so one has to be chosen. Summing the top three passages'
    scores (tried until 2026-11-23) let two middling contractor passages outvote the best
    interlock one on generic "collections" / "payment" questions; on held-out questions the best
    passage alone chose right more often (docs/metrics.md).
    """
    return passages[0].chunk.business


def _ref(source: Source) -> CitationSource:
    return CitationSource(page=source.page, section=source.section, anchor=source.anchor,
                          source_url=source.source_url)


def abstain(passages: list[Passage]) -> Draft:
    seen: dict[str, CitationSource] = {}
    for passage in passages:
        for s in passage.sources:
            if s.page not in seen and len(seen) < CLOSEST_PAGES:
                seen[s.page] = _ref(s)
    text = ABSTAIN_TEXT
    if seen:
        text += " Closest pages: " + "; ".join(f"{c.page} ({c.section})" for c in seen.values()) + "."
    return Draft(answer=text, abstained=True, see_also=list(seen.values()))


def _idf(texts: list[str]) -> dict[str, float]:
    docs = [set(tokens(t)) for t in texts]
    n = len(docs)
    df: dict[str, int] = {}
    for doc in docs:
        for t in doc:
            df[t] = df.get(t, 0) + 1
    return {t: math.log(1 + (n + 1) / (c + 0.5)) for t, c in df.items()}
