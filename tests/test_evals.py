"""Eval case loading, scoring and reporting, with a fake chain; the project's set with the real one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from assistant.errors import EvalSetError
from assistant.evals import PROJECT_SETS, _fold, gated_cases, load_cases, run_cases, score
from assistant.models import Answer, Citation, CitationSource, Verdict
from assistant.report import write_reports


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
], ids=["unknown-expect-key", "unknown-case-key", "unknown-rule", "duplicate-id", "missing-question",
        "not-a-list", "bad-yaml"])
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


def answer(text: str, quotes: list[str] = (), rules: list[str] = (), abstained: bool = False) -> Answer:
    src = CitationSource(page="p", section="S", url="u")
    return Answer(question="q", answer=text, abstained=abstained,
                  citations=[Citation(n=i + 1, page="p", section="S", url="u", quote=q) for i, q in enumerate(quotes)],
                  guardrails=[Verdict(rule=r, action="deny", message="m", citation=src) for r in rules])


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


class FakeChain:
    """Queued answers in case order: the runner's seam."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, list[str]]] = []

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        self.asked.append((question, list(history or [])))
        return self.answers[len(self.asked) - 1]


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
    gated = gated_cases()
    everything = load_cases([PROJECT_SETS])  # a duplicate id anywhere is an error
    held_out = [c for c in everything if c.id not in {g.id for g in gated}]
    assert len(held_out) >= 20 and all("held-out" in c.tags for c in held_out)
    # Every held-out case measures something: evidence, an abstention, or a rule expectation.
    assert all(c.expect.sources_any or c.expect.abstain or c.is_guardrail_case for c in held_out)


def test_every_evidence_phrase_stands_on_a_page() -> None:
    # A case whose evidence is on no page can never pass: it would measure nothing.
    pages = _fold("\n".join(p.read_text() for p in (PROJECT_ROOT / "corpus").glob("*.md")))
    missing = [(c.id, phrase) for c in load_cases([PROJECT_SETS]) for phrase in c.expect.sources_any
               if _fold(phrase) not in pages]
    assert not missing
