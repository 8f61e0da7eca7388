"""`ask(question, history, business) -> Answer`: the one path every caller (CLI, UI, evals, benchmarks) uses.

    make_question -> retrieve (hybrid) -> compose (extractive) -> rules -> links -> output filter

The raw text becomes a `Question` once; each stage reads that value and returns a value. A future
LLM backend replaces `compose` only; validation, retrieval, the rules, the links and the final
filter stay on the path. Heavy resources (model, Chroma client, BM25 index) load on first use.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cached_property

from assistant import answer as composer
from assistant import links, output_filter, rules
from assistant.config import Settings
from assistant.embeddings import Embedder, get_embedder
from assistant.errors import ConfigError, CorpusError, GenerationGone, InvalidQuestion
from assistant.health.freshness import due_dates, mark_overdue
from assistant.models import Answer, Draft, Passage, Question, Timings
from assistant.question import make_question
from assistant.retrieve import HybridSearch, Snapshot
from assistant.store import ChromaClient

Composer = Callable[[Question, list[Passage], Settings], Draft]
MS = 1000.0
VECTOR_CACHE = "vectors"  # under the data dir: embeddings of the rules' examples and the question bank


def unknown_business(business: str | None, known: list[str]) -> str | None:
    """Why `business` can't scope an answer, or None when it can (or is not given)."""
    if business and business not in known:
        return f"no page belongs to business {business!r} (the pages cover: {', '.join(known)})"
    return None


def extractive(question: Question, passages: list[Passage], settings: Settings) -> Draft:
    return composer.compose(question.search_text, passages, settings.abstain_below, settings.abstain_lexical_weight,
                            settings.abstain_bank_weight)


class Chain:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, client: ChromaClient | None = None,
                 compose: Composer = extractive) -> None:
        self.settings = settings
        self._embedder = embedder
        self._client = client
        self.compose = compose
        self._checked_generation: str | None = None  # the index generation the rules were checked against
        self._review_due: dict[str, date] = {}  # page slug -> review due date, read with each new generation
        # Several threads ask on one Chain: the heavy resources are built, and the rules checked, once.
        self._lock = threading.RLock()

    @cached_property
    def search(self) -> HybridSearch:
        with self._lock:
            embedder = self._embedder or get_embedder(self.settings)
            return HybridSearch(self.settings, embedder, self._client)

    @cached_property
    def rule_engine(self) -> rules.Engine:
        """The rules next to the pages (corpus/rules.yaml, concepts.yaml), voting with the search's model."""
        with self._lock:
            return rules.Engine(rules.load_book(self.settings.corpus_dir), self.search.embedder,
                                cache_dir=self.settings.data_dir / VECTOR_CACHE)

    def warm_up(self) -> None:
        """Load the index, the model and the rules; refuse to answer when a rule's page section or
        quote is not in the index; embed the rules' examples once. Runs again whenever another
        ingest swapped the index in, so a page edited under a running app is checked too."""
        with self._lock:
            snapshot = self.search.snapshot
            if snapshot.generation != self._checked_generation:
                engine = self.rule_engine
                rules.check_sources([r.spec for r in engine.book.rules],
                                    rules.section_texts((c.page, c.section, c.text) for c in snapshot.chunks))
                if problem := unknown_business(self.settings.business, snapshot.businesses):
                    raise ConfigError(f"ASSISTANT_BUSINESS: {problem}")
                engine.warm_up()
                self._review_due = self._read_review_dates()
                self._checked_generation = snapshot.generation
            self.search.embedder.embed_query("warm up")

    def _read_review_dates(self) -> dict[str, date]:
        """Review due dates from the pages' front matter (the corpus folder is their source).
        Without a readable corpus there is no badge: freshness must never stop an answer."""
        from assistant.corpus import load_pages

        try:
            pages, _ = load_pages(self.settings.corpus_dir)
        except CorpusError:
            return {}
        return due_dates(pages, self.settings.review_every_days)

    def ask(self, question: str, history: list[str] | None = None, business: str | None = None) -> Answer:
        """Answer one question. `business` (else the `business` setting) restricts the answer to
        that line of business's pages; without either, the best passage's business is used.

        An index generation removed mid-question (another ingest replaced it and its grace period is
        over) is not the asker's problem: the pointer is read again and the question asked once more."""
        started = time.perf_counter()
        asked = make_question(question, list(history or []), business or self.settings.business,
                              self.settings.max_question_chars, self.settings.max_history_turns)
        snapshot = None
        try:
            snapshot = self.search.snapshot  # one pointer check per ask
            return self._answer(question, asked, business, started, snapshot)
        except GenerationGone:
            self.search.reload(snapshot.generation if snapshot else None)
            return self._answer(question, asked, business, started, self.search.snapshot)

    def _answer(self, question: str, asked: Question, business: str | None, started: float,
                snapshot: Snapshot) -> Answer:
        if snapshot.generation != self._checked_generation:
            self.warm_up()
        if problem := unknown_business(business, snapshot.businesses):
            raise InvalidQuestion(problem)  # the setting itself was checked at warm-up
        t0 = time.perf_counter()
        passages = self.search.retrieve(asked)
        t1 = time.perf_counter()
        draft = self.compose(asked, passages, self.settings)
        t2 = time.perf_counter()
        result = Answer(question=question, answer=draft.answer, abstained=draft.abstained,
                        citations=draft.citations, guardrails=self.rule_engine.evaluate(asked), see_also=draft.see_also)
        result = links.attach(result, self.settings.ui_base_url)
        result = mark_overdue(result, self._review_due, datetime.now(UTC).date())
        result = output_filter.apply(result)
        t3 = time.perf_counter()
        return result.model_copy(update={"timings_ms": Timings(
            retrieve=(t1 - t0) * MS, answer=(t2 - t1) * MS, guard=(t3 - t2) * MS, total=(t3 - started) * MS)})
