"""Fakes at the seams: deterministic embeddings whose similarities mean something."""

from __future__ import annotations

import hashlib
import math

from assistant.text import tokens

DIMS = 8192


class FakeEmbeddings:
    """Bag of stemmed words hashed into a unit vector: texts sharing words are close."""

    name = "fake-bag-of-words"

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.embedded = 0
        self.fail_after = fail_after  # raise once this many texts were embedded (for failure tests)

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * DIMS
        for tok in tokens(text) or ["_empty_"]:
            vec[int(hashlib.sha256(tok.encode()).hexdigest(), 16) % DIMS] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.fail_after is not None and self.embedded + len(texts) > self.fail_after:
            raise RuntimeError("fake embedder failure")
        self.embedded += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)
