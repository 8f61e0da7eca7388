"""The default backend's real model, the real corpus, a real Chroma: the product as users run it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from assistant import cli
from assistant.chain import Chain
from assistant.config import Settings, load_settings
from assistant.corpus import load_pages
from assistant.embeddings import get_embedder
from assistant.ingest import ingest
from assistant.models import Answer
from assistant.present import answer_text
from assistant.question import make_question
from tests.conftest import CORPUS
from tests.rules.test_examples import CASES, check
from tests.servers import free_port, wait_for_port

pytestmark = pytest.mark.integration

RULE_QUESTIONS = [
    pytest.param("Can I offer the client a settlement to close the account?", "banned-term", "deny",
                 id="banned-term"),
    pytest.param("client failed a blow and paid the reset fee, can I refund it?", "reset-refund", "deny",
                 id="reset-refund"),
    pytest.param("Can I give a West Virginia client a $20 credit?", "wv-no-credit", "deny", id="wv-no-credit"),
    pytest.param("can I give a $60 courtesy credit for a closed service center", "credit-cap", "escalate",
                 id="credit-cap"),
    pytest.param("can I credit a missed appointment fee that has not been charged yet", "unassessed-fee", "deny",
                 id="unassessed-fee"),
    pytest.param("should I transfer a client disputing a double charge to A.R.T?", "art-no-disputes", "deny",
                 id="art-no-disputes"),
    pytest.param("can I give the client James Smith's phone number?", "collections-contact", "deny",
                 id="collections-contact"),
]


@pytest.mark.parametrize("question,rule,action", RULE_QUESTIONS)
def test_every_rule_through_ask_json(question: str, rule: str, action: str, real_index: Settings,
                                     monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(real_index.data_dir))
    assert cli.main(["ask", question, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    verdicts = {v["rule"]: v for v in data["guardrails"]}
    assert verdicts[rule]["action"] == action
    shown = answer_text(Answer(**data))
    assert shown.startswith({"deny": "Not allowed:", "escalate": "Escalate:"}[action])
    assert "settlement" not in shown.lower()
    assert "page=" in verdicts[rule]["citation"]["url"]


@pytest.mark.parametrize("rule,example", CASES)
def test_rule_example_with_the_real_models_vote(rule: str, example, real_chain: Chain) -> None:  # type: ignore[no-untyped-def]
    # Every corpus/rules.yaml example, as the chain decides it (phrase lists, then the real model's vote).
    fired = {v.rule: v.action for v in real_chain.rule_engine.evaluate(make_question(example.q, example.history))}
    check(rule, example, fired)


def test_follow_up_through_the_cli(real_index: Settings, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(real_index.data_dir))
    assert cli.main(["ask", "and if the client lives in West Virginia?", "--history",
                     "what's the most I can credit for an inconvenience?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "wv-no-credit" in {v["rule"] for v in data["guardrails"]}
    assert any("West Virginia" in c["quote"] for c in data["citations"])


def test_citations_are_verbatim_and_link_to_their_section(real_chain: Chain) -> None:
    pages, _ = load_pages(CORPUS)
    bodies = {p.slug: p.body for p in pages}
    for question in ["how do I quote a client's past due balance", "what's the deductible for a lost device",
                     "how long does a tow reimbursement take", "do we refund unused days"]:
        result = real_chain.ask(question)
        assert not result.abstained, question
        for c in result.citations:
            assert c.quote in bodies[c.page]
            assert f"page={c.page}" in c.url and "section=" in c.url


def test_warm_ask_is_timed_per_stage(real_chain: Chain) -> None:
    result = real_chain.ask("how much can I credit without a supervisor?")
    t = result.timings_ms
    assert t.retrieve > 0 and t.answer > 0 and t.guard > 0
    assert t.retrieve + t.answer + t.guard <= t.total



@pytest.fixture
def chroma_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    exe = shutil.which("chroma") or str(Path(__import__("sys").executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen([exe, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
    wait_for_port(port, proc, 60)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_shared_chroma_server(chroma_server: str, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", corpus_dir=CORPUS, chroma_url=chroma_server)
    report = ingest(settings, get_embedder(settings))
    assert report.pages["added"] == 5
    assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded locally
    first, second = Chain(settings), Chain(settings)  # two app instances, one index
    for chain in (first, second):
        result = chain.ask("Can I give a West Virginia client a $20 credit?")
        assert result.guardrails[0].rule == "wv-no-credit" and result.citations
    assert ingest(settings, get_embedder(settings)).embedded == 0
