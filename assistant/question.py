"""Make the `Question` value: validate the raw input once, and make its search text once.

Every later stage (retrieval, composing, rules) reads the same value. Whether a turn leans on the
earlier ones is not decided here by a keyword list: retrieval reads every turn with history both
alone and in context and lets the evidence decide, and the rules carry a topic's intents and
slots across turns (assistant/rules/conversation.py). Must never consult the index or a model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.errors import InvalidQuestion
from assistant.models import Question

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


def validate(question: object, history: Sequence[object], max_chars: int) -> None:
    for label, text in [("question", question)] + [(f"history turn {i + 1}", h) for i, h in enumerate(history)]:
        if not isinstance(text, str):
            raise InvalidQuestion(f"{label} is not text")
        if CONTROL.search(text):
            raise InvalidQuestion(f"{label} contains control characters or binary data")
        if len(text) > max_chars:
            raise InvalidQuestion(f"{label} is {len(text)} characters long; the limit is {max_chars}")
    if not str(question).strip():
        raise InvalidQuestion("question is empty")


CONTEXT_TURNS = 2  # earlier turns that make up the context: a topic is rarely set further back


def search_text(question: str, history: Sequence[str]) -> str:
    """The question in the context of the earlier turns (the question alone without history).

    The new question is given twice so it outweighs the earlier turns in both BM25 (query term
    frequency) and the embedding: the earlier turns supply the topic, the new one the ask.
    Retrieval also searches the question alone and lets the evidence decide (retrieve.py).
    """
    context = " ".join(" ".join(turn.split()) for turn in history[-CONTEXT_TURNS:])
    return f"{question} {context} {question}" if context else question


def make_question(text: str, history: Sequence[str] = (), business: str | None = None,
                  max_chars: int = 2000) -> Question:
    """The validated question; raises `InvalidQuestion` on unusable input."""
    validate(text, history, max_chars)
    clean = " ".join(text.split())
    return Question(text=clean, history=tuple(history), business=business or None,
                    search_text=search_text(clean, history))
