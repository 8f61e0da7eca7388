"""The two data files load, and a file that contradicts itself fails with one error naming the rule and the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from assistant.errors import RuleBookError
from assistant.rules import DEFAULT_FOLDER, load_book

P = pytest.param


def rules_data() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DEFAULT_FOLDER / "rules.yaml").read_text())


def write(folder: Path, rules: dict, concepts: str | None = None) -> Path:  # type: ignore[type-arg]
    folder.mkdir(exist_ok=True)
    (folder / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True))
    (folder / "concepts.yaml").write_text(concepts or (DEFAULT_FOLDER / "concepts.yaml").read_text())
    return folder


def rule(data: dict, rule_id: str) -> dict:  # type: ignore[type-arg]
    return next(r for r in data["rules"] if r["id"] == rule_id)


def test_the_project_files_load() -> None:
    book = load_book(DEFAULT_FOLDER)
    assert len(book.rules) == 7 and book.rule("credit-cap").spec.parameters == {"cap": 35.0}


@pytest.mark.parametrize("edit,message", [
    P(lambda d: rule(d, "credit-cap").__setitem__("when", "generosity"), "credit-cap: when: 'generosity' is neither",
      id="unknown-concept"),
    P(lambda d: rule(d, "credit-cap")["parameters"].__setitem__("cap", 40),
      "credit-cap: parameter cap=40 but no quote says $40", id="cap-not-in-quote"),
    P(lambda d: rule(d, "wv-no-credit")["parameters"].__setitem__("states", ["WV", "NY"]),
      "wv-no-credit: parameter states lists NY but no quote names New York", id="state-not-in-quote"),
    P(lambda d: rule(d, "credit-cap").__setitem__("parameters", {}), "parameter 'cap' is not in parameters",
      id="missing-parameter"),
    P(lambda d: rule(d, "credit-cap")["outcomes"][0].__setitem__("message", "over ${limit}"),
      "credit-cap: outcomes[0].message: unknown placeholder 'limit'", id="unknown-placeholder"),
    P(lambda d: rule(d, "credit-cap").__setitem__("suppressed_by", ["wv-credit"]), "unknown rule 'wv-credit'",
      id="unknown-suppressor"),
    P(lambda d: rule(d, "reset-refund")["outcomes"].reverse(), "reset-refund: outcomes[0] has no `when`",
      id="unreachable-outcome"),
    P(lambda d: rule(d, "reset-refund")["vote"].__setitem__("concept", "refundish"), "'refundish' is not a concept",
      id="unknown-vote-concept"),
    P(lambda d: rule(d, "reset-refund")["examples"]["near_misses"][0].__setitem__("action", "deny"),
      "near-miss 'define-reset' has an action", id="near-miss-with-action"),
    P(lambda d: d["rules"].append(rule(d, "reset-refund")), "rule id 'reset-refund' is used twice", id="duplicate-id"),
    P(lambda d: rule(d, "credit-cap").__setitem__("when", {"slot": "amount", "in": "cap"}), "amount is compared with",
      id="bad-slot-test"),
])
def test_a_bad_rules_file_fails_loudly(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    data = rules_data()
    edit(data)
    with pytest.raises(RuleBookError, match=re.escape(message)):
        load_book(write(tmp_path / "rules", data))


@pytest.mark.parametrize("concepts,message", [
    P("concepts:\n  credit:\n    phrases: ['... credit']\n", "starts or ends with '...'", id="gap-at-start"),
    P("concepts:\n  credit:\n    phrases: ['cred(it)']\n", "is not a word", id="regex-is-not-the-syntax"),
    P("concepts:\n  Credit:\n    phrases: [credit]\n", "lower-case words", id="bad-name"),
    P("concepts:\n  amount:\n    phrases: [credit]\n", "built-in slot", id="slot-name"),
])
def test_a_bad_concepts_file_fails_loudly(tmp_path: Path, concepts: str, message: str) -> None:
    with pytest.raises(RuleBookError, match=re.escape(message)):
        load_book(write(tmp_path / "rules", rules_data(), concepts))


def test_a_missing_file_says_where_the_rules_live(tmp_path: Path) -> None:
    with pytest.raises(RuleBookError, match="rules.yaml: not found"):
        load_book(tmp_path)
