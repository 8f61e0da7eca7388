"""The trainers' question bank: labelled questions -> the page section that answers them.

`corpus/questions.yaml` holds questions the way trainers would phrase them, each with the page
slug and section label that answers it. Retrieval uses it as one more ranked list: a question
close to a bank question points at that question's section, however differently the section is
worded. It is training data: a test keeps every eval and held-out question (and near-duplicates)
out of it. Its labels are checked against the indexed sections: an entry whose section no longer
exists is reported by name and left out, never a silently dead label.
"""

from __future__ import annotations

import logging
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.config import Settings
from assistant.embeddings import Embedder
from assistant.errors import CorpusError
from assistant.text import fold, tokens
from assistant.vector_cache import cached_vectors

log = logging.getLogger(__name__)
BANK_FILE = "questions.yaml"
# Two questions are near-duplicates when most of their content words are shared or their text is
# mostly the same characters: then the bank would be answering the eval question for it.
NEAR_DUPLICATE_WORDS = 0.6  # Jaccard overlap of stemmed content words
NEAR_DUPLICATE_TEXT = 0.8  # difflib ratio of the folded text


class BankEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str = Field(min_length=3)
    page: str = Field(min_length=1)
    section: str = Field(min_length=1)


def load_bank(corpus_dir: Path) -> list[BankEntry]:
    """The bank next to the pages; none is an empty bank (the assistant works without one)."""
    path = corpus_dir / BANK_FILE
    if not path.exists():
        return []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CorpusError(f"{path}: unreadable question bank ({exc.__class__.__name__})") from None
    if not isinstance(raw, list):
        raise CorpusError(f"{path}: expected a list of {{question, page, section}} entries")
    entries = []
    for n, item in enumerate(raw, start=1):
        try:
            entries.append(BankEntry.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise CorpusError(f"{path}: entry {n}: {'.'.join(map(str, err['loc'])) or 'entry'}: {err['msg']}") from None
    return entries


def near_duplicate(a: str, b: str) -> bool:
    ta, tb = set(tokens(a)), set(tokens(b))
    if ta and tb and len(ta & tb) / len(ta | tb) >= NEAR_DUPLICATE_WORDS:
        return True
    matcher = SequenceMatcher(None, " ".join(fold(a).split()), " ".join(fold(b).split()))
    # The quick ratios are upper bounds of ratio(): most pairs are ruled out without the slow one.
    return (matcher.real_quick_ratio() >= NEAR_DUPLICATE_TEXT and matcher.quick_ratio() >= NEAR_DUPLICATE_TEXT
            and matcher.ratio() >= NEAR_DUPLICATE_TEXT)


def split_stale(entries: list[BankEntry], sections: set[tuple[str, str]]) -> tuple[list[BankEntry], list[str]]:
    """The entries whose section exists, and one line per entry whose section no page has any more.

    A stale label is reported (by `assistant ingest`, and in the log at load), not fatal: the bank
    only helps ranking, and a renamed heading must not stop the assistant from answering.
    """
    kept = [e for e in entries if (e.page, e.section) in sections]
    stale = [f"question bank: {e.page} / {e.section} no longer exists ({e.question!r})"
             for e in entries if (e.page, e.section) not in sections]
    return kept, stale


class BankIndex:
    """The bank's questions as vectors, to find the sections of the nearest ones."""

    def __init__(self, entries: list[BankEntry], vectors: np.ndarray) -> None:
        self.entries = entries
        self.vectors = vectors

    @classmethod
    def build(cls, entries: list[BankEntry], embedder: Embedder, cache_dir: Path | None = None,
              kind: str = "bank") -> BankIndex:
        """Embed the bank once; with `cache_dir`, reuse the vectors while the bank and the model stay the same."""
        if not entries:
            return cls([], np.zeros((0, 0), dtype=np.float32))
        # Question against question: both sides embedded as queries (e5 models prefix queries and
        # passages differently; a bank question is a query, not a passage).
        questions = [e.question for e in entries]
        vectors = cached_vectors(cache_dir, kind, embedder.name, questions, lambda: np.asarray(
            [embedder.embed_query(q) for q in questions], dtype=np.float32))
        return cls(entries, vectors)

    def extended(self, other: BankIndex) -> BankIndex:
        """This bank and `other`'s entries together (the file's bank plus the trainers' resolved gaps)."""
        if not other.entries:
            return self
        if not self.entries:
            return other
        return BankIndex(self.entries + other.entries, np.vstack([self.vectors, other.vectors]))

    def nearest_similarity(self, query_vector: list[float]) -> float:
        """The cosine of the question to its nearest bank question; 0 for an empty bank."""
        if not self.entries:
            return 0.0
        return max(0.0, float((self.vectors @ np.asarray(query_vector, dtype=np.float32)).max()))

    def nearest_sections(self, query_vector: list[float], k: int) -> list[tuple[tuple[str, str], float]]:
        """(page, section) of the k nearest bank questions' sections, best first, each once."""
        if not self.entries:
            return []
        sims = self.vectors @ np.asarray(query_vector, dtype=np.float32)
        ranked: dict[tuple[str, str], float] = {}
        for i in np.argsort(-sims, kind="stable"):
            key = (self.entries[i].page, self.entries[i].section)
            if key not in ranked:
                ranked[key] = float(sims[i])
                if len(ranked) == k:
                    break
        return list(ranked.items())


def resolved_entries(covered: list[tuple[str, str, str]], section_of: dict[tuple[str, str], str],
                     guarded: list[str]) -> tuple[list[BankEntry], list[str]]:
    """Bank entries for the questions trainers resolved as "covered by page X § Y" (knowledge
    health's gap queue), and one line per question left out: its section no longer exists, or it
    is a near-duplicate of an eval question in `guarded` (the bank must never answer an eval
    question for it, whoever typed it in)."""
    entries, skipped = [], []
    for question, page, anchor in covered:
        section = section_of.get((page, anchor))
        if section is None:
            skipped.append(f"resolved gap: {page}#{anchor} no longer exists ({question!r})")
        elif any(near_duplicate(question, q) for q in guarded):
            skipped.append(f"resolved gap: {question!r} is a near-duplicate of an eval question; left out of the bank")
        elif len(question.strip()) >= 3:
            entries.append(BankEntry(question=question.strip(), page=page, section=section))
    return entries, skipped


def load_resolved(settings: Settings, section_of: dict[tuple[str, str], str]) -> list[BankEntry]:
    """The "covered" gap resolutions from the database, as bank entries. The bank only helps
    ranking: a database that can't be read costs these entries (logged), never an answer."""
    from sqlalchemy.exc import SQLAlchemyError

    from assistant.database import open_database
    from assistant.errors import AssistantError
    from assistant.evals import gated_cases
    from assistant.gap_resolutions import GapResolutions

    try:
        covered = GapResolutions(open_database(settings)).covered_questions()
    except (AssistantError, SQLAlchemyError) as exc:
        log.warning("resolved gaps not loaded into the question bank: %s", exc)
        return []
    if not covered:
        return []
    guarded = [q for c in gated_cases() for q in (c.question, *c.history)]
    entries, skipped = resolved_entries(covered, section_of, guarded)
    for line in skipped:
        log.warning(line)
    return entries
