"""The corpus as the health checks see it: every page section with its plain text, its typed
facts and whether export lost its content; and one vector per section, for similarity.

Vectors come from the project's embedder (the same model retrieval uses), cached on disk per
(model, texts) so a second report on an unchanged corpus embeds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.corpus import sections
from assistant.embeddings import Embedder
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


def section_vectors(items: Sequence[HealthSection], embedder: Embedder, cache_dir: Path | None = None) -> np.ndarray:
    """Unit vectors, one row per section, float32."""
    texts = [s.text[:EMBED_CHARS] for s in items]
    if not texts:
        return np.zeros((0, 1), dtype=np.float32)

    def compute() -> np.ndarray:
        rows = []
        for start in range(0, len(texts), EMBED_BATCH):
            rows.append(np.asarray(embedder.embed_documents(texts[start:start + EMBED_BATCH]), dtype=np.float32))
        vectors = np.vstack(rows)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    return cached_vectors(cache_dir, "health-sections", getattr(embedder, "name", "embedder"), texts, compute)
