"""Hybrid retrieval: ranked lists fused by reciprocal rank: chunks by their vector (Chroma), by
BM25 (bm25s), the sections of the nearest trainers' bank questions (on e5 only those practically
the same as the question: a resolved gap asked again; `Settings.bank_floor`), and for a turn with
history the earlier turns' own reading. The question's nearness to the bank rides along on every
passage for the composer's abstention (answer.coverage).

Near-duplicate passages (the credit policy stands on two pages) are merged into one passage
listing every source, so one citation names both pages instead of repeating the text. The BM25
query also carries the acronyms the pages spell out ("loss protection" finds "LPP": acronyms.py).
Must never answer or filter for policy: it only ranks page text. `SopRetriever` offers the same
search behind LangChain's retriever interface for callers that compose with LangChain; the chain
itself calls `HybridSearch.retrieve` and gets `Passage` values, with no round trip through
LangChain documents.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace

import bm25s
import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant import store
from assistant.acronyms import expand, find_acronyms
from assistant.chunking import embedding_text
from assistant.config import Settings
from assistant.embeddings import Embedder
from assistant.errors import EmbedderMismatch, IndexNotBuilt
from assistant.models import Chunk, Passage, Question, Source
from assistant.question import CONTEXT_TURNS
from assistant.question_bank import BankIndex, load_bank, load_resolved, split_stale
from assistant.text import tokens

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Fusion:
    """Each ranked list's share in the reciprocal-rank fusion, and its k. Chosen on training data
    only, by `python -m benchmarks.fusion_weights` (docs/metrics.md "Fusion weights and the bank floor")."""

    dense: float = 1.0  # chunks by their vector
    lexical: float = 1.0  # BM25 (a turn with history: shared by its two readings)
    # A turn with history: the earlier turns read on their own (dense and BM25) vote at this share of
    # `dense` / `lexical`, so the conversation's topic holds when the new turn's own words point
    # nowhere in particular ("how long does it take them"). Chosen on the two training conversation
    # sets (docs/metrics.md, "Conversations: the earlier turns' own reading").
    topic: float = 0.25
    bank: float = 0.5  # the sections of the nearest trainers' bank questions ...
    bank_floor: float = 0.0  # ... those at least this similar to the question (`Settings.bank_floor`)
    k: int = 10


DUPLICATE_JACCARD = 0.8
# A lost-content marker with a line or two around it looks like every other marker: such short
# gap chunks are never merged as duplicates, each one is a different section's gap.
SHORT_GAP_TOKENS = 12
BANK_SECTIONS = 3  # sections of the nearest bank questions that get a vote
POINTER_CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Snapshot:
    """One complete index generation, loaded for reading."""

    generation: str
    index: store.IndexInfo  # who built it: questions must be embedded by the same model
    chunks: list[Chunk]
    collection: store.Collection
    bm25: bm25s.BM25
    token_sets: list[frozenset[str]]
    by_id: dict[str, int]
    acronyms: dict[str, tuple[str, ...]]  # spelled out by the pages: "lpp" -> loss protection plan
    business: np.ndarray  # each chunk's business, to keep one business's chunks for lexical search
    businesses: list[str]  # the distinct ones, sorted; computed once per snapshot, not per question
    bank: BankIndex  # the trainers' question bank, embedded with the same model
    section_chunks: dict[tuple[str, str], list[int]]  # (page, section) -> its chunks, in page order
    file_bank: BankIndex | None = None  # the bank file's part of `bank` (the rest: resolved gaps)


def load_snapshot(client: store.ChromaClient, settings: Settings, embedder: Embedder) -> Snapshot:
    col, index = store.open_active(client, settings, embedder)
    with store.reaching_server(settings):
        chunks = store.read_chunks(col)
    chunks.sort(key=lambda c: (c.page, c.id))
    texts = [embedding_text(c) for c in chunks]
    corpus_tokens = [tokens(t) or ["_empty_"] for t in texts]
    bm25 = bm25s.BM25()
    bm25.index(corpus_tokens, show_progress=False)
    section_chunks: dict[tuple[str, str], list[int]] = {}
    for n, c in enumerate(chunks):
        section_chunks.setdefault((c.page, c.section), []).append(n)
    entries, stale = split_stale(load_bank(settings.corpus_dir), set(section_chunks))
    for line in stale:
        log.warning(line)
    file_bank = BankIndex.build(entries, embedder, cache_dir=settings.data_dir / "vectors")
    bank = file_bank.extended(resolved_bank(settings, embedder, chunks))
    return Snapshot(generation=col.name, index=index, chunks=chunks, collection=col, bm25=bm25,
                    token_sets=[frozenset(tokens(c.text)) for c in chunks],
                    by_id={c.id: n for n, c in enumerate(chunks)}, acronyms=find_acronyms(texts),
                    business=np.array([c.business for c in chunks], dtype=object),
                    businesses=sorted({c.business for c in chunks}), bank=bank, section_chunks=section_chunks,
                    file_bank=file_bank)


def resolved_bank(settings: Settings, embedder: Embedder, chunks: list[Chunk]) -> BankIndex:
    """The trainers' resolved gaps ("covered by page X § Y") as bank entries, embedded apart from
    the file's bank so a new resolution never re-embeds the whole bank."""
    section_of: dict[tuple[str, str], str] = {}
    for c in chunks:
        section_of.setdefault((c.page, c.anchor), c.section)
    return BankIndex.build(load_resolved(settings, section_of), embedder, cache_dir=settings.data_dir / "vectors",
                           kind="bank-resolved")


