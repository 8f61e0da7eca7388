"""The paired comparison with the previous release, the results file, and the per-set reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.baseline import NaiveRanks
from assistant.errors import EvalSetError
from assistant.evals import run_cases
from assistant.fakes import FakeChain
from assistant.release import CHANGES, CaseRecord, Release, compare, load, save
from assistant.report import report_html, report_json, report_markdown, set_table
from tests.test_evals import ANSWERS, two_sets


def rec(passed: bool, rank: int | None = None) -> CaseRecord:
    return CaseRecord(set="s", passed=passed, rank=rank)


@pytest.mark.parametrize("before,now,kinds", [
    pytest.param(rec(False), rec(True), ["fixed"], id="fixed"),
    pytest.param(rec(True), rec(False), ["broken"], id="broken"),
    pytest.param(rec(True), rec(True), [], id="still-passes"),
    pytest.param(rec(False), rec(False), [], id="still-fails"),
    pytest.param(rec(True, 2), rec(True, 1), ["hit@1_fixed"], id="hit1-fixed-pass-unchanged"),
    pytest.param(rec(True, 1), rec(True, 3), ["hit@1_broken"], id="hit1-broken-pass-unchanged"),
    pytest.param(rec(True, 1), rec(False, None), ["broken", "hit@1_broken"], id="broken-and-lost-its-source"),
    pytest.param(rec(False, None), rec(True, 1), ["fixed", "hit@1_fixed"], id="fixed-and-found-its-source"),
    pytest.param(rec(False, 2), rec(False, 3), [], id="rank-moved-below-1"),
    pytest.param(None, rec(True, 1), ["new"], id="new-case-is-neither-fixed-nor-broken"),
])
def test_compare_pairs_by_case_id(before: CaseRecord | None, now: CaseRecord, kinds: list[str]) -> None:
    changes = compare({"c": now}, {"c": before} if before else {"other": rec(True)})
    assert {k for k, ids in changes.items() if ids} == set(kinds)
    assert all(ids == ["c"] for k, ids in changes.items() if k in kinds)


PREVIOUS = {"a-hit": CaseRecord(set="a", passed=False, rank=2), "a-third": CaseRecord(set="a", passed=True, rank=1),
            "b-must-ok": CaseRecord(set="b", passed=True), "b-must-partial": CaseRecord(set="b", passed=True),
            "b-near-ok": CaseRecord(set="b", passed=False), "b-near-wrong": CaseRecord(set="b", passed=False),
            "b-error": CaseRecord(set="b", passed=True), "gone": CaseRecord(set="b", passed=True)}


def test_run_lists_fixed_and_broken_per_set_and_overall(tmp_path: Path) -> None:
    cases, a, b = two_sets(tmp_path)
    run = run_cases(FakeChain(list(ANSWERS)), cases, previous=Release(path="old.json", cases=PREVIOUS))
    assert run.sets[str(a)]["changes"] == {"against": "old.json", "compared": 2, "fixed": ["a-hit"], "broken": [],
                                           "hit@1_fixed": ["a-hit"], "hit@1_broken": ["a-third"], "new": ["a-miss"]}
    assert run.sets[str(b)]["changes"] == {"against": "old.json", "compared": 5, "fixed": ["b-near-ok"],
                                           "broken": ["b-must-partial", "b-error"], "hit@1_fixed": [],
                                           "hit@1_broken": [], "new": []}
    overall = run.summary["changes"]
    assert {k: len(overall[k]) for k in CHANGES} == {"fixed": 2, "broken": 2, "hit@1_fixed": 1, "hit@1_broken": 1,
                                                    "new": 1}
    assert overall["compared"] == 7  # "gone" (only in the old file) is not counted

    md = report_markdown(run)
    assert "## Against the previous release (old.json)" in md
    assert f"- broken (2): {b}: b-must-partial, b-error" in md
    assert f"- hit@1 broken (1): {a}: a-third" in md and "- new (1)" in md
    html = report_html(run)
    assert "Against the previous release (old.json)" in html and "b-must-partial, b-error" in html


def test_set_table_has_a_row_per_set_and_one_for_the_run(tmp_path: Path) -> None:
    cases, a, b = two_sets(tmp_path)
    run = run_cases(FakeChain(list(ANSWERS)), cases, naive=NaiveRanks(ranks={"a-hit": 1}, chunks=3),
                    previous=Release(path="old.json", cases=PREVIOUS), label="all held-out")
    header, row_a, row_b, row_all = set_table(run)
    col = {name: i for i, name in enumerate(header)}
    assert [row_a[0], row_b[0], row_all[0]] == [str(a), str(b), "all held-out"]
    assert row_a[col["pass"]] == "0.667 (2/3)" and row_a[col["hit@1"]] == "0.333" and row_a[col["MRR"]] == "0.444"
    assert row_a[col["follow-up pass"]] == "0.500 (1/2)" and row_a[col["must-fire"]] == "\u2014"
    assert row_b[col["must-fire"]] == "0.333 (1/3)" and row_b[col["wrong-firing"]] == "0.500 (1/2)"
    assert row_b[col["hit@1"]] == "\u2014" and row_b[col["naive hit@1"]] == "\u2014"
    assert row_all[col["pass"]] == "0.500 (4/8)" and row_all[col["naive hit@1"]] == "0.333"
    assert [row_all[col[k]] for k in ("fixed", "broken", "hit@1 fixed", "hit@1 broken", "new")] == ["2", "2", "1", "1", "1"]
    assert "| all held-out | 8 | 0.500 (4/8) |" in report_markdown(run)
    assert report_json(run)["sets"][str(b)]["guardrail"]["wrong_firing"]["fired"] == 1


def test_unavailable_baseline_is_one_line_not_a_failure(tmp_path: Path) -> None:
    cases, _, _ = two_sets(tmp_path)
    run = run_cases(FakeChain(list(ANSWERS)), cases, naive=NaiveRanks(unavailable="no raw pages (0*.txt) in /x"))
    md = report_markdown(run)
    assert md.count("Naive baseline unavailable: no raw pages (0*.txt) in /x.") == 1
    assert set_table(run)[-1][-3:] == ["n/a", "n/a", "n/a"]
    assert "Naive baseline unavailable" in report_html(run)


def test_results_file_round_trips_and_a_run_compares_clean_with_itself(tmp_path: Path) -> None:
    cases, _, _ = two_sets(tmp_path)
    run = run_cases(FakeChain(list(ANSWERS)), cases)
    path = tmp_path / "results" / "release.json"
    save(path, run.records(), run.summary, run.sets)
    saved = json.loads(path.read_text())
    assert saved["cases"]["a-third"] == {"set": str(tmp_path / "a.yaml"), "passed": True, "rank": 3,
                                         "abstained": False, "fired": []}
    assert saved["cases"]["b-must-partial"]["fired"] == ["credit-cap"] and saved["cases"]["b-error"]["passed"] is False
    assert saved["summary"]["passed"] == 4 and "by_tag" not in saved["sets"][str(tmp_path / "b.yaml")]
    previous = load(path)
    assert previous.cases == run.records()
    again = run_cases(FakeChain(list(ANSWERS)), cases, previous=previous)
    assert {k: again.summary["changes"][k] for k in CHANGES} == {k: [] for k in CHANGES}


@pytest.mark.parametrize("text,problem", [
    ("{not json", "not a readable results file"),
    ('{"cases": {}}', "not a results file of format 1"),
    ('{"format": 1, "cases": {"x": {"set": "s"}}}', "case x: key 'passed'"),
], ids=["not-json", "no-format", "record-missing-key"])
def test_bad_results_file_names_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(EvalSetError, match="r.json") as err:
        load(path)
    assert problem in str(err.value)


def test_cli_saves_results_and_compares(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant import cli

    cases = tmp_path / "s.yaml"
    cases.write_text("- id: a\n  question: q\n")
    results = tmp_path / "release.json"
    # No index here: the case errors (fails) in both runs, so nothing is fixed or broken.
    assert cli.main(["eval", str(cases), "--out", str(tmp_path / "o"), "--save-results", str(results)]) == 0
    assert load(results).cases["a"].passed is False
    assert cli.main(["eval", str(cases), "--out", str(tmp_path / "o"), "--compare", str(results)]) == 0
    assert "- fixed (0)" in capsys.readouterr().out
    assert cli.main(["eval", str(cases), "--out", str(tmp_path / "o"), "--compare", str(tmp_path / "none.json")]) == 2
    assert "none.json: not a readable results file" in capsys.readouterr().err
