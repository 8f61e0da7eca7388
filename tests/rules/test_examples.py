"""Every example in corpus/rules.yaml behaves as labelled: one test per example, generated from the file.

A firing example must give its rule the labelled action; a near-miss must not fire its rule.
Run in pure-lexicon mode (no embedder), the mode every unit test and a model-less tool gets, and
with the fake embedder's vote on; tests/test_integration.py runs them with the real model's vote.
"""

from __future__ import annotations

import pytest

from assistant.question import make_question
from assistant.rules import Engine, default_book, evaluate
from assistant.rules.schema import ExampleSpec

BOOK = default_book()
CASES = [pytest.param(rule.id, example, id=f"{rule.id}:{example.id}")
         for rule in BOOK.rules for example in rule.spec.examples.fire + rule.spec.examples.near_misses]
MIN_FIRING, MIN_NEAR_MISSES = 20, 10


def check(rule: str, example: ExampleSpec, fired: dict[str, str]) -> None:
    if example.action is None:
        assert rule not in fired, f"{rule} fired on a near-miss: {fired}"
    else:
        assert fired.get(rule) == example.action, f"expected {rule}={example.action}, got {fired}"


@pytest.mark.parametrize("rule,example", CASES)
def test_example_in_lexicon_mode(rule: str, example: ExampleSpec) -> None:
    fired = {v.rule: v.action for v in evaluate(make_question(example.q, example.history))}
    check(rule, example, fired)


@pytest.mark.parametrize("rule,example", CASES)
def test_example_with_the_vote(rule: str, example: ExampleSpec, voting: Engine) -> None:
    fired = {v.rule: v.action for v in voting.evaluate(make_question(example.q, example.history))}
    check(rule, example, fired)


def test_every_rule_has_enough_examples() -> None:
    for rule in BOOK.rules:
        assert len(rule.spec.examples.fire) >= MIN_FIRING, rule.id
        assert len(rule.spec.examples.near_misses) >= MIN_NEAR_MISSES, rule.id
