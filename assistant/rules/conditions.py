"""What a rule condition means, over a topic's concepts and slots and the rule's parameters.

A name is true when the concept is present or the built-in slot is filled; `all`, `any` and
`not` combine; `{slot: amount, above: cap}` holds when the largest amount exceeds the parameter,
`{slot: state, in: states}` when a state named is in the list. Parameters come only from the
rules file: nothing in a question can change them.
"""

from __future__ import annotations

from collections.abc import Mapping

from assistant.rules.schema import AllOf, AnyOf, Condition, NotOf, SlotTest
from assistant.rules.slots import Slots

Parameters = Mapping[str, float | list[str]]


def holds(cond: Condition, concepts: frozenset[str], slots: Slots, params: Parameters) -> bool:
    if isinstance(cond, str):
        return cond in concepts or cond in slots.filled()
    if isinstance(cond, AllOf):
        return all(holds(c, concepts, slots, params) for c in cond.all)
    if isinstance(cond, AnyOf):
        return any(holds(c, concepts, slots, params) for c in cond.any)
    if isinstance(cond, NotOf):
        return not holds(cond.not_, concepts, slots, params)
    return _slot_test(cond, slots, params)


def _slot_test(test: SlotTest, slots: Slots, params: Parameters) -> bool:
    if test.above is not None:
        limit = params[test.above]
        return bool(slots.amounts) and isinstance(limit, float) and max(slots.amounts) > limit
    allowed = params[test.in_ or ""]
    return isinstance(allowed, list) and bool(slots.states & set(allowed))
