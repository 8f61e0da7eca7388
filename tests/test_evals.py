"""Eval case loading, scoring and reporting, with a fake chain; the project's set with the real one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.baseline import NaiveRanks
from assistant.config import PROJECT_ROOT
from assistant.errors import EvalSetError
from assistant.evals import (
    PROJECT_SETS,
    TRAIN_SETS,
    Case,
    _fold,
    held_out_cases,
    load_cases,
    run_cases,
    score,
)
from assistant.fakes import FakeChain
from assistant.fakes import fake_answer as answer
from assistant.report import write_reports
from assistant.rules.schema import Action


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text,problem", [
    ("- id: a\n  question: q\n  expect: {sources: [x]}\n", "case a: key 'expect.sources'"),
    ("- id: a\n  question: q\n  colour: red\n", "case a: key 'colour'"),
    ("- id: a\n  question: q\n  expect: {guardrails: [no-such-rule]}\n", "unknown rule id 'no-such-rule'"),
    ("- id: a\n  question: q\n- id: a\n  question: r\n", "case a: key 'id': duplicate"),
    ("- id: a\n", "case a: key 'question'"),
    ("id: a\n", "expected a list"),
    ("- [unclosed\n", "not valid YAML"),
    ("- id: a\n  question: q\n  expect: {guardrails: [credit-cap], actions: {wv-no-credit: deny}}\n",
     "'wv-no-credit' is not among the guardrails"),
    ("- id: a\n  question: q\n  expect: {guardrails: [credit-cap], actions: {credit-cap: block}}\n",
     "case a: key 'expect.actions"),
], ids=["unknown-expect-key", "unknown-case-key", "unknown-rule", "duplicate-id", "missing-question",
        "not-a-list", "bad-yaml", "action-of-a-rule-not-expected", "unknown-action"])
def test_bad_case_files_name_file_case_and_key(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, "set.yaml", text)
    with pytest.raises(EvalSetError) as err:
        load_cases([path])
    assert problem in str(err.value) and "set.yaml" in str(err.value)


def test_jsonl_and_folders(tmp_path: Path) -> None:
    write(tmp_path, "a.jsonl", json.dumps({"id": "j1", "question": "q", "expect": {"abstain": True}}) + "\n")
    write(tmp_path, "b.yaml", "- id: y1\n  question: q2\n  history: [earlier]\n")
    cases = load_cases([tmp_path])
    assert [c.id for c in cases] == ["j1", "y1"] and cases[1].history == ["earlier"]


def test_scoring_reports_each_failed_expectation(tmp_path: Path) -> None:
    (case,) = load_cases([write(tmp_path, "s.yaml", """
- id: c
  question: q
  expect:
    abstain: false
    sources_any: ["Up to  $35"]
    includes: ["$35"]
    includes_any: [lead, supervisor]
    excludes: [forbidden]
    guardrails: [credit-cap]
    forbid_guardrails: [wv-no-credit]
""")])
    assert score(case, answer("Credit up to $35; ask a LEAD.", ["… up to $35 …"], ["credit-cap"])) == []
    failures = score(case, answer("forbidden words", ["other"], ["wv-no-credit"], abstained=True))
    keys = [f.split(":")[0] for f in failures]
    assert keys == ["abstain", "sources_any", "includes", "includes_any", "excludes", "guardrails",
                    "forbid_guardrails"]


@pytest.mark.parametrize("given,failure", [
    pytest.param({"credit-cap": "escalate"}, None, id="the-expected-action"),
    pytest.param({"credit-cap": "caution"}, "actions: credit-cap gave caution, expected escalate",
                 id="a-caution-for-an-escalation"),
    pytest.param({}, "guardrails: ['credit-cap'] did not fire", id="not-fired-is-the-guardrails-failure"),
])
def test_an_expected_action_must_be_the_action_given(given: dict[str, Action], failure: str | None) -> None:
    case = Case(id="c", question="q", expect={"guardrails": ["credit-cap"], "actions": {"credit-cap": "escalate"}})
    failures = score(case, answer("text", rules=list(given), actions=given))
    assert failures == ([] if failure is None else [f for f in failures if f.startswith(failure)])
    assert (failure is None) == (failures == [])


def test_runner_metrics_and_reports(tmp_path: Path) -> None:
    cases = load_cases([write(tmp_path, "s.yaml", """
- id: hit
  question: q1
  history: [h]
  tags: [credits]
  expect: {sources_any: [alpha]}
- id: second
  question: q2
  expect: {sources_any: [beta]}