class HybridSearch:
    """Owns the loaded snapshot; reloads it when another process flips the index pointer."""

    def __init__(self, settings: Settings, embedder: Embedder, client: store.ChromaClient | None = None,
                 fusion: Fusion | None = None) -> None:
        self.settings = settings
        self.fusion = fusion or Fusion(bank_floor=settings.bank_floor)
        self.embedder = embedder
        self._owns_client = client is None  # only a client of our own is replaced when the store's files are
        self.client = client or store.make_client(settings)
        self._store_identity = store.store_identity(settings)
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    @property
    def snapshot(self) -> Snapshot:
        now = time.monotonic()
        with self._lock:
            if self._snapshot is None or now - self._checked > POINTER_CHECK_SECONDS:
                self._refresh()
                self._checked = now
            return self._snapshot  # type: ignore[return-value]  # _refresh loaded it or raised

    def reload(self, stale: str | None = None) -> None:
        """After `GenerationGone`: re-read the pointer now, unless another thread already moved off `stale`."""
        with self._lock:
            if self._snapshot is None or stale is None or self._snapshot.generation == stale:
                self._snapshot = None
                self._refresh()
                self._checked = time.monotonic()

    def _refresh(self) -> None:
        """Follow the pointer, and the store's files: an embedded store deleted and rebuilt by another
        process (or a corrupt one replaced) is other files, which the old client would go on reading."""
        identity = store.store_identity(self.settings)
        if self._owns_client and identity != self._store_identity:
            self._snapshot = None
            if identity is None:  # deleted and not rebuilt (yet): no client re-creates an empty one here
                raise IndexNotBuilt(f"the index store {self.settings.index_dir} was removed")
            self.client = store.make_client(self.settings, fresh=True)
            self._store_identity = identity
        if self._snapshot is None or store.active_generation(self.client, self.settings) != self._snapshot.generation:
            self._snapshot = load_snapshot(self.client, self.settings, self.embedder)

    def refresh_bank(self) -> None:
        """Re-read the trainers' resolved gaps into the loaded snapshot's bank (after a resolution)."""
        with self._lock:
            snap = self._snapshot
            if snap is None:
                return
            bank = (snap.file_bank or snap.bank).extended(resolved_bank(self.settings, self.embedder, snap.chunks))
            self._snapshot = replace(snap, bank=bank)

    def use_snapshot(self, snapshot: Snapshot) -> None:
        """Search this snapshot until the index pointer moves (the calibration's leave-one-out bank)."""
        with self._lock:
            self._snapshot = snapshot

    def retrieve(self, question: Question, k: int | None = None) -> list[Passage]:
        """The passages for a question, within its business when it has one.

        A question with history is searched both alone and in the context of the earlier turns,
        and the evidence decides: a passage's dense relevance is the better of the two readings, and
        both readings' lexical rankings vote. An elliptical turn ("where does he mail that?") finds
        little alone and its topic in context; a new topic finds its passage alone, where the
        earlier turns' words only dilute the contextual reading.

        The earlier turns are also read on their own, without the new one: their passages vote at a
        small share (`Fusion.topic`), the topic the conversation is on.
        """
        if not question.history:
            return self._search([question.text], k, question.business)
        topic = " ".join(" ".join(turn.split()) for turn in question.history[-CONTEXT_TURNS:])
        return self._search([question.text, question.search_text], k, question.business, topic)

    def search(self, query: str, k: int | None = None, business: str | None = None) -> list[Passage]:
        """The k best passages for one query; with `business`, only that business's pages are searched."""
        return self._search([query], k, business)

    def _search(self, views: list[str], k: int | None, business: str | None,
                topic: str | None = None) -> list[Passage]:
        snap = self.snapshot
        k = k or self.settings.passages
        n = min(self.settings.candidates, len(snap.chunks))
        vectors = [self.embedder.embed_query(view) for view in views]
        dense: dict[int, float] = {}
        for vector in vectors:  # the better reading of each candidate counts
            for idx, sim in self._dense(snap, vector, n, business).items():
                dense[idx] = max(sim, dense.get(idx, sim))
        lexical_views = [self._lexical(snap, view, n, business) for view in views]
        fusion = self.fusion
        rankings = [(sorted(dense, key=lambda i: -dense[i]), fusion.dense)]
        rankings += [(list(lexical), fusion.lexical / len(views)) for lexical in lexical_views]
        if snap.bank.entries:
            rankings.append((self._bank(snap, vectors, business), fusion.bank))
        if topic and fusion.topic:  # votes only: its relevance and BM25 scores are not the question's
            on_topic = self._dense(snap, self.embedder.embed_query(topic), n, business)
            rankings.append((sorted(on_topic, key=lambda i: -on_topic[i]), fusion.topic * fusion.dense))
            rankings.append((list(self._lexical(snap, topic, n, business)), fusion.topic * fusion.lexical))
        fused: dict[int, float] = {}
        for ranking, weight in rankings:
            for rank, idx in enumerate(ranking):
                fused[idx] = fused.get(idx, 0.0) + weight / (fusion.k + rank + 1)
        lexical = {i: max(lx.get(i, 0.0) for lx in lexical_views) for i in fused}
        nearness = max((snap.bank.nearest_similarity(v) for v in vectors), default=0.0)
        order = sorted(fused, key=lambda i: (-fused[i], -dense.get(i, 0.0), snap.chunks[i].id))
        passages: list[Passage] = []
        kept_sets: list[frozenset[str]] = []
        for idx in order:
            chunk = snap.chunks[idx]
            source = _source(chunk)
            dup = None if chunk.has_gap and len(snap.token_sets[idx]) < SHORT_GAP_TOKENS else next(
                (j for j, s in enumerate(kept_sets) if _jaccard(s, snap.token_sets[idx]) >= DUPLICATE_JACCARD), None)
            if dup is not None:
                if source.page not in {s.page for s in passages[dup].sources}:
                    passages[dup] = passages[dup].model_copy(update={"sources": passages[dup].sources + (source,)})
                continue
            if len(passages) == k:
                continue  # still scan the rest for duplicates of kept passages
            kept_sets.append(snap.token_sets[idx])
            passages.append(Passage(chunk=chunk, sources=(source,), score=fused[idx],
                                    relevance=max(0.0, dense.get(idx, 0.0)), lexical=lexical.get(idx, 0.0),
                                    bank_nearness=nearness))
        return passages

    def _bank(self, snap: Snapshot, vectors: list[list[float]], business: str | None) -> list[int]:
        """Chunks of the sections whose bank questions are nearest to the question, best first."""
        best: dict[tuple[str, str], float] = {}
        for vector in vectors:
            for key, sim in snap.bank.nearest_sections(vector, BANK_SECTIONS):
                if sim >= self.fusion.bank_floor:
                    best[key] = max(sim, best.get(key, sim))
        ranked: list[int] = []
        for key in sorted(best, key=lambda s: -best[s]):
            ranked += [i for i in snap.section_chunks.get(key, []) if not business or snap.chunks[i].business == business]
        return ranked

    def _dense(self, snap: Snapshot, vector: list[float], n: int, business: str | None) -> dict[int, float]:
        if snap.index.dimension and len(vector) != snap.index.dimension:  # same name, another model
            raise EmbedderMismatch(snap.index.describe(), f"{self.embedder.name} ({len(vector)}-d)")
        with store.reaching_server(self.settings):
            got = snap.collection.query(query_embeddings=[vector], n_results=n, include=["distances"],
                                        where={"business": business} if business else None)
        # Cosine distance -> similarity; insertion order is rank order.
        return {snap.by_id[i]: 1.0 - float(d) for i, d in zip(got["ids"][0], got["distances"][0], strict=True)
                if i in snap.by_id}

    def _lexical(self, snap: Snapshot, query: str, n: int, business: str | None) -> dict[int, float]:
        vocab = snap.bm25.vocab_dict
        asked = tokens(query)
        query_tokens = [t for t in asked + expand(asked, snap.acronyms) if t in vocab]
        if not query_tokens:
            return {}
        scores = snap.bm25.get_scores(query_tokens)
        if business:
            scores = np.where(snap.business == business, scores, 0.0)
        top = np.argsort(-scores, kind="stable")[:n]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}


def _source(chunk: Chunk) -> Source:
    return Source(page=chunk.page, page_title=chunk.page_title, section=chunk.section,
                  anchor=chunk.anchor, updated=chunk.updated, source_url=chunk.source_url)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class SopRetriever(BaseRetriever):
    """The hybrid search behind LangChain's retriever interface; each Document carries its Passage."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    search: HybridSearch
    k: int = 3

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                business: str | None = None) -> list[Document]:
        return [Document(page_content=p.chunk.text, id=p.chunk.id,
                         metadata={"passage": p, "page": p.chunk.page, "section": p.chunk.section})
                for p in self.search.search(query, self.k, business)]
