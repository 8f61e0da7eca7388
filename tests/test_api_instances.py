"""Team deployment, for real: two `assistant serve` processes and the chat sharing one `chroma run`
and one PostgreSQL database. Feedback and the ask log written through either are in the one
database; a re-ingest while both answer costs no request an answer."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from assistant.asklog import AskLog
from assistant.config import PROJECT_ROOT, Settings, load_settings
from assistant.database import open_database
from assistant.embeddings import get_embedder
from assistant.feedback import FeedbackStore
from assistant.ingest import ingest
from tests.conftest import CORPUS
from tests.servers import PostgresServer, free_port, stop_process, wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

QUESTIONS = [("Can I give a West Virginia client a $20 credit?", []),
             ("who do I email after I take a payment on a collections account?", []),
             ("and if the client lives in West Virginia?", ["what's the most I can credit for an inconvenience?"])]
READY_TIMEOUT_S = 600  # a busy 2-core host: model load and rule check (vectors cached) per process
ASK_ROUNDS = 400  # bound on each asking thread's requests during the re-ingest


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory, real_index: Settings, real_chain: object,
         postgres: PostgresServer) -> Iterator[tuple[Settings, dict[str, str], list[str]]]:
    """One `chroma run` with the real pages ingested, one PostgreSQL database, two API processes."""
    root = tmp_path_factory.mktemp("team")
    # The rules' example and bank vectors the session's warmed-up chain cached (keyed by model and
    # text): without them each process embeds ~700 texts before it is ready.
    shutil.copytree(real_index.data_dir / "vectors", root / "data" / "vectors")
    with ExitStack() as stack:
        port = free_port()
        chroma = start([shutil.which("chroma") or str(Path(sys.executable).parent / "chroma"), "run", "--path",
                        str(root / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
                       {"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"}, root / "chroma.log")
        stack.callback(stop_process, chroma)
        wait_for_port(port, chroma, 60)
        settings = load_settings(data_dir=root / "data", corpus_dir=CORPUS, chroma_url=f"http://127.0.0.1:{port}",
                                 database_url=postgres.create_database())
        ingest(settings, get_embedder(settings))
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")},
               "PYTHONPATH": str(PROJECT_ROOT), "ASSISTANT_DATA_DIR": str(settings.data_dir),
               "ASSISTANT_CORPUS_DIR": str(CORPUS), "ASSISTANT_CHROMA_URL": settings.chroma_url,
               "ASSISTANT_DATABASE_URL": str(settings.database_url)}
        urls = []
        for n in range(2):
            api_port = free_port()
            proc = start([sys.executable, "-m", "assistant.cli", "serve", "--port", str(api_port)], env,
                         root / f"api-{n}.log")
            stack.callback(stop_process, proc)
            urls.append(f"http://127.0.0.1:{api_port}")
        for n, url in enumerate(urls):
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not _ready(url):
                assert time.monotonic() < deadline, (root / f"api-{n}.log").read_text(errors="replace")[-2000:]
                time.sleep(0.5)
        yield settings, env, urls


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=30).status_code == 200
    except httpx.HTTPError:
        return False


def test_both_instances_answer_alike_and_write_to_one_database(team: tuple[Settings, dict[str, str], list[str]]) -> None:
    settings, _, urls = team
    question = QUESTIONS[0][0]
    db = open_database(settings)
    asked_before = len(AskLog(db).rows(limit=1000))
    answers = [httpx.post(f"{url}/v1/ask", json={"question": question}, timeout=60).json() for url in urls]
    assert {a["answer"] for a in answers} == {answers[0]["answer"]} and answers[0]["guardrails"][0]["rule"] == "wv-no-credit"
    ids = []
    for n, (url, answer) in enumerate(zip(urls, answers, strict=True)):
        sent = httpx.post(f"{url}/v1/feedback", json={"answer": answer, "rating": n, "comment": f"via instance {n}"},
                          timeout=60)
        assert sent.status_code == 201
        ids.append(sent.json()["id"])
    assert len(set(ids)) == 2  # one sequence of ids: one store, not one per process
    rows = {r.id: r for r in FeedbackStore(db).rows()}
    assert [(rows[i].rating, rows[i].comment) for i in ids] == [(0, "via instance 0"), (1, "via instance 1")]
    logged = AskLog(db).rows(limit=1000)
    assert len(logged) == asked_before + 2 and {r.channel for r in logged[:2]} == {"api"}
    assert [r.question for r in logged[:2]] == [question, question]


def test_a_rebuild_while_both_instances_answer_costs_no_answer(team: tuple[Settings, dict[str, str], list[str]],
                                                               tmp_path: Path) -> None:
    _, env, urls = team
    before = {httpx.get(f"{url}/readyz", timeout=30).json()["generation"] for url in urls}
    problems: list[str] = []
    answered = [0]
    stop_asking = threading.Event()

    def keep_asking(url: str, offset: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for n in range(ASK_ROUNDS):
                if stop_asking.is_set():
                    return
                question, history = QUESTIONS[(n + offset) % len(QUESTIONS)]
                try:
                    response = client.post("/v1/ask", json={"question": question, "history": history})
                    if response.status_code != 200 or not response.json()["citations"]:
                        problems.append(f"{url}: {response.status_code} {response.text[:200]}")
                    else:
                        answered[0] += 1
                except httpx.HTTPError as exc:
                    problems.append(f"{url}: {exc!r}")

    threads = [threading.Thread(target=keep_asking, args=(url, n), daemon=True)
               for n, url in enumerate(urls * 2)]  # two agents per instance
    for t in threads:
        t.start()
    try:
        rebuilt = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--rebuild"], env=env,
                                 capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT)
        time.sleep(6)  # past the readers' pointer re-check: asks after the flip are in the count too
    finally:
        stop_asking.set()
        for t in threads:
            t.join(timeout=90)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert answered[0] > 0 and problems == [], problems[:5]
    after = {httpx.get(f"{url}/readyz", timeout=30).json()["generation"] for url in urls}
    assert len(after) == 1 and after != before  # both moved to the new index


def test_the_chat_runs_beside_the_api_on_the_same_settings(team: tuple[Settings, dict[str, str], list[str]],
                                                          tmp_path: Path) -> None:
    _, env, _ = team
    port = free_port()
    chat = start([sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "ui" / "app.py"), "--server.headless",
                  "true", "--server.address", "127.0.0.1", "--server.port", str(port),
                  "--browser.gatherUsageStats", "false"], env, tmp_path / "streamlit.log")
    try:
        wait_for_port(port, chat, 120)
        health = httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=30)
        assert health.status_code == 200 and health.text == "ok"
    finally:
        stop_process(chat)
