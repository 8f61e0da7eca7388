"""One turn read into concepts and slots, and the agent's turns folded into the topic the rules see.

A turn is read alone (`read`). Turns are then folded oldest first:

- a turn with no intent of its own ("her address is in West Virginia", "what if it's $80?")
  continues the topic: its concepts are added and the slots it fills replace the earlier ones;
- a turn with an intent of its own continues the topic with a new ask: its intents replace the
  earlier ones ("can I give him that guy's email then?" keeps the person from before);
- a self-contained turn, one with its own intent and its own subject (the fee, invoice, plan, ...
  it is about) while the topic is about a different subject, starts a new topic: nothing earlier
  carries ("How do I read a CNG invoice?" after a credit question).

Concepts that fill the same slot (concepts.yaml `slot:`) replace each other, so "it was a device
issue after all" replaces the earlier "failed blow". Amounts replace earlier ones too, except in
a turn that adds one to another (the `adds-to` concept: "another 15 on top" of a $30 coupon, "35
now and another 35 later"): then their total counts as an amount as well. No list of follow-up openings is used: what a
turn contributes decides, with one concept of concepts.yaml read here: a `re-ask` turn ("can i
do that?", "is that ok") supplies the whole topic again, so every rule reads it as if the request
had just been repeated. Must never look at rules: the topic is a fact about the conversation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from assistant.rules.concepts import Lexicon
from assistant.rules.slots import Slots, read_slots
from assistant.rules.typos import prepare, tokens

SUBJECT = "subject"  # the slot whose concepts say what a question is about
ADDS_TO = "adds-to"  # the concept of a turn whose amount comes on top of another one
RE_ASK = "re-ask"  # the concept of a turn that asks again for what the topic describes


@dataclass(frozen=True)
class Reading:
    """One turn: its typo-corrected words, the concepts found in them and the slots filled."""

    text: str
    words: tuple[str, ...]
    concepts: frozenset[str]
    slots: Slots

    @property
    def supplies(self) -> frozenset[str]:
        return self.concepts | self.slots.filled()


@dataclass(frozen=True)
class Topic:
    """What the rules see: the concepts and slots of the turns the newest one continues."""

    concepts: frozenset[str]
    slots: Slots
    texts: tuple[str, ...]  # the turns that make the topic, oldest first
    supplied: frozenset[str]  # concept and slot names the newest turn itself supplied
    continued: bool  # the newest turn leans on earlier turns

    @property
    def text(self) -> str:
        return " ".join(self.texts)


@lru_cache(maxsize=4096)
def read(text: str, lexicon: Lexicon) -> Reading:
    prepared = lexicon.expand(prepare(text))
    words = [lexicon.corrector.correct(w) for w in tokens(prepared)]
    corrected = " ".join(words)
    concepts = lexicon.find(words)
    slots = read_slots(text, prepared, corrected)
    if ADDS_TO in concepts and len(slots.amounts) > 1:
        slots = replace(slots, amounts=slots.amounts + (sum(slots.amounts),))
    return Reading(text=text, words=tuple(words), concepts=concepts, slots=slots)


def _slots_filled(concepts: frozenset[str], lexicon: Lexicon) -> set[str]:
    return {lexicon.slot_of[c] for c in concepts if c in lexicon.slot_of}


def starts_new_topic(turn: Reading, topic: Topic, lexicon: Lexicon) -> bool:
    """Its own intent and its own subject, while the topic is about something else."""
    def subjects(concepts: frozenset[str]) -> frozenset[str]:
        return frozenset(c for c in concepts if lexicon.slot_of.get(c) == SUBJECT)

    mine, theirs = subjects(turn.concepts), subjects(topic.concepts)
    return bool(turn.concepts & lexicon.intents) and bool(mine) and bool(theirs) and not mine & theirs


def fold_turns(turns: Sequence[Reading], lexicon: Lexicon) -> Topic:
    """The topic of the newest turn, given the turns before it (oldest first)."""
    topic: Topic | None = None
    for turn in turns:
        if topic is None or starts_new_topic(turn, topic, lexicon):
            topic = Topic(turn.concepts, turn.slots, (turn.text,), turn.supplies, continued=False)
            continue
        dropped: set[str] = set()
        if turn.concepts & lexicon.intents:
            dropped |= topic.concepts & lexicon.intents
        refilled = _slots_filled(turn.concepts, lexicon)
        dropped |= {c for c in topic.concepts if lexicon.slot_of.get(c) in refilled}
        slots = topic.slots.updated(turn.slots)
        if ADDS_TO in turn.concepts and turn.slots.amounts and topic.slots.amounts:
            slots = replace(slots, amounts=turn.slots.amounts + (max(topic.slots.amounts) + max(turn.slots.amounts),))
        concepts = (topic.concepts - dropped) | turn.concepts
        # "can i do that?" repeats the request the topic describes: every rule reads it again
        supplied = turn.supplies | (concepts | slots.filled() if RE_ASK in turn.concepts else frozenset())
        topic = Topic(concepts=concepts, slots=slots, texts=topic.texts + (turn.text,), supplied=supplied,
                      continued=True)
    if topic is None:
        raise ValueError("no turns to fold")
    return topic
