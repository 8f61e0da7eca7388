"""The rule book: corpus/rules.yaml and corpus/concepts.yaml loaded, cross-checked and compiled.

Loading fails with one `RuleBookError` naming the file, the rule and the key when the two files
disagree: a condition names a concept that does not exist, a parameter is missing or of the
wrong kind, a message names an unknown parameter, a parameter is not in the rule's quotes, an
outcome can never be reached. What the pages say is checked later, against the index
(sources.py), because the index is what the answers quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import cast

from assistant.errors import RuleBookError
from assistant.markup import innermost_heading, slugify
from assistant.models import CitationSource
from assistant.output_filter import BANNED
from assistant.rules.concepts import Lexicon
from assistant.rules.schema import (
    BUILTIN_SLOTS,
    ConceptFile,
    OutcomeSpec,
    RuleFile,
    RuleSpec,
    names_in,
    parameters_in,
    read_yaml,
)
from assistant.rules.slots import STATE_NAMES, STATE_WORDS
from assistant.rules.sources import money, parameter_problems

RULES_FILE = "rules.yaml"
CONCEPTS_FILE = "concepts.yaml"


@dataclass(frozen=True)
class Rule:
    spec: RuleSpec
    reads: frozenset[str]  # the concept and slot names its conditions need present (none under a `not`)
    citation: CitationSource

    @property
    def id(self) -> str:
        return self.spec.id

    def message(self, outcome: OutcomeSpec) -> str:
        shown = {k: (money(v)[1:] if isinstance(v, float) else ", ".join(STATE_NAMES.get(s, s) for s in v))
                 for k, v in self.spec.parameters.items()}
        return outcome.message.format(**shown)


@dataclass(frozen=True, eq=False)
class RuleBook:
    rules: tuple[Rule, ...]
    lexicon: Lexicon
    folder: Path

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(r.id for r in self.rules)

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)


def _problems(rule: RuleSpec, concepts: set[str], ids: set[str]) -> list[str]:
    known = concepts | set(BUILTIN_SLOTS)
    conditions = [("when", rule.when)] + [(f"outcomes[{i}].when", o.when) for i, o in enumerate(rule.outcomes) if o.when]
    if rule.vote:
        conditions += [("vote.when", rule.vote.when)] if rule.vote.when else []
    problems = []
    for where, cond in conditions:
        for name in sorted(names_in(cond) - known):
            problems.append(f"{where}: {name!r} is neither a concept in {CONCEPTS_FILE} nor a slot "
                            f"({', '.join(BUILTIN_SLOTS)})")
        for param, use in parameters_in(cond):
            value = rule.parameters.get(param)
            if value is None:
                problems.append(f"{where}: parameter {param!r} is not in parameters")
            elif use == "above" and not isinstance(value, float) or use == "in" and not isinstance(value, list):
                problems.append(f"{where}: parameter {param!r} must be a {'number' if use == 'above' else 'list'}")
    if rule.vote and rule.vote.concept not in concepts:
        problems.append(f"vote.concept: {rule.vote.concept!r} is not a concept in {CONCEPTS_FILE}")
    problems += [f"suppressed_by: unknown rule {s!r}" for s in rule.suppressed_by if s not in ids]
    for i, outcome in enumerate(rule.outcomes):
        if outcome.when is None and i < len(rule.outcomes) - 1:
            problems.append(f"outcomes[{i}] has no `when`, so the outcomes after it can never be chosen")
        try:
            outcome.message.format(**{k: "" for k in rule.parameters})
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"outcomes[{i}].message: unknown placeholder {exc}")
    return problems + parameter_problems(rule)


def build(rules: RuleFile, concepts: ConceptFile, folder: Path) -> RuleBook:
    lexicon = Lexicon(concepts, STATE_WORDS | {BANNED})  # compiles the phrases: a bad one fails here
    ids = [r.id for r in rules.rules]
    if dupes := sorted({i for i in ids if ids.count(i) > 1}):
        raise RuleBookError(f"{RULES_FILE}: rule id {dupes[0]!r} is used twice")
    problems = [f"{r.id}: {p}" for r in rules.rules for p in _problems(r, set(concepts.concepts), set(ids))]
    if problems:
        raise RuleBookError(f"{RULES_FILE}: " + "; ".join(problems))
    compiled = []
    for r in rules.rules:
        reads = names_in(r.when, positive=True)
        for o in r.outcomes:
            reads |= names_in(o.when, positive=True) if o.when else set()
        if r.vote:
            reads |= {r.vote.concept} | (names_in(r.vote.when, positive=True) if r.vote.when else set())
        source = CitationSource(page=r.source.page, section=r.source.section,
                                anchor=slugify(innermost_heading(r.source.section)))
        compiled.append(Rule(spec=r, reads=frozenset(reads), citation=source))
    return RuleBook(rules=tuple(compiled), lexicon=lexicon, folder=folder)


def load_book(folder: Path) -> RuleBook:
    """The rule book next to the pages in `folder` (rules.yaml + concepts.yaml)."""
    rules = cast(RuleFile, read_yaml(folder / RULES_FILE, RuleFile))
    concepts = cast(ConceptFile, read_yaml(folder / CONCEPTS_FILE, ConceptFile))
    return build(rules, concepts, folder)


@lru_cache(maxsize=8)
def cached_book(folder: Path) -> RuleBook:
    return load_book(folder)
