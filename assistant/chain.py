"""`ask(question, history, business) -> Answer`: the one path every caller (CLI, UI, evals, benchmarks) uses.

    validate -> retrieve (hybrid, LangChain retriever) -> compose (extractive) -> guardrails -> scrub

A future LLM backend replaces `compose` only; validation, retrieval, guardrails and the final
filter stay on the path. Heavy resources (model, Chroma client, BM25 index) load on first use.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any

from langchain_core.runnables import RunnableLambda

from assistant import answer as composer
from assistant import guardrails
from assistant.config import Settings
from assistant.embeddings import Embedder, get_embedder
from assistant.errors import ConfigError, InvalidQuestion
from assistant.models import Answer, Draft, Passage, Timings
from assistant.normalize import is_follow_up
from assistant.retrieve import HybridSearch, SopRetriever

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
Composer = Callable[[str, list[Passage], Settings], Draft]


def validate(question: str, history: list[str], max_chars: int) -> str:
    for label, text in [("question", question)] + [(f"history turn {i + 1}", h) for i, h in enumerate(history)]:
        if not isinstance(text, str):
            raise InvalidQuestion(f"{label} is not text")
        if CONTROL.search(text):
            raise InvalidQuestion(f"{label} contains control characters or binary data")
        if len(text) > max_chars:
            raise InvalidQuestion(f"{label} is {len(text)} characters long; the limit is {max_chars}")
    if not question.strip():
        raise InvalidQuestion("question is empty")
    return " ".join(question.split())


def retrieval_query(question: str, history: list[str]) -> str:
    """A follow-up ("and in West Virginia?") is searched together with the turn before it.

    The new question is given twice so it outweighs the earlier turn in both BM25 (query term
    frequency) and the embedding: the earlier turn supplies the topic, the new one the ask.
    """
    if history and is_follow_up(question):
        return f"{question} {history[-1]} {question}"
    return question


def unknown_business(business: str | None, known: list[str]) -> str | None:
    """Why `business` can't scope an answer, or None when it can (or is not given)."""
    if business and business not in known:
        return f"no page belongs to business {business!r} (the pages cover: {', '.join(known)})"
    return None


def extractive(query: str, passages: list[Passage], settings: Settings) -> Draft:
    return composer.compose(query, passages, settings.ui_base_url, settings.abstain_below)


class Chain:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, client: Any = None,
                 compose: Composer = extractive) -> None:
        self.settings = settings
        self._embedder = embedder
        self._client = client
        self.compose = compose
        self._rules_checked = False

    @cached_property
    def search(self) -> HybridSearch:
        embedder = self._embedder or get_embedder(self.settings.embedding_model)
        return HybridSearch(self.settings, embedder, self._client)

    @cached_property
    def retriever(self) -> SopRetriever:
        return SopRetriever(search=self.search, k=self.settings.passages)

    def warm_up(self) -> None:
        """Load the index and model, and check every guardrail's source section is indexed."""
        snapshot = self.search.snapshot
        if not self._rules_checked:
            guardrails.check_rule_sources({(c.page, c.section) for c in snapshot.chunks})
            if problem := unknown_business(self.settings.business, snapshot.businesses):
                raise ConfigError(f"ASSISTANT_BUSINESS: {problem}")
            self._rules_checked = True
        self.search.embedder.embed_query("warm up")

    def ask(self, question: str, history: list[str] | None = None, business: str | None = None) -> Answer:
        """Answer one question. `business` (else the `business` setting) restricts the answer to
        that line of business's pages; without either, the best passage's business is used."""
        history = list(history or [])
        started = time.perf_counter()
        clean = validate(question, history, self.settings.max_question_chars)
        if not self._rules_checked:
            self.warm_up()
        if problem := unknown_business(business, self.search.snapshot.businesses):
            raise InvalidQuestion(problem)
        business = business or self.settings.business or None  # the setting was checked at warm-up
        t0 = time.perf_counter()
        query = retrieval_query(clean, history)
        passages = [d.metadata["passage"] for d in self.retriever.invoke(query, business=business)]
        t1 = time.perf_counter()
        draft = self.compose(query, passages, self.settings)
        t2 = time.perf_counter()
        text, verdicts = guardrails.apply(clean, history, draft, self.settings.ui_base_url)
        result = Answer(question=question, answer=text, abstained=draft.abstained, citations=draft.citations,
                        guardrails=verdicts, see_also=draft.see_also)
        result = guardrails.guard(result)
        t3 = time.perf_counter()
        ms = 1000.0
        return result.model_copy(update={"timings_ms": Timings(
            retrieve=(t1 - t0) * ms, answer=(t2 - t1) * ms, guard=(t3 - t2) * ms, total=(t3 - started) * ms)})

    def as_runnable(self) -> RunnableLambda:
        """The chain as a LangChain Runnable: input {"question": str, "history": [str], "business": str}."""
        return RunnableLambda(lambda x: self.ask(x["question"], x.get("history") or [], x.get("business")))
