"""Text normalization shared by lexical retrieval, sentence scoring and guardrails.

`fold` makes look-alike spellings compare equal (case, width, accents, zero-width characters,
Cyrillic/Greek homoglyphs); `tokens` gives stemmed content words for BM25 and overlap scoring.
"""

from __future__ import annotations

import re
import unicodedata

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# Letters from other scripts that render like Latin ones (used to smuggle banned words past filters).
HOMOGLYPHS = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "т": "t", "х": "x", "у": "y", "і": "i",
    "ј": "j", "ѕ": "s", "ӏ": "l", "м": "m", "н": "h", "к": "k", "в": "b", "ԁ": "d", "ո": "n",
    "α": "a", "ε": "e", "ο": "o", "τ": "t", "ι": "i", "ν": "v", "κ": "k", "μ": "m", "η": "n",
    "ℓ": "l", "ı": "i",
})
STOPWORDS = frozenset("""
a an and are as at be been but by can could do does did for from had has have he her his how i if
in into is it its me my of on or our she so that the their them then there these they this to
was we were what when where which who whom why will with would you your yours am any just about
also than too very should shall may might must us okay ok hi hello please thanks thank get got
""".split())
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def fold(text: str) -> str:
    """Lower-case, compatibility-normalized, accent-free, homoglyph-free text."""
    text = unicodedata.normalize("NFKC", text).translate(ZERO_WIDTH)
    text = text.lower().translate(HOMOGLYPHS)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str) -> str:
    """A deliberately light stemmer: plural and tense endings only, predictable and fast."""
    if word.isdigit() or len(word) <= 3:
        return word
    for suffix, repl, min_len in (("ies", "y", 5), ("sses", "ss", 5), ("ing", "", 6), ("ed", "", 5)):
        if word.endswith(suffix) and len(word) >= min_len:
            word = word[: -len(suffix)] + repl
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
            word = word[:-1]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    return [w.replace("'", "") for w in WORD.findall(fold(text))]


# Single letters joined by dots, as in "A.R.T", "a.r.t." or "W.V.": the dots go.
DOTTED_INITIALS = re.compile(r"\b[A-Za-z](?:\.[A-Za-z])+\b\.?")


def undot_initials(text: str) -> str:
    """"A.R.T." -> "ART": the pages and agents spell team names both ways."""
    return DOTTED_INITIALS.sub(lambda m: m.group().replace(".", ""), text)


def tokens(text: str) -> list[str]:
    """Stemmed content words (stopwords dropped); "A.R.T" and "ART" both become "art"."""
    return [stem(w) for w in words(undot_initials(text)) if w not in STOPWORDS]
