"""Make the `Question` value: validate the raw input once, decide follow-up and search text once.

Every later stage (retrieval, composing, rules) reads the same value instead of re-deriving
follow-up status or search text from raw strings; the rules read the question and the agent's
earlier turns with their own vocabulary (assistant/rules). Must never consult the index or a
model: a question means the same whatever the pages say.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.errors import InvalidQuestion
from assistant.models import Question
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


def search_text(question: str, previous: str | None) -> str:
    """A follow-up is searched together with the turn before it.

    The new question is given twice so it outweighs the earlier turn in both BM25 (query term
    frequency) and the embedding: the earlier turn supplies the topic, the new one the ask.
    """
    return f"{question} {previous} {question}" if previous is not None else question


def make_question(text: str, history: Sequence[str] = (), business: str | None = None,
                  max_chars: int = 2000) -> Question:
    """The validated question; raises `InvalidQuestion` on unusable input."""
    validate(text, history, max_chars)
    clean = " ".join(text.split())
    follow_up = bool(history) and is_follow_up(clean)
    return Question(text=clean, history=tuple(history), business=business or None, follow_up=follow_up,
                    search_text=search_text(clean, history[-1] if follow_up else None))
