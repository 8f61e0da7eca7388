"""Fakes at the seams, public so tests, benchmarks and integrators use the same ones.

`FakeEmbeddings`: deterministic bag-of-words vectors whose similarities mean something (texts that
share words are close), so ranking tests test ranking; `dims` trades realism of storage cost
(384, like the real model) for fewer collisions (the default). `SmallSqlClient`: a real Chroma
client whose reads fail past a tiny record limit, as Chroma's SQLite does past 32,766.
`FakeChain`: queued answers (or errors) for the eval runner.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.models import Answer, Citation, CitationSource, Verdict
from assistant.rules.schema import Action
from assistant.text import tokens

DIMS = 8192


class FakeEmbeddings:
    """Bag of stemmed words hashed into a unit vector: texts sharing words are close."""

    def __init__(self, fail_after: int | None = None, dims: int = DIMS, name: str = "") -> None:
        # Another width hashes words elsewhere: it is another model, as far as the index is concerned.
        self.name = name or f"fake-bag-of-words-{dims}"
        self.dims = dims
        self.calls = 0
        self.queries = 0
        self.embedded = 0
        self.fail_after = fail_after  # raise once this many texts were embedded (for failure tests)

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.dims
        for tok in tokens(text) or ["_empty_"]:
            vec[int(hashlib.sha256(tok.encode()).hexdigest(), 16) % self.dims] += 1.0
        norm = math.sqrt(sum(v * v for v in vec)) or 1.0
        return [v / norm for v in vec]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.fail_after is not None and self.embedded + len(texts) > self.fail_after:
            raise RuntimeError("fake embedder failure")
        self.embedded += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return self._vector(text)


class SmallSqlClient:
    """A real Chroma client whose collections, like Chroma's SQLite past 32,766 records, refuse
    a `get` that is neither by ids nor limited to `max_rows`: code must read in pages."""

    def __init__(self, client: Any, max_rows: int) -> None:
        self._client, self.max_rows = client, max_rows

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name in ("get_collection", "get_or_create_collection", "create_collection"):
            return lambda *a, **kw: _SmallSqlCollection(attr(*a, **kw), self.max_rows)
        return attr


class _SmallSqlCollection:
    def __init__(self, col: Any, max_rows: int) -> None:
        self._col, self.max_rows = col, max_rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self._col, name)

    def get(self, ids: Any = None, limit: int | None = None, **kwargs: Any) -> Any:
        if ids is None and (limit is None or limit > self.max_rows) and self._col.count() > self.max_rows:
            raise RuntimeError("too many SQL variables")
        return self._col.get(ids=ids, limit=limit, **kwargs)


class FakeChain:
    """The eval runner's seam: queued answers in case order; an exception in the queue is raised."""

    def __init__(self, answers: list[Answer | Exception]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, list[str]]] = []

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        self.asked.append((question, list(history or [])))
        queued = self.answers[len(self.asked) - 1]
        if isinstance(queued, Exception):
            raise queued
        return queued


def fake_answer(text: str, quotes: Sequence[str] = (), rules: Sequence[str] = (), abstained: bool = False,
                actions: Mapping[str, Action] | None = None) -> Answer:
    """An `Answer` citing one quote per citation (in rank order) and firing the given rules (each
    with its action in `actions`, else deny)."""
    src = CitationSource(page="p", section="S", url="u")
    given = actions or {}
    return Answer(question="q", answer=text, abstained=abstained,
                  citations=[Citation(n=i + 1, page="p", section="S", url="u", quote=q) for i, q in enumerate(quotes)],
                  guardrails=[Verdict(rule=r, action=given.get(r, "deny"), message="m", citation=src) for r in rules])
