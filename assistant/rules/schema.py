"""The shapes of the two data files the business owns, as pydantic models.

`corpus/rules.yaml` holds every hard rule (what it enforces, where the page says so, its
parameters, when it fires, what it says, and the phrasings it must and must not fire on);
`corpus/concepts.yaml` holds the named concepts the rules' conditions are written in (phrase
lists). Loading checks each file's shape; `book.py` checks that the two agree with each other.
Must never hold behaviour: what a condition means is decided in `conditions.py`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, TypeAlias

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.errors import RuleBookError

Action = Literal["deny", "escalate", "caution", "rewrite"]
ACTIONS: tuple[Action, ...] = ("deny", "escalate", "caution", "rewrite")  # also the order verdicts are shown in
# Slots filled by code (slots.py), not by a phrase list; conditions name them like concepts.
BUILTIN_SLOTS = ("amount", "fraction", "state", "banned-term")
NAME = r"^[a-z][a-z0-9-]*$"


class Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# -- conditions: a concept or slot name, or all / any / not of conditions, or a slot compared with a parameter --
class AllOf(Data):
    all: list[Condition] = Field(min_length=1)


class AnyOf(Data):
    any: list[Condition] = Field(min_length=1)


class NotOf(Data):
    not_: Condition = Field(alias="not")


class SlotTest(Data):
    """`{slot: amount, above: cap}` or `{slot: state, in: states}`: a slot against a rule parameter."""

    slot: Literal["amount", "state"]
    above: str | None = None
    in_: str | None = Field(None, alias="in")

    @model_validator(mode="after")
    def _one_comparison(self) -> SlotTest:
        if (self.above is None) == (self.in_ is None):
            raise ValueError("a slot test compares with exactly one parameter: `above` or `in`")
        if self.slot == "amount" and self.above is None or self.slot == "state" and self.in_ is None:
            raise ValueError("amount is compared with `above: <number parameter>`, state with `in: <list parameter>`")
        return self


Condition: TypeAlias = str | AllOf | AnyOf | NotOf | SlotTest
for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()


def names_in(cond: Condition, positive: bool = False) -> set[str]:
    """The concept and slot names a condition reads; with `positive`, only those it needs present
    (not those under a `not`)."""
    if isinstance(cond, str):
        return {cond}
    if isinstance(cond, AllOf):
        return set().union(*(names_in(c, positive) for c in cond.all))
    if isinstance(cond, AnyOf):
        return set().union(*(names_in(c, positive) for c in cond.any))
    if isinstance(cond, NotOf):
        return set() if positive else names_in(cond.not_)
    return {cond.slot}


def parameters_in(cond: Condition) -> list[tuple[str, str]]:
    """(parameter, how it is used: "above" or "in") for every parameter a condition compares with."""
    if isinstance(cond, AllOf | AnyOf):
        parts = cond.all if isinstance(cond, AllOf) else cond.any
        return [p for c in parts for p in parameters_in(c)]
    if isinstance(cond, NotOf):
        return parameters_in(cond.not_)
    if isinstance(cond, SlotTest):
        return [(cond.above, "above")] if cond.above else [(cond.in_ or "", "in")]
    return []


# -- concepts.yaml -------------------------------------------------------------------------------------------
class ConceptSpec(Data):
    """A named concept: the phrases that express it, and phrases that look like it but are not it."""

    phrases: list[str] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list)  # a phrase match inside one of these does not count
    intent: bool = False  # what the agent wants to do (credit, pay, dispute, contact, ...)
    slot: str | None = Field(None, pattern=NAME)  # concepts sharing a slot replace each other across turns


class ConceptFile(Data):
    concepts: dict[str, ConceptSpec]
    not_typos: list[str] = Field(default_factory=list)  # real words the typo corrector must leave alone
    abbreviations: dict[str, str] = Field(default_factory=dict)  # agents' shorthand -> the words it stands for
    typo_targets: list[str] = Field(default_factory=list)  # short words of longer phrases read from their typos too

    @model_validator(mode="after")
    def _names(self) -> ConceptFile:
        for name in self.concepts:
            if not re.match(NAME, name):
                raise ValueError(f"concept name {name!r}: lower-case words joined by '-'")
            if name in BUILTIN_SLOTS:
                raise ValueError(f"concept name {name!r} is a built-in slot")
        return self


# -- rules.yaml ----------------------------------------------------------------------------------------------
class SourceSpec(Data):
    page: str
    section: str
    quotes: list[str] = Field(min_length=1)  # exact page sentences the rule enforces; checked at start-up


class OutcomeSpec(Data):
    action: Action
    message: str = Field(min_length=1)  # may name parameters: "up to ${cap}"
    when: Condition | None = None  # none: the rule's fallback outcome


class VoteSpec(Data):
    """The concept the nearest-example vote may supply when the phrase lists miss it (engine.py)."""

    concept: str
    when: Condition | None = None  # and only when this also holds


class ExampleSpec(Data):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    q: str = Field(min_length=1)
    history: list[str] = Field(default_factory=list)  # the agent's earlier turns, oldest first
    action: Action | None = None  # required for a firing example, absent for a near-miss


class ExamplesSpec(Data):
    fire: list[ExampleSpec] = Field(min_length=1)
    near_misses: list[ExampleSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _labelled(self) -> ExamplesSpec:
        for e in self.fire:
            if e.action is None:
                raise ValueError(f"firing example {e.id!r} has no action")
        for e in self.near_misses:
            if e.action is not None:
                raise ValueError(f"near-miss {e.id!r} has an action (near-misses must not fire)")
        ids = [e.id for e in self.fire + self.near_misses]
        if dupes := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"example id {dupes[0]!r} is used twice")
        firing = {(e.q.strip().lower(), tuple(e.history)) for e in self.fire}
        for e in self.near_misses:
            if (e.q.strip().lower(), tuple(e.history)) in firing:
                raise ValueError(f"near-miss {e.id!r} is also a firing example")
        return self


class RuleSpec(Data):
    id: str = Field(pattern=NAME)
    source: SourceSpec
    parameters: dict[str, float | list[str]] = Field(default_factory=dict)
    when: Condition
    outcomes: list[OutcomeSpec] = Field(min_length=1)  # the first whose `when` holds is the verdict
    vote: VoteSpec | None = None
    suppressed_by: list[str] = Field(default_factory=list)  # a deny from one of these makes this rule moot
    examples: ExamplesSpec


class RuleFile(Data):
    rules: list[RuleSpec] = Field(min_length=1)


def read_yaml(path: Path, model: type[Data]) -> Data:
    """`path` parsed into `model`, or one `RuleBookError` naming the file and the key."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleBookError(f"{path}: not found (the rules and concepts live next to the pages)") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RuleBookError(f"{path}: unreadable ({exc.__class__.__name__}: {exc})") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors()
        # A condition is a union: prefer the branch's own complaint over "not a string".
        err = next((e for e in errors if e["type"] == "value_error"), errors[0])
        raise RuleBookError(f"{path.name}: {_where(raw, err['loc'])}: {err['msg']}") from None


def _where(raw: object, loc: tuple[int | str, ...]) -> str:
    """A location a trainer can find: rule and example ids instead of list indexes, and none of
    pydantic's union branch names (they are not keys of the file)."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
            ident = node.get("id") if isinstance(node, dict) else None
            parts.append(str(ident) if ident else f"[{key}]")
        elif isinstance(node, dict) and key in node:
            node = node[key]
            parts.append(str(key))
    return ".".join(parts) or "top level"
