"""The corpus as the health checks see it: every page section with its plain text, its typed
facts and whether export lost its content; and one vector per section, for similarity.

Vectors are the index's (each section's chunks, averaged: ingest embedded them already) when an
index built by the same model is there; sections it lacks are embedded with the project's
embedder and cached on disk per (model, texts), so a second report embeds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.corpus import sections
from assistant.embeddings import Embedder
from assistant.errors import AssistantError
from assistant.health.facts import Fact, extract, sentences_of
from assistant.markup import has_gap
from assistant.models import Page
from assistant.vector_cache import cached_vectors

EMBED_BATCH = 256
EMBED_CHARS = 2000  # a section's head is what it is about; the model truncates long input anyway


@dataclass(frozen=True)
class HealthSection:
    page: str
    page_title: str
    business: str
    section: str  # label, as citations name it
    anchor: str
    body: str  # Markdown as written
    sentences: tuple[str, ...]  # plain sentences, gap markers left out
    facts: tuple[Fact, ...] = field(default=())
    has_gap: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.page, self.section)

    @property
    def text(self) -> str:
        """What the section says (heading included): the embedded and compared text."""
        return " ".join((self.section, *self.sentences))


def collect(pages: Sequence[Page]) -> list[HealthSection]:
    out = []
    for page in pages:
        for s in sections(page):
            out.append(HealthSection(page=page.slug, page_title=page.title, business=page.business, section=s.label,
                                     anchor=s.anchor, body=s.body, sentences=tuple(sentences_of(s.body)),
                                     facts=tuple(extract(s.body)), has_gap=has_gap(s.body)))
    return out


def index_section_vectors(settings: Settings, embedder: Embedder) -> dict[tuple[str, str], np.ndarray]:
    """(page, section) -> the mean of its chunks' vectors in the active index, when the index was
    built by `embedder`'s model; empty when there is no usable index. Ingest has embedded every
    chunk already: at 10,000 pages re-embedding ~60k sections with e5 on 2 cores takes hours."""
    from assistant import store

    try:
        col, _ = store.open_active(store.make_client(settings), settings, embedder)
        with store.reaching_server(settings):
            got = store.read_all(col, ["embeddings", "metadatas"])
    except AssistantError:
        return {}
    sums: dict[tuple[str, str], np.ndarray] = {}
    for vector, meta in zip(got["embeddings"], got["metadatas"], strict=True):
        key = (str(meta.get("page", "")), str(meta.get("section", "")))
        row = np.asarray(vector, dtype=np.float32)
        sums[key] = sums[key] + row if key in sums else row
    return {k: v / (np.linalg.norm(v) or 1.0) for k, v in sums.items()}


def section_vectors(items: Sequence[HealthSection], embedder: Embedder, cache_dir: Path | None = None,
                    known: dict[tuple[str, str], np.ndarray] | None = None) -> np.ndarray:
    """Unit vectors, one row per section, float32: from `known` (the index's) where it has the
    section, embedded (and cached) for the rest."""
    known = known or {}
    if items and known and all(s.key in known for s in items):
        return np.vstack([known[s.key] for s in items]).astype(np.float32)
    missing = [s for s in items if s.key not in known]
    texts = [s.text[:EMBED_CHARS] for s in missing]
    if not items:
        return np.zeros((0, 1), dtype=np.float32)

    def compute() -> np.ndarray:
        rows = []
        for start in range(0, len(texts), EMBED_BATCH):
            rows.append(np.asarray(embedder.embed_documents(texts[start:start + EMBED_BATCH]), dtype=np.float32))
        vectors = np.vstack(rows)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    embedded = cached_vectors(cache_dir, "health-sections", getattr(embedder, "name", "embedder"), texts, compute) \
        if texts else np.zeros((0, 1), dtype=np.float32)
    if not known:
        return embedded
    rows = iter(embedded)
    return np.vstack([known[s.key] if s.key in known else next(rows) for s in items]).astype(np.float32)
