"""Make the `Question` value: validate the raw input once, then normalize it once.

Every later stage (retrieval, composing, guardrails) reads the same value instead of
re-deriving follow-up status or normalized text from raw strings. Must never consult the index
or a model: a question means the same whatever the pages say.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.errors import InvalidQuestion
from assistant.models import Question
from assistant.normalize import normalize
from assistant.text import fold, tokens

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
FOLLOW_UP_START = re.compile(r"^(and|also|or|but|what if|what about|how about|if|same|then|even if|"
                             r"ok(ay)? (and|what|but)|so)\b")
FOLLOW_UP_REFERENCE = re.compile(r"\b(that|it|this|they|them|those|same one)\b")
TERSE_WORDS = 2  # content words at most: "and Ohio?" can only mean something with the turn before
SHORT_WORDS = 5  # content words at most for a turn that points back ("does that apply?")


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


def is_follow_up(question: str) -> bool:
    """A turn that leans on the one before ("and if the client lives in West Virginia?")."""
    q = fold(question).strip()
    content = tokens(q)
    return bool(FOLLOW_UP_START.match(q)) or len(content) <= TERSE_WORDS or (
        len(content) <= SHORT_WORDS and FOLLOW_UP_REFERENCE.search(q) is not None)


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
    """The validated, normalized question; raises `InvalidQuestion` on unusable input."""
    validate(text, history, max_chars)
    clean = " ".join(text.split())
    follow_up = bool(history) and is_follow_up(clean)
    current = normalize(clean)
    previous = normalize(history[-1]) if follow_up else None
    return Question(
        text=clean, history=tuple(history), business=business or None, follow_up=follow_up,
        normalized=current.text, amounts=current.amounts,
        context=previous.text if previous else "", context_amounts=previous.amounts if previous else (),
        search_text=search_text(clean, history),
    )