- id: oos
  question: q3
  tags: [out-of-scope]
  expect: {abstain: true}
- id: rule
  question: q4
  expect: {guardrails: [credit-cap], forbid_guardrails: [wv-no-credit]}
""")])
    chain = FakeChain([answer("a", ["alpha"]), answer("b", ["x", "beta"]), answer("no", abstained=True),
                       answer("r", rules=["credit-cap"])])
    run = run_cases(chain, cases)
    s = run.summary
    assert chain.asked[0] == ("q1", ["h"])
    assert s["pass_rate"] == 1.0 and s["retrieval"] == {"cases": 2, "hit@1": 0.5, "hit@3": 1.0, "mrr": 0.75}
    assert s["abstention"]["precision"] == 1.0 and s["guardrail"]["recall"] == 1.0
    paths = write_reports(run, tmp_path / "out")
    report = json.loads(paths[0].read_text())
    assert report["cases"][0]["result"]["answer"] == "a" and report["summary"]["cases"] == 4
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<svg" in html and "<script" not in html and "http" not in html.split("<body>")[0]


def test_cli_eval_exit_code_follows_the_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant import cli

    path = write(tmp_path, "s.yaml", "- id: a\n  question: q\n")
    # No index in this test's data dir: the case errors, fails, and the threshold decides the exit code.
    assert cli.main(["eval", str(path), "--out", str(tmp_path / "o"), "--min-pass-rate", "0.5"]) == 1
    assert "error: no index" in (tmp_path / "o" / "report.md").read_text()
    assert cli.main(["eval", str(path), "--out", str(tmp_path / "o"), "--min-pass-rate", "0"]) == 0


def test_project_sets_load_and_ids_are_unique_across_gated_and_held_out() -> None:
    load_cases([PROJECT_SETS])  # a duplicate id anywhere (gated, held-out, training) is an error
    held_out = held_out_cases()
    assert len(held_out) >= 20 and all("held-out" in c.tags for c in held_out)
    assert all("train" in c.tags and "held-out" not in c.tags for c in load_cases([TRAIN_SETS]))
    # Every held-out case measures something: evidence, an abstention, or a rule expectation.
    assert all(c.expect.sources_any or c.expect.abstain or c.is_guardrail_case for c in held_out)


def test_every_evidence_phrase_stands_on_a_page() -> None:
    # A case whose evidence is on no page can never pass: it would measure nothing.
    pages = _fold("\n".join(p.read_text() for p in (PROJECT_ROOT / "corpus").glob("*.md")))
    missing = [(c.id, phrase) for c in load_cases([PROJECT_SETS]) for phrase in c.expect.sources_any
               if _fold(phrase) not in pages]
    assert not missing


# Two sets whose every case exercises one measure; the expected numbers below are counted by hand.
SET_A = """
- id: a-hit
  question: qa1
  expect: {sources_any: [alpha]}
- id: a-third
  question: qa2
  history: [earlier]
  expect: {sources_any: [beta]}
- id: a-miss
  question: qa3
  history: [earlier]
  expect: {sources_any: [gamma]}
"""
SET_B = """
- id: b-must-ok
  question: qb1
  expect: {guardrails: [credit-cap, wv-no-credit]}
- id: b-must-partial
  question: qb2
  expect: {guardrails: [credit-cap, wv-no-credit]}
- id: b-near-ok
  question: qb3
  expect: {forbid_guardrails: [credit-cap]}
- id: b-near-wrong
  question: qb4
  history: [earlier]
  expect: {forbid_guardrails: [credit-cap]}
- id: b-error
  question: qb5
  expect: {guardrails: [reset-refund]}
