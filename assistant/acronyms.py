"""Acronyms the pages spell out, used to widen lexical search.

Agents say "loss protection" where a step says "LPP", or "CNG" where the invoice tip says "Click N
Go". The table comes from the pages themselves: an all-caps token whose letters are the initials of
a run of capitalized words elsewhere in the pages ("Loss Protection Plan" -> LPP). No hand-kept list
to go stale, and nothing is expanded that the pages do not spell out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.text import tokens

ACRONYM = re.compile(r"\b[A-Z](?:\.?[A-Z]){1,4}\b")
CAPITALIZED_RUN = re.compile(r"\b[A-Z][a-z']*(?:[ \t]+[A-Z][a-z']*)+")
MIN_PHRASE_HITS = 2  # words of the spelled-out phrase a question needs before it gets the acronym


def find_acronyms(texts: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """{acronym token: tokens of the phrase it abbreviates}, e.g. {"lpp": ("loss", "protection", "plan")}."""
    texts = list(texts)
    wanted = {a.replace(".", "") for text in texts for a in ACRONYM.findall(text)}
    table: dict[str, tuple[str, ...]] = {}
    for text in texts:
        for run in CAPITALIZED_RUN.finditer(text):
            words = run.group().split()
            initials = "".join(w[0] for w in words)
            for start in range(len(words) - 1):
                for end in range(start + 2, min(start + 5, len(words)) + 1):
                    if initials[start:end] not in wanted or all(w.isupper() for w in words[start:end]):
                        continue
                    acronym, phrase = tokens(initials[start:end]), tuple(tokens(" ".join(words[start:end])))
                    if acronym and len(phrase) >= MIN_PHRASE_HITS:
                        table.setdefault(acronym[0], phrase)
    return table


def expand(query_tokens: list[str], table: dict[str, tuple[str, ...]]) -> list[str]:
    """The extra tokens a question gets: the phrase for an acronym it uses, the acronym for a phrase."""
    present = set(query_tokens)
    extra: list[str] = []
    for acronym, phrase in table.items():
        if acronym in present:
            extra += [t for t in phrase if t not in present]
        elif sum(t in present for t in phrase) >= MIN_PHRASE_HITS:
            extra.append(acronym)
    return extra
