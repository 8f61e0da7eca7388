"""`assistant health` end to end with the real model on the real pages (integration)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli
from assistant.config import Settings

pytestmark = pytest.mark.integration


def test_health_json_on_the_seed_pages_with_the_real_model(real_index: Settings, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(real_index.data_dir))
    out = tmp_path / "health.json"
    assert cli.main(["health", "--format", "json", "--out", str(out), "--today", "2026-11-26"]) == 0
    report = json.loads(out.read_text())
    assert [(c["kind"], c["a"]["page"], c["b"]["page"], c["a_values"], c["b_values"]) for c in report["conflicts"]] == [
        ("email", "a-r-t-and-collections-faqs", "delinquent-past-due-clients-in-collections",
         ["collection@scramsystems.com"], ["collection@lmgholdings.com"])]
    assert [t["value"] for t in report["typos"]] == ["collection@lmgholdigns.com"]
    assert {(d["page_a"], d["page_b"]) for d in report["duplicates"]} == {("client-courtesy-credits", "credits-key-points")}
    assert report["overdue"] == ["delinquent-past-due-clients-in-collections"]
    assert report["summary"]["pages_without_owner"] == 5 and report["summary"]["lost_content"] == 7
    assert cli.main(["health", "--format", "html"]) == 0
    assert "collection@lmgholdigns.com" in capsys.readouterr().out


def test_health_rejects_a_bad_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["health", "--today", "yesterday"]) == 2
    assert "--today" in capsys.readouterr().err