"""
ANSWERS = [answer("a", ["alpha"]), answer("b", ["x", "y", "beta"]), answer("c", ["x"]),
           answer("d", rules=["credit-cap", "wv-no-credit"]), answer("e", rules=["credit-cap"]), answer("f"),
           answer("g", rules=["credit-cap"]), EvalSetError("boom")]


def two_sets(tmp_path: Path) -> tuple[list[Case], Path, Path]:
    a, b = write(tmp_path, "a.yaml", SET_A), write(tmp_path, "b.yaml", SET_B)
    return load_cases([a, b]), a, b


def test_summaries_per_set_follow_ups_and_rule_rates(tmp_path: Path) -> None:
    cases, a, b = two_sets(tmp_path)
    chain = FakeChain(list(ANSWERS))
    run = run_cases(chain, cases, label="all mine")
    assert [q for q, _ in chain.asked] == ["qa1", "qa2", "qa3", "qb1", "qb2", "qb3", "qb4", "qb5"]
    assert list(run.sets) == [str(a), str(b)] and run.label == "all mine"
    sa, sb, s = run.sets[str(a)], run.sets[str(b)], run.summary

    assert (sa["cases"], sa["passed"], sa["pass_rate"]) == (3, 2, 0.6667)
    assert sa["retrieval"] == {"cases": 3, "hit@1": 0.3333, "hit@3": 0.6667, "mrr": 0.4444}
    assert sa["follow_up"] == {"cases": 2, "passed": 1, "pass_rate": 0.5}
    assert sa["guardrail"]["must_fire"] == {"cases": 0, "held": 0, "rate": None}

    assert (sb["cases"], sb["passed"]) == (5, 2) and sb["retrieval"]["cases"] == 0
    assert sb["follow_up"] == {"cases": 1, "passed": 0, "pass_rate": 0.0}
    # must-fire: b-must-ok held; b-must-partial lacks wv-no-credit; b-error fired nothing.
    assert sb["guardrail"]["must_fire"] == {"cases": 3, "held": 1, "rate": 0.3333}
    # wrong-firing: b-near-wrong fired its forbidden rule, b-near-ok did not.
    assert sb["guardrail"]["wrong_firing"] == {"cases": 2, "fired": 1, "rate": 0.5}

    assert (s["cases"], s["passed"], s["pass_rate"]) == (8, 4, 0.5)
    assert s["follow_up"] == {"cases": 3, "passed": 1, "pass_rate": 0.3333}
    assert s["guardrail"]["must_fire"]["rate"] == 0.3333 and s["guardrail"]["wrong_firing"]["rate"] == 0.5
    assert s["retrieval"] == sa["retrieval"]
    assert "naive" not in s and "changes" not in s


def test_right_action_counts_the_cases_that_say_which_action(tmp_path: Path) -> None:
    cases = load_cases([write(tmp_path, "s.yaml", """
- id: right
  question: q1
  expect: {guardrails: [credit-cap], actions: {credit-cap: escalate}}
- id: other
  question: q2
  expect: {guardrails: [credit-cap], actions: {credit-cap: escalate}}
- id: silent
  question: q3
  expect: {guardrails: [credit-cap], actions: {credit-cap: escalate}}
- id: no-action-said
  question: q4
  expect: {guardrails: [credit-cap]}
""")])
    chain = FakeChain([answer("a", rules=["credit-cap"], actions={"credit-cap": "escalate"}),
                       answer("b", rules=["credit-cap"], actions={"credit-cap": "caution"}), answer("c"),
                       answer("d", rules=["credit-cap"], actions={"credit-cap": "caution"})])
    s = run_cases(chain, cases).summary
    assert s["guardrail"]["right_action"] == {"cases": 3, "held": 1, "rate": 0.3333}
    # A rule firing with another action is a rule failure: the gate's guardrail pass rate counts it.
    assert s["guardrail"]["must_fire"]["held"] == 3 and s["guardrail_case_pass_rate"] == 0.5


def test_naive_ranks_are_summarized_on_the_cases_with_evidence(tmp_path: Path) -> None:
    cases, a, b = two_sets(tmp_path)
    # a-miss has no naive rank (not run on it): it counts as a miss, not as absent.
    run = run_cases(FakeChain(list(ANSWERS)), cases, naive=NaiveRanks(ranks={"a-hit": 2, "a-third": 1}, chunks=7))
    assert run.summary["naive"] == {"cases": 3, "hit@1": 0.3333, "hit@3": 0.6667, "mrr": 0.5, "chunks": 7}
    assert run.sets[str(b)]["naive"]["cases"] == 0 and run.sets[str(b)]["naive"]["hit@1"] is None
    gone = run_cases(FakeChain(list(ANSWERS)), cases, naive=NaiveRanks(unavailable="no raw pages"))
    assert gone.summary["naive"] == {"unavailable": "no raw pages"} == gone.sets[str(a)]["naive"]


@pytest.mark.parametrize("quote,found", [
    ("We should not use the term “[restricted term]” with our clients.", True),  # the shown, redacted quote
    ("We should not use the term “refund” with our clients.", False),  # another word is not the phrase
])
def test_evidence_with_the_banned_term_is_found_in_its_redacted_quote(quote: str, found: bool) -> None:
    case = Case(id="c", question="q", expect={"sources_any": ["use the term “Settlement” with our clients"]})
    failures = score(case, answer("text", [quote]))
    assert (failures == []) is found
