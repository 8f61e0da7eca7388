"""The HTTP API: every endpoint, bad input as one-line 4xx, the key on and off, and the same answer
as `ask --json` (the chain built with the fake embedder; one integration test with the real model)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant import cli
from assistant.api import MAX_BODY_BYTES, create_app
from assistant.asklog import AskLog
from assistant.chain import Chain
from assistant.config import PROJECT_ROOT, Settings, load_settings
from assistant.corpus import load_pages, sections
from assistant.database import open_database
from assistant.fakes import FakeEmbeddings
from assistant.feedback import FeedbackStore
from assistant.ingest import ingest
from assistant.models import Answer
from tests.conftest import CORPUS, FAKE_ABSTAIN_BELOW

WV_CREDIT = "Can I give a West Virginia client a $20 credit?"
KEY = "s3cret-key-for-tests"


@pytest.fixture(scope="module")
def client(fake_index: tuple[Settings, FakeEmbeddings]) -> Iterator[TestClient]:
    settings, embedder = fake_index
    with TestClient(create_app(settings, Chain(settings, embedder=embedder))) as c:
        yield c


@pytest.fixture(scope="module")
def locked(fake_index: tuple[Settings, FakeEmbeddings]) -> Iterator[TestClient]:
    """The same app with ASSISTANT_API_KEY set."""
    settings, embedder = fake_index
    keyed = settings.model_copy(update={"api_key": load_settings(api_key=KEY).api_key})
    with TestClient(create_app(keyed, Chain(keyed, embedder=embedder))) as c:
        yield c


def without_timings(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "timings_ms"}


# -- /v1/ask -----------------------------------------------------------------------------------------
def test_ask_returns_the_answer_contract_with_its_verdicts(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": WV_CREDIT})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    answer = Answer.model_validate_json(response.text)  # exactly the contract's fields, nothing else
    assert answer.question == WV_CREDIT and not answer.abstained and answer.citations
    assert answer.guardrails[0].rule == "wv-no-credit" and answer.guardrails[0].action == "deny"
    assert answer.citations[0].url.startswith("http://localhost:8501/")


def test_ask_reads_history_and_business(client: TestClient, fake_index: tuple[Settings, FakeEmbeddings]) -> None:
    settings, embedder = fake_index
    chain = Chain(settings, embedder=embedder)
    body = {"question": "and if the client lives in West Virginia?",
            "history": ["what's the most I can credit for an inconvenience?"], "business": "ignition-interlock"}
    got = client.post("/v1/ask", json=body).json()
    expected = chain.ask(body["question"], body["history"], body["business"]).model_dump(mode="json")
    assert without_timings(got) == without_timings(expected)
    assert any(v["rule"] == "wv-no-credit" for v in got["guardrails"])  # the follow-up completed the request


@pytest.mark.parametrize("question,history", [
    (WV_CREDIT, []),
    ("who do I email after I take a payment on a collections account?", []),
    ("and if the client lives in West Virginia?", ["what's the most I can credit for an inconvenience?"]),
    ("what is the capital of France?", []),
], ids=["rule", "page-answer", "follow-up", "out-of-scope"])
def test_ask_answers_as_the_cli_does(question: str, history: list[str], client: TestClient,
                                     fake_index: tuple[Settings, FakeEmbeddings], monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    settings, embedder = fake_index
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("ASSISTANT_ABSTAIN_BELOW", str(FAKE_ABSTAIN_BELOW))
    argv = ["ask", question, "--json"] + [arg for turn in history for arg in ("--history", turn)]
    assert cli.main(argv, make_embedder=lambda _settings: embedder) == 0  # the CLI's seam for a fake model
    from_cli = json.loads(capsys.readouterr().out)
    from_api = client.post("/v1/ask", json={"question": question, "history": history}).json()
    assert without_timings(from_api) == without_timings(from_cli)


@pytest.mark.parametrize("body,problem", [
    ({"question": ""}, "question is empty"),
    ({"question": "   "}, "question is empty"),
    ({"question": "q" * 2001}, "limit is 2000"),
    ({"question": "bell\x07"}, "control characters"),
    ({"question": "fine", "history": ["ok", "q" * 2001]}, "history turn 2 is 2001 characters"),
    ({"question": 5}, "question: Input should be a valid string"),
    ({"question": ["a"]}, "question: Input should be a valid string"),
    ({}, "question: Field required"),
    ({"question": "fine", "history": "earlier turn"}, "history: Input should be a valid list"),
    ({"question": "fine", "history": [1]}, "history.0: Input should be a valid string"),
    ({"question": "fine", "history": ["t"] * 51}, "history has 51 turns; the limit is 50"),  # ASSISTANT_MAX_HISTORY_TURNS
    ({"question": "fine", "business": 3}, "business: Input should be a valid string"),
    ({"question": "fine", "business": "plumbing"}, "no page belongs to business 'plumbing'"),
    ({"question": "fine", "temperature": 0.2}, "temperature: Extra inputs are not permitted"),
    ({"question": "credit \ud800 in West Virginia"}, "question: Value error, contains an unpaired surrogate"),
    ({"question": "fine", "history": ["\udcff"]}, "history.0: Value error, contains an unpaired surrogate"),
], ids=["empty", "blank", "too-long", "control", "history-too-long", "number", "list", "missing", "history-not-list",
        "history-number", "too-many-turns", "business-number", "unknown-business", "unknown-field",
        "lone-surrogate", "history-lone-surrogate"])
def test_bad_ask_input_is_a_422_with_one_line(client: TestClient, body: dict[str, Any], problem: str) -> None:
    # ASCII-escaped JSON, as a client would send it: a lone surrogate is valid JSON ("\ud800").
    response = client.post("/v1/ask", content=json.dumps(body), headers={"content-type": "application/json"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and problem in detail


def test_a_body_that_is_not_json_is_a_422(client: TestClient) -> None:
    response = client.post("/v1/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["detail"].startswith("the body is not JSON")


def test_an_oversized_body_is_refused_before_it_is_read(client: TestClient) -> None:
    padded = json.dumps({"question": "fine", "history": ["x" * 2000] * 20, "pad": "y" * MAX_BODY_BYTES})
    assert client.post("/v1/ask", content=padded, headers={"content-type": "application/json"}).status_code == 413

    def chunked() -> Iterator[bytes]:  # no declared length: counted as it arrives
        yield b'{"question": "'
        for _ in range(MAX_BODY_BYTES // 4096 + 2):
            yield b"x" * 4096
    response = client.post("/v1/ask", content=chunked(), headers={"content-type": "application/json"})
    assert response.status_code == 413


# -- index states ------------------------------------------------------------------------------------
def test_readyz_and_ask_before_and_after_the_index_is_built(settings: Settings) -> None:
    embedder = FakeEmbeddings()
    fresh = settings.model_copy(update={"abstain_below": FAKE_ABSTAIN_BELOW})
    with TestClient(create_app(fresh, Chain(fresh, embedder=embedder))) as c:
        assert c.get("/healthz").json() == {"status": "alive"}
        not_ready = c.get("/readyz")
        assert not_ready.status_code == 503 and not not_ready.json()["ready"]
        assert "assistant ingest" in not_ready.json()["detail"]
        response = c.post("/v1/ask", json={"question": WV_CREDIT})
        assert response.status_code == 503 and "assistant ingest" in response.json()["detail"]

        report = ingest(fresh, embedder)
        ready = c.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"ready": True, "generation": report.generation,
                                                            "detail": None}
        assert c.post("/v1/ask", json={"question": WV_CREDIT}).status_code == 200


def test_an_unreachable_chroma_server_is_a_503_naming_it(settings: Settings) -> None:
    from tests.servers import free_port

    remote = settings.model_copy(update={"chroma_url": f"http://127.0.0.1:{free_port()}"})
    with TestClient(create_app(remote, Chain(remote, embedder=FakeEmbeddings()))) as c:
        response = c.post("/v1/ask", json={"question": WV_CREDIT})
        assert response.status_code == 503 and remote.chroma_url in response.json()["detail"]
        assert c.get("/readyz").status_code == 503
        assert c.get("/healthz").status_code == 200  # alive, just not ready


# -- /v1/feedback ----------------------------------------------------------------------------------------
def test_feedback_on_an_answer_is_stored_with_its_history(client: TestClient,
                                                          fake_index: tuple[Settings, FakeEmbeddings]) -> None:
    settings, _ = fake_index
    history = ["what's the most I can credit for an inconvenience?"]
    answer = client.post("/v1/ask", json={"question": WV_CREDIT, "history": history}).json()
    response = client.post("/v1/feedback", json={"answer": answer, "history": history, "rating": 0,
                                                 "comment": "should say who approves"})
    assert response.status_code == 201
    row = next(r for r in FeedbackStore(open_database(settings)).rows() if r.id == response.json()["id"])
    assert (row.rating, row.comment, row.question, row.history) == (0, "should say who approves", WV_CREDIT, history)
    assert row.verdicts[0]["rule"] == "wv-no-credit" and row.citations == answer["citations"]


@pytest.mark.parametrize("change,problem", [
    ({"rating": 7}, "rating: Input should be less than or equal to 1"),
    ({"rating": "1"}, "rating: Input should be a valid integer"),
    ({"rating": True}, "rating: Input should be a valid integer"),
    ({"rating": None}, "rating: Input should be a valid integer"),
    ({"comment": "c" * 2001}, "comment is 2001 characters long; the limit is 2000"),  # ASSISTANT_MAX_COMMENT_CHARS
    ({"comment": "\ud800"}, "comment: "),  # refused by pydantic itself or by the surrogate check
    ({"history": ["bell\x07"]}, "history turn 1 contains control characters"),
    ({"answer": {"question": "q"}}, "answer.answer: Field required"),
    ({"answer": "a string"}, "answer: Input should be a valid dictionary"),
], ids=["rating-7", "rating-text", "rating-bool", "rating-null", "comment-too-long", "lone-surrogate",
        "history-control", "answer-incomplete", "answer-not-object"])
def test_bad_feedback_is_a_422_with_one_line(client: TestClient, change: dict[str, Any], problem: str) -> None:
    answer = client.post("/v1/ask", json={"question": WV_CREDIT}).json()
    body = json.dumps({"answer": answer, "rating": 1, **change})  # ASCII-escaped: a lone surrogate is valid JSON
    response = client.post("/v1/feedback", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and problem in response.json()["detail"]


def test_every_answer_is_logged_for_the_trainers_with_its_channel(client: TestClient,
                                                                  fake_index: tuple[Settings, FakeEmbeddings]) -> None:
    settings, _ = fake_index
    question = "where do tow receipts go?"
    history = ["the client's car was towed"]
    answer = client.post("/v1/ask", json={"question": question, "history": history}).json()
    logged = AskLog(open_database(settings)).rows(limit=1)[0]
    assert (logged.question, logged.history, logged.channel, logged.abstained) == (
        question, history, "api", answer["abstained"])
    assert [s["anchor"] for s in logged.sections][:len(answer["citations"])] == [c["anchor"] for c in answer["citations"]]


def test_refused_questions_are_not_logged(client: TestClient, fake_index: tuple[Settings, FakeEmbeddings]) -> None:
    settings, _ = fake_index
    before = len(AskLog(open_database(settings)).rows())
    assert client.post("/v1/ask", json={"question": ""}).status_code == 422
    assert len(AskLog(open_database(settings)).rows()) == before


def test_feedback_needs_an_answer_the_api_could_have_given(client: TestClient) -> None:
    answer = client.post("/v1/ask", json={"question": WV_CREDIT}).json()
    response = client.post("/v1/feedback", json={"answer": {**answer, "score": 3}, "rating": 1})
    assert response.status_code == 422 and "answer.score: Extra inputs are not permitted" in response.json()["detail"]


# -- /v1/pages/{slug} ------------------------------------------------------------------------------------
def test_a_page_comes_with_its_sections_verbatim(client: TestClient) -> None:
    pages, _ = load_pages(CORPUS)
    page = next(p for p in pages if p.source_url) if any(p.source_url for p in pages) else pages[0]
    got = client.get(f"/v1/pages/{page.slug}").json()
    assert (got["slug"], got["title"], got["business"], got["updated"], got["source_url"]) == (
        page.slug, page.title, page.business, page.updated, page.source_url)
    assert got["sections"] == [{"label": s.label, "anchor": s.anchor, "text": s.body} for s in sections(page)]


def test_every_cited_section_is_on_its_page(client: TestClient) -> None:
    answer = client.post("/v1/ask", json={"question": WV_CREDIT}).json()
    for citation in answer["citations"]:
        page = client.get(f"/v1/pages/{citation['page']}").json()
        assert (citation["section"], citation["anchor"]) in {(s["label"], s["anchor"]) for s in page["sections"]}


@pytest.mark.parametrize("path,status", [
    ("/v1/pages/no-such-page", 404),
    ("/v1/pages/Credits", 422),
    ("/v1/pages/credits.md", 422),
    ("/v1/pages/..", 404),  # normalised away by the client/router: never a file name
    ("/v1/pages/..%2F..%2Fetc%2Fpasswd", 404),
    ("/v1/pages/%2e%2e", 422),
    ("/v1/pages/" + "a" * 101, 422),
], ids=["unknown", "upper-case", "file-name", "dot-dot", "encoded-traversal", "encoded-dots", "too-long"])
def test_bad_or_unknown_slugs_are_refused(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str)


# -- the key ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method,path,body", [
    ("post", "/v1/ask", {"question": WV_CREDIT}),
    ("post", "/v1/feedback", {"answer": {"question": "q", "answer": "a", "abstained": False}, "rating": 1}),
    ("get", "/v1/pages/credits-key-points", None),
], ids=["ask", "feedback", "pages"])
def test_with_a_key_set_every_v1_call_needs_it(locked: TestClient, method: str, path: str,
                                               body: dict[str, Any] | None) -> None:
    send = getattr(locked, method)
    kwargs: dict[str, Any] = {"json": body} if body else {}
    for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": f"Basic {KEY}"}, {"X-API-Key": KEY[:-1]}):
        refused = send(path, headers=headers, **kwargs)
        assert refused.status_code == 401 and "API key" in refused.json()["detail"]
        assert refused.headers["www-authenticate"] == "Bearer"
    assert send(path, headers={"X-API-Key": KEY}, **kwargs).status_code in (200, 201)
    assert send(path, headers={"Authorization": f"Bearer {KEY}"}, **kwargs).status_code in (200, 201)


def test_probes_need_no_key_but_only_key_holders_read_why_not_ready(settings: Settings) -> None:
    keyed = settings.model_copy(update={"api_key": load_settings(api_key=KEY).api_key})
    with TestClient(create_app(keyed, Chain(keyed, embedder=FakeEmbeddings()))) as c:
        assert c.get("/healthz").status_code == 200
        anonymous = c.get("/readyz")
        assert anonymous.status_code == 503 and anonymous.json()["detail"] == "not ready"
        assert "assistant ingest" in c.get("/readyz", headers={"X-API-Key": KEY}).json()["detail"]


def test_without_a_key_set_no_key_is_asked(client: TestClient) -> None:
    assert client.post("/v1/ask", json={"question": WV_CREDIT}).status_code == 200
    assert client.post("/v1/ask", json={"question": WV_CREDIT}, headers={"X-API-Key": "anything"}).status_code == 200


def test_the_key_is_a_setting_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_API_KEY", KEY)
    settings = load_settings()
    assert settings.api_key.get_secret_value() == KEY and KEY not in repr(settings)


# -- the schema ------------------------------------------------------------------------------------------
def test_the_openapi_schema_documents_every_endpoint_and_the_key(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/v1/ask", "/v1/feedback", "/v1/pages/{slug}", "/healthz", "/readyz"}
    answer = schema["components"]["schemas"]["Answer"]
    assert set(answer["properties"]) == set(Answer.model_fields)
    ask = schema["paths"]["/v1/ask"]["post"]
    assert ask["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/Answer")
    assert {"APIKeyHeader", "HTTPBearer"} <= set(schema["components"]["securitySchemes"])
    assert client.get("/docs").status_code == 200


# -- the real thing ------------------------------------------------------------------------------------
@pytest.mark.integration
def test_the_api_and_the_cli_give_the_same_answer_with_the_real_model(real_index: Settings, real_chain: Chain,
                                                                      tmp_path: Path) -> None:
    question, history = "and if the client lives in West Virginia?", ["what's the most I can credit for an inconvenience?"]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), "ASSISTANT_DATA_DIR": str(real_index.data_dir),
           "ASSISTANT_CORPUS_DIR": str(real_index.corpus_dir), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "assistant.cli", "ask", question, "--history", history[0], "--json"],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with TestClient(create_app(real_index, real_chain)) as c:
        from_api = c.post("/v1/ask", json={"question": question, "history": history}).json()
    assert without_timings(from_api) == without_timings(json.loads(done.stdout))
    assert any(v["rule"] == "wv-no-credit" for v in from_api["guardrails"])


class GatedEmbeddings(FakeEmbeddings):
    """The fake embedder, held at its first query until the test opens the gate: a slow model load."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.gate = threading.Event()

    def embed_query(self, text: str) -> list[float]:
        assert self.gate.wait(timeout=60), "the test never opened the gate"
        return super().embed_query(text)


def test_the_server_warms_up_beside_serving_and_is_ready_after(fake_index: tuple[Settings, FakeEmbeddings]) -> None:
    import time

    settings, _ = fake_index
    embedder = GatedEmbeddings()
    with TestClient(create_app(settings, Chain(settings, embedder=embedder), warm_up_on_start=True)) as c:
        assert c.get("/healthz").status_code == 200  # alive while the model "loads"
        warming = c.get("/readyz")
        assert warming.status_code == 503 and warming.json()["detail"] == "warming up"
        embedder.gate.set()
        deadline = time.monotonic() + 30
        while (ready := c.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.json()["ready"] is True
