"""Hard business rules as data: corpus/rules.yaml (the rules) and corpus/concepts.yaml (their words).

    schema.py        pydantic models of the two files      book.py      load, cross-check, compile
    typos.py         words, contractions, typo correction  concepts.py  phrase lists -> concepts in a turn
    slots.py         amounts, fractions, states, banned term
    conversation.py  a turn read; turns folded into a topic
    conditions.py    what a rule condition means            vote.py      nearest-example vote, LOO threshold
    engine.py        lexicon first, then the vote -> Verdicts
    sources.py       quotes and parameters checked against the indexed pages (start-up)

`Engine(book, embedder).evaluate(question)` is what the chain calls; `evaluate(question)` here is
the same over the project's rule book in pure-lexicon mode (no embedder), for tests and tools.
"""

from __future__ import annotations

from functools import lru_cache

from assistant.config import PROJECT_ROOT
from assistant.models import Question, Verdict
from assistant.rules.book import Rule, RuleBook, cached_book, load_book
from assistant.rules.engine import Engine
from assistant.rules.sources import check_sources, section_texts

__all__ = ["DEFAULT_FOLDER", "Engine", "Rule", "RuleBook", "check_sources", "default_book", "evaluate", "load_book", "rule_ids",
           "section_texts"]

DEFAULT_FOLDER = PROJECT_ROOT / "corpus"


def default_book() -> RuleBook:
    """The project's rule book (corpus/rules.yaml + concepts.yaml), loaded once."""
    return cached_book(DEFAULT_FOLDER)


def rule_ids() -> frozenset[str]:
    """The rule ids eval sets may name."""
    return default_book().ids


@lru_cache(maxsize=1)
def _lexicon_engine() -> Engine:
    return Engine(default_book())


def evaluate(question: Question) -> list[Verdict]:
    """The project's rules on a question, lexicon only (the chain adds the example vote)."""
    return _lexicon_engine().evaluate(question)
