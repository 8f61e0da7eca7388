"""Concepts: named phrase lists (corpus/concepts.yaml) found in a turn's words.

Phrase syntax, kept small on purpose (one element per word of the question):

    refund          the word itself
    refund*         any word starting with "refund" (refunds, refunded, refunding)
    wv|westvirginia either alternative (each may end in *)
    ...             up to `GAP` words of anything
    {number}        a number: 40, $40, 40%, forty, half

A concept is present when one of its phrases matches and the match does not lie inside a match
of one of its `unless` phrases ("credit" inside "credit card"). Matching is on typo-corrected
words (typos.py), so the phrase lists also make the corrector's vocabulary. Must never look at
rules, slots or turns: a concept is a fact about one text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from assistant.errors import RuleBookError
from assistant.rules.schema import ConceptFile
from assistant.rules.typos import Corrector, abbreviation_pattern, expand

GAP = 4  # words "..." may skip
LONG_PHRASE_WORD = 8  # a word this long in a longer phrase is a typo target too ("supervisor")
NUMBER_WORDS = frozenset("""
zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
seventeen eighteen nineteen twenty thirty forty fourty fifty sixty seventy eighty ninety hundred thousand half
""".split())
NUMBER = re.compile(r"^\$?\d[\d,]*(?:\.\d+)?%?$")
ELEMENT = re.compile(r"^(?:\.\.\.|\{number\}|[a-z0-9$%']+\*?(?:\|[a-z0-9$%']+\*?)*)$")


@dataclass(frozen=True)
class Element:
    words: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    gap: bool = False
    number: bool = False

    def accepts(self, token: str) -> bool:
        if self.number:
            return bool(NUMBER.match(token)) or token in NUMBER_WORDS
        return token in self.words or any(token.startswith(p) for p in self.prefixes)


Phrase = tuple[Element, ...]


def compile_phrase(text: str) -> Phrase:
    parts = text.split()
    if not parts or parts[0] == "..." or parts[-1] == "...":
        raise ValueError(f"phrase {text!r}: empty, or starts or ends with '...'")
    elements = []
    for part in parts:
        if not ELEMENT.match(part):
            raise ValueError(f"phrase {text!r}: {part!r} is not a word, word*, a|b, ... or {{number}}")
        if part == "...":
            elements.append(Element(gap=True))
        elif part == "{number}":
            elements.append(Element(number=True))
        else:
            alts = part.split("|")
            elements.append(Element(words=frozenset(a for a in alts if not a.endswith("*")),
                                    prefixes=tuple(a[:-1] for a in alts if a.endswith("*"))))
    return tuple(elements)


def match_at(phrase: Phrase, tokens: list[str], start: int, k: int = 0) -> int | None:
    """The end of the shortest match of `phrase[k:]` starting at `tokens[start]`, or None."""
    if k == len(phrase):
        return start
    element = phrase[k]
    if element.gap:
        for skip in range(GAP + 1):
            if start + skip > len(tokens):
                return None
            end = match_at(phrase, tokens, start + skip, k + 1)
            if end is not None:
                return end
        return None
    if start < len(tokens) and element.accepts(tokens[start]):
        return match_at(phrase, tokens, start + 1, k + 1)
    return None


def spans(phrases: list[Phrase], tokens: list[str]) -> list[tuple[int, int]]:
    found = []
    for phrase in phrases:
        for start in range(len(tokens)):
            end = match_at(phrase, tokens, start)
            if end is not None:
                found.append((start, end))
    return found


@dataclass(frozen=True)
class Concept:
    name: str
    phrases: tuple[Phrase, ...]
    unless: tuple[Phrase, ...]
    intent: bool
    slot: str | None


class Lexicon:
    """The compiled concepts and the typo corrector their words make."""

    def __init__(self, spec: ConceptFile, extra_words: frozenset[str] = frozenset()) -> None:
        concepts: list[Concept] = []
        words: set[str] = set(extra_words) | set(spec.typo_targets)  # typo targets: key words and long words
        known: set[str] = set()  # every word a phrase names: never corrected
        stems: set[str] = set()
        for name, concept in spec.concepts.items():
            try:
                phrases = tuple(compile_phrase(p) for p in concept.phrases)
                unless = tuple(compile_phrase(p) for p in concept.unless)
            except ValueError as exc:
                raise RuleBookError(f"concepts.yaml: {name}: {exc}") from None
            concepts.append(Concept(name, phrases, unless, concept.intent, concept.slot))
            for phrase in phrases + unless:
                for el in phrase:
                    known |= el.words
                    stems |= set(el.prefixes)
            for phrase in phrases:
                # Typos are read as a concept's key words (one-word phrases) and as long words; the
                # short words of longer phrases are often common ones ("were", "back", "whole").
                words |= {w for el in phrase for w in el.words if len(phrase) == 1 or len(w) >= LONG_PHRASE_WORD}
        self.concepts = {c.name: c for c in concepts}
        self.intents = frozenset(c.name for c in concepts if c.intent)
        self.slot_of = {c.name: c.slot for c in concepts if c.slot}
        self.corrector = Corrector(words, stems, known | set(spec.not_typos))
        self.abbreviations = dict(spec.abbreviations)
        self._abbreviation_pattern = abbreviation_pattern(self.abbreviations)
        # Phrases indexed by what their first word can be, so a turn is only matched against
        # phrases that can start somewhere in it.
        self._by_word: dict[str, list[tuple[str, Phrase]]] = defaultdict(list)
        self._by_prefix: dict[str, list[tuple[str, Phrase]]] = defaultdict(list)
        self._by_number: list[tuple[str, Phrase]] = []
        for c in concepts:
            for phrase in c.phrases:
                first = phrase[0]
                if first.number:
                    self._by_number.append((c.name, phrase))
                for word in first.words:
                    self._by_word[word].append((c.name, phrase))
                for prefix in first.prefixes:
                    self._by_prefix[prefix].append((c.name, phrase))

    def expand(self, prepared: str) -> str:
        """Agents' shorthand spelt out (concepts.yaml `abbreviations`)."""
        return expand(prepared, self.abbreviations, self._abbreviation_pattern)

    def _candidates(self, token: str) -> list[tuple[str, Phrase]]:
        found = list(self._by_word.get(token, ()))
        for n in range(1, len(token) + 1):
            found += self._by_prefix.get(token[:n], ())
        if NUMBER.match(token) or token in NUMBER_WORDS:
            found += self._by_number
        return found

    def find(self, tokens: list[str]) -> frozenset[str]:
        """The concepts present in typo-corrected words."""
        hits: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for start, token in enumerate(tokens):
            for name, phrase in self._candidates(token):
                end = match_at(phrase, tokens, start)
                if end is not None:
                    hits[name].append((start, end))
        present = set()
        for name, found in hits.items():
            unless = self.concepts[name].unless
            blocked = spans(list(unless), tokens) if unless else []
            if any(not any(b0 <= s0 and s1 <= b1 for b0, b1 in blocked) for s0, s1 in found):
                present.add(name)
        return frozenset(present)
