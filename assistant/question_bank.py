"""The trainers' question bank: labelled questions -> the page section that answers them.

`corpus/questions.yaml` holds questions the way trainers would phrase them, each with the page
slug and section label that answers it. Retrieval uses it as one more ranked list: a question
close to a bank question points at that question's section, however differently the section is
worded. It is training data: a test keeps every eval and held-out question (and near-duplicates)
out of it. Its labels are checked against the indexed sections: an entry whose section no longer
exists is reported by name and left out, never a silently dead label.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.embeddings import Embedder
from assistant.errors import CorpusError
from assistant.text import fold, tokens

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
    def build(cls, entries: list[BankEntry], embedder: Embedder, cache_dir: Path | None = None) -> BankIndex:
        """Embed the bank once; with `cache_dir`, reuse the vectors while the bank and the model stay the same."""
        if not entries:
            return cls([], np.zeros((0, 0), dtype=np.float32))
        digest = hashlib.sha256("\x1e".join([embedder.name, *(e.question for e in entries)]).encode()).hexdigest()[:16]
        cached = cache_dir / f"bank-{digest}.npy" if cache_dir else None
        if cached and (vectors := _read_cache(cached, len(entries))) is not None:
            return cls(entries, vectors)
        # Question against question: both sides embedded as queries (e5 models prefix queries and
        # passages differently; a bank question is a query, not a passage).
        vectors = np.asarray([embedder.embed_query(e.question) for e in entries], dtype=np.float32)
        if cached:
            _write_cache(cached, vectors)
        return cls(entries, vectors)

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


def _read_cache(path: Path, rows: int) -> np.ndarray | None:
    """The cached vectors, or None when there are none usable (missing, unreadable, wrong shape):
    the cache only saves time, so a bad one is re-embedded, never an error."""
    try:
        vectors = np.load(path)
    except (OSError, ValueError):
        return None
    return vectors if vectors.ndim == 2 and len(vectors) == rows else None


def _write_cache(path: Path, vectors: np.ndarray) -> None:
    """Write atomically through a temp file of this writer's own (processes start together);
    a data dir that can't be written only costs the next start the embedding."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp.npy")
        with os.fdopen(fd, "wb") as out:
            np.save(out, vectors)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("question bank vectors not cached at %s: %s", path, exc)
