"""The last step of every answer path: the banned term never leaves the assistant.

`scrub` finds the term in any case, plural, hyphenated, spaced, spelled-out or look-alike form
(homoglyphs, accents, zero-width characters, leetspeak) and replaces it with `REDACTED`, so a
reader sees that something was taken out. `apply` runs it over every field an agent is shown:
the answer body, the rule verdicts (rule id, message, source), and the citations (quote, page
title, section, page slug, anchor) and see-also entries. Links are scrubbed in decoded form
(percent-encoding, `+` and double encoding do not hide the term); a link that still carries it
afterwards is dropped. The only field left as given is `question`: the agent's own words, echoed.
The page viewer shows a page as written (it is the source, not the assistant speaking) and finds a
redacted quote or slug in it with `redacted_pattern`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TypeVar
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel

from assistant.models import Answer
from assistant.text import fold

BANNED = "settlement"
REDACTED = "[restricted term]"
LEET = str.maketrans({"3": "e", "1": "l", "|": "l", "5": "s", "$": "s", "7": "t", "+": "t", "0": "o", "€": "e"})
URL_FIELDS = frozenset({"url", "source_url"})
AGENTS_OWN_WORDS = frozenset({"question"})
DECODE_ROUNDS = 4  # percent-decoding passes before a link is judged: %2573 is "s" after two
# What a redaction may stand for when the viewer looks for a redacted quote in the page text.
REDACTED_SPAN = r".{1,60}?"

Model = TypeVar("Model", bound=BaseModel)


@lru_cache(maxsize=8192)
def _folded_char(ch: str) -> str:
    # Every field of every answer is read character by character; folding each one afresh
    # (Unicode normalization twice) took a third of a warm ask. Texts reuse few distinct characters.
    return fold(ch).translate(LEET)


def _letters(text: str) -> tuple[str, list[int]]:
    """The text's letters only, folded and de-leeted, with the position each came from."""
    letters: list[str] = []
    where: list[int] = []
    for pos, ch in enumerate(text):
        for c in _folded_char(ch):
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


def _decoded(url: str) -> str:
    for _ in range(DECODE_ROUNDS):
        decoded = unquote_plus(url)
        if decoded == url:
            break
        url = decoded
    return url


def url_contains_banned(url: str) -> bool:
    return contains_banned(_decoded(url))


def scrub_url(url: str) -> str:
    """The link with the term scrubbed from its decoded path, query values and fragment; "" when the
    term survives that (in the host, a key, or an encoding we did not undo): no link beats a leak."""
    if not url_contains_banned(url):
        return url
    parts = urlsplit(url)
    query = urlencode([(key, scrub(_decoded(value))) for key, value in parse_qsl(parts.query, keep_blank_values=True)],
                      quote_via=quote)
    clean = urlunsplit((parts.scheme, parts.netloc, quote(scrub(_decoded(parts.path)), safe="/"), query,
                        quote(scrub(_decoded(parts.fragment)))))
    return "" if url_contains_banned(clean) else clean


def _scrub_value(name: str, value: object) -> object:
    if isinstance(value, str):
        return scrub_url(value) if name in URL_FIELDS else scrub(value)
    if isinstance(value, BaseModel):
        return scrub_fields(value)
    if isinstance(value, list | tuple):
        return type(value)(_scrub_value(name, v) for v in value)
    return value


def scrub_fields(model: Model, keep: frozenset[str] = frozenset()) -> Model:
    """The model with every text field (nested ones too) scrubbed, except the fields in `keep`."""
    update = {name: _scrub_value(name, getattr(model, name)) for name in type(model).model_fields if name not in keep}
    return model.model_copy(update=update)


def apply(answer: Answer) -> Answer:
    """Scrub everything an agent is shown; only the agent's own question stays as asked."""
    return scrub_fields(answer, keep=AGENTS_OWN_WORDS)


def redacted_pattern(text: str) -> re.Pattern[str]:
    """A pattern that finds the original of a scrubbed text (a quote, a slug) in the unscrubbed page."""
    pieces = [re.escape(piece) for piece in text.split(REDACTED)]
    return re.compile(REDACTED_SPAN.join(pieces), re.DOTALL)
