"""Make the `Question` value: validate the raw input once, and make its search text once.

Every later stage (retrieval, composing, rules) reads the same value. Whether a turn leans on the
earlier ones is not decided here by a keyword list: retrieval reads every turn with history both
alone and in context and lets the evidence decide, and the rules carry a topic's intents and
slots across turns (assistant/rules/conversation.py). Must never consult the index or a model.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from assistant.errors import InvalidQuestion
from assistant.models import Question

# C0 controls (but tab and line breaks), DEL, C1 controls and U+FFFD (what undecodable bytes become):
# binary data or terminal escape sequences, never part of a question.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
# Embeddings, overrides and isolates reorder how the text is shown (a "Trojan Source" trick) and
# have no use in a typed question; the plain direction marks (U+200E/F) do, in right-to-left text.
BIDI_CONTROL = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Characters that show nothing although neither whitespace nor format characters (category Cf).
BLANK_LETTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def is_blank(text: str) -> bool:
    """Nothing a reader could see: whitespace, zero-width and other format characters only."""
    return all(ch.isspace() or ch in BLANK_LETTERS or unicodedata.category(ch) == "Cf" for ch in text)


def validate(question: object, history: Sequence[object], max_chars: int, max_turns: int = 50) -> None:
    if isinstance(history, str | bytes) or not isinstance(history, Sequence):
        raise InvalidQuestion("history is not a list of earlier turns")
    if len(history) > max_turns:
        raise InvalidQuestion(f"history has {len(history)} turns; the limit is {max_turns}")
    for label, text in [("question", question)] + [(f"history turn {i + 1}", h) for i, h in enumerate(history)]:
        if not isinstance(text, str):
            raise InvalidQuestion(f"{label} is not text")
        if len(text) > max_chars:
            raise InvalidQuestion(f"{label} is {len(text)} characters long; the limit is {max_chars}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: undecodable bytes on the command line become these
            raise InvalidQuestion(f"{label} is not valid text (undecodable bytes or a lone surrogate)") from None
        if CONTROL.search(text):
            raise InvalidQuestion(f"{label} contains control characters or binary data")
        if BIDI_CONTROL.search(text):
            raise InvalidQuestion(f"{label} contains invisible text-direction controls")
    if is_blank(str(question)):
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
                  max_chars: int = 2000, max_turns: int = 50) -> Question:
    """The validated question; raises `InvalidQuestion` on unusable input."""
    validate(text, history, max_chars, max_turns)
    clean = " ".join(text.split())
    return Question(text=clean, history=tuple(history), business=business or None,
                    search_text=search_text(clean, history))
