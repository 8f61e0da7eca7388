"""Words as the rules read them: folded, contractions opened, typos corrected against the concepts' words.

The vocabulary is not a list of its own: it is every word the concept phrase lists use (a prefix
pattern's stem counts as a word), plus the state names. A word is corrected only when it is not
already a word the phrases know, is at least `MIN_CORRECTED_CHARS` long, and lies within
`typo_limit` edits (optimal string alignment: a swap of two neighbours is one edit) of a
vocabulary word; `not_typos` in concepts.yaml lists real words that are that close and must stay.
Pure functions of the text and the vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from rapidfuzz import process
from rapidfuzz.distance import OSA

from assistant.text import fold, undot_initials

MIN_CORRECTED_CHARS = 5  # shorter words are too often other real words ("cap", "fee", "art")
LONG_WORD_CHARS = 10  # from this length two typos are allowed, below it one
MIN_VOCABULARY_CHARS = 4  # a shorter stem would "correct" too many words
MIN_VOCABULARY_WORD_CHARS = 5  # and so would a short whole word ("were", "back")
# "isn't" / "isnt" -> "is not": negations become one word the phrase lists can name.
CONTRACTIONS = [
    (re.compile(r"\b(can)'?t\b|\bcannot\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"\b(is|has|was|are|were|do|does|did|have|had|should|could|would|must|need|ai)nt\b"), r"\1 not"),
    (re.compile(r"\b(i|you|he|she|we|they|it|that|there|who)'ll\b"), r"\1 will"),  # "she'll get a fee" is future
]
TOKEN = re.compile(r"[a-z0-9$%]+(?:[.,'][a-z0-9]+)*")


def typo_limit(word: str) -> int:
    return 2 if len(word) >= LONG_WORD_CHARS else 1


def prepare(text: str) -> str:
    """Folded text with dotted initials joined ("A.R.T." -> "art"), negations and "'ll" opened, "%" as "percent"."""
    text = undot_initials(fold(text)).replace("\u2019", "'").replace("%", " percent")
    for pattern, repl in CONTRACTIONS:
        text = pattern.sub(repl, text)
    return text


def abbreviation_pattern(abbreviations: Mapping[str, str]) -> re.Pattern[str] | None:
    """One pattern for every shorthand, longest first, matched as a whole word ("w/o", "#", "acct")."""
    if not abbreviations:
        return None
    def one(a: str) -> str:  # word boundaries only where the shorthand itself begins or ends with a letter
        return ((r"(?<![a-z0-9$])" if a[0].isalnum() else "") + re.escape(a)
                + (r"(?![a-z0-9])" if a[-1].isalnum() else ""))
    return re.compile("|".join(one(a) for a in sorted(abbreviations, key=len, reverse=True)))


def expand(prepared: str, abbreviations: Mapping[str, str], pattern: re.Pattern[str] | None) -> str:
    """Prepared text with agents' shorthand spelt out ("acct" -> "account", "w/" -> "with")."""
    if pattern is None:
        return prepared
    return pattern.sub(lambda m: f" {abbreviations[m.group(0)]} ", prepared)


def tokens(prepared: str) -> list[str]:
    """Words and numbers; hyphens split ("re-set" -> "re", "set"), a possessive 's goes."""
    out = []
    for tok in TOKEN.findall(prepared):
        if tok.endswith("'s"):
            tok = tok[:-2]
        out.append(tok.strip("'.,"))
    return [t for t in out if t]


class Corrector:
    """Reads a misspelt word as the nearest vocabulary word (rapidfuzz, optimal string alignment)."""

    def __init__(self, words: Iterable[str], stems: Iterable[str], keep: Iterable[str] = ()) -> None:
        """`words`: whole words to read typos as; `stems`: prefix-pattern stems (also targets, and
        any word starting with one is known); `keep`: words never corrected."""
        self.stems = frozenset(s for s in stems if len(s) >= MIN_VOCABULARY_CHARS)
        self.vocabulary = sorted({w for w in words if len(w) >= MIN_VOCABULARY_WORD_CHARS and w.isalpha()} | self.stems)
        self.known_words = frozenset(self.vocabulary)
        self.keep = frozenset(keep)

    def known(self, word: str) -> bool:
        """A vocabulary word, a word a prefix pattern already matches, or a listed real word."""
        return (word in self.known_words or word in self.keep
                or any(word[:n] in self.stems for n in range(MIN_VOCABULARY_CHARS, len(word))))

    def candidates(self, word: str) -> list[tuple[str, int]]:
        """Vocabulary words within the typo limit, nearest first, then alphabetical (deterministic)."""
        hits = process.extract(word, self.vocabulary, scorer=OSA.distance, score_cutoff=typo_limit(word), limit=None)
        # A typo rarely changes a word's first letter; allowing it reads "night" as "fight".
        return sorted(((h[0], int(h[1])) for h in hits if h[0][0] == word[0]), key=lambda h: (h[1], h[0]))

    def correct(self, word: str) -> str:
        if len(word) < MIN_CORRECTED_CHARS or not word.isalpha() or word in self.known_words or word in self.keep:
            return word
        found = self.candidates(word)
        if self.known(word):  # a prefix already reads it: only a dropped letter of a longer key word
            found = [f for f in found if len(f[0]) > len(word)]  # is worth fixing ("settlemnt")
        return found[0][0] if found else word
