"""The naive baseline: the LangChain tutorial pipeline over the raw page exports, as a yardstick.

Raw pages (`../shared/sop-pages/0*.txt`, not our cleaned corpus) -> RecursiveCharacterTextSplitter
(1000 / 200) -> an in-memory Chroma -> `similarity_search(question, k=4)` on the question alone
(no history, no business choice). A case's rank is the first of the 4 chunks holding an evidence
phrase. The eval runner and `benchmarks` both use this module, so "naive" means one thing.

It must never use Chroma's default embedding function (it downloads a model): it embeds with the
embedder it is given, ours. langchain-chroma and langchain-text-splitters are dev extras, so they
are imported only when a baseline is built; without them, or without the raw pages, the baseline
is unavailable, which callers report in one line instead of failing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import PROJECT_ROOT
from assistant.embeddings import Embedder
from assistant.metrics import first_rank

RAW_PAGES = PROJECT_ROOT.parent / "shared" / "sop-pages"
CHUNK_SIZE, CHUNK_OVERLAP, TOP_K = 1000, 200, 4


class BaselineUnavailable(Exception):
    """No raw pages or no dev extras. Not an `AssistantError`: it never ends a command, it is
    reported as a line of the eval report."""


@dataclass(frozen=True)
class NaiveRanks:
    """The baseline's rank per case id (None: no hit in the top 4), or why there are none."""

    ranks: dict[str, int | None] = field(default_factory=dict)
    chunks: int = 0
    unavailable: str = ""


class NaiveBaseline:
    """The tutorial pipeline, built once over the raw pages."""

    def __init__(self, store: Any, chunks: int) -> None:
        self.store, self.chunks = store, chunks

    @classmethod
    def build(cls, embedder: Embedder, raw_pages: Path = RAW_PAGES) -> NaiveBaseline:
        pages = sorted(raw_pages.glob("0*.txt")) if raw_pages.is_dir() else []
        if not pages:
            raise BaselineUnavailable(f"no raw pages (0*.txt) in {raw_pages}")
        try:
            import chromadb
            from chromadb.config import Settings as ChromaSettings
            from langchain_chroma import Chroma
            from langchain_core.documents import Document
            from langchain_text_splitters import RecursiveCharacterTextSplitter
        except ImportError as exc:
            raise BaselineUnavailable(f"{exc.name} is not installed (a dev extra: pip install -e '.[dev]')") from None

        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        docs = splitter.split_documents([Document(page_content=p.read_text(encoding="utf-8"),
                                                  metadata={"source": p.name}) for p in pages])
        # In memory, so nothing lands in the data dir; a fresh collection name per build because
        # every ephemeral client in a process shares one store.
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False))
        store = Chroma.from_documents(docs, embedding=embedder,  # type: ignore[arg-type]
                                      collection_name=f"naive-baseline-{uuid.uuid4().hex[:12]}", client=client)
        return cls(store, len(docs))

    def search(self, question: str) -> list[str]:
        return [doc.page_content for doc in self.store.similarity_search(question, k=TOP_K)]

    def rank(self, question: str, phrases: Sequence[str]) -> int | None:
        return first_rank(self.search(question), phrases)


def naive_ranks(evidence: Mapping[str, tuple[str, Sequence[str]]], embedder: Embedder,
                raw_pages: Path = RAW_PAGES) -> NaiveRanks:
    """Ranks per case id, for {case id: (question, evidence phrases)}; cases without phrases have no rank."""
    try:
        baseline = NaiveBaseline.build(embedder, raw_pages)
    except BaselineUnavailable as exc:
        return NaiveRanks(unavailable=str(exc))
    ranks = {case_id: baseline.rank(question, list(phrases)) for case_id, (question, phrases) in evidence.items()
             if phrases}
    return NaiveRanks(ranks=ranks, chunks=baseline.chunks)
