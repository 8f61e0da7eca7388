"""The last step of every answer path: the banned term never leaves the assistant.

`scrub` finds the term in any case, plural, hyphenated, spaced, spelled-out or look-alike form
(homoglyphs, accents, zero-width characters, leetspeak) and replaces it. `apply` runs it once
over everything the assistant says in its own words: the answer body and the rule verdicts.
Quoted page text in citations stays verbatim (it is the source, not the assistant speaking).
"""

from __future__ import annotations

from assistant.models import Answer
from assistant.text import fold

BANNED = "settlement"
REDACTED = "[restricted term]"
LEET = str.maketrans({"3": "e", "1": "l", "|": "l", "5": "s", "$": "s", "7": "t", "+": "t", "0": "o", "€": "e"})


def _letters(text: str) -> tuple[str, list[int]]:
    """The text's letters only, folded and de-leeted, with the position each came from."""
    letters: list[str] = []
    where: list[int] = []
    for pos, ch in enumerate(text):
        for c in fold(ch).translate(LEET):
            if "a" <= c <= "z":
                letters.append(c)
                where.append(pos)
    return "".join(letters), where


def contains_banned(text: str) -> bool:
    return BANNED in _letters(text)[0]


def scrub(text: str) -> str:
    """The text with every form of the banned term replaced by `REDACTED`."""
    letters, where = _letters(text)
    spans: list[tuple[int, int]] = []
    start = letters.find(BANNED)
    while start != -1:
        end = start + len(BANNED)
        if end < len(letters) and letters[end] == "s" and where[end] == where[end - 1] + 1:
            end += 1  # the plural goes too
        spans.append((where[start], where[end - 1] + 1))
        start = letters.find(BANNED, end)
    for begin, finish in reversed(spans):
        text = text[:begin] + REDACTED + text[finish:]
    return text


def apply(answer: Answer) -> Answer:
    """Scrub everything the assistant says (not the verbatim quotes)."""
    return answer.model_copy(update={
        "answer": scrub(answer.answer),
        "guardrails": [v.model_copy(update={"message": scrub(v.message)}) for v in answer.guardrails],
    })
