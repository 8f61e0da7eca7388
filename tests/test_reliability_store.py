"""Reliability of ingest and the store (issue #16, part A), with real processes and real servers.

Concurrent ingests, apps asking while another process rebuilds, killed ingests, a Chroma server
that is down, slow or not Chroma, and data directories that are read-only, full, uncreatable or
corrupt. Each command runs as `python -m tests.fake_cli` (the real CLI in its own process, with the
fake embedder); servers are `chroma run` and small listeners on 127.0.0.1. Every wait is bounded.
"""

from __future__ import annotations

import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import store
from assistant.chain import Chain
from assistant.config import PROJECT_ROOT, Settings, load_settings
from assistant.errors import AssistantError, GenerationGone, IndexNotBuilt, IndexUnavailable
from assistant.fakes import FakeEmbeddings
from assistant.ingest import ingest
from assistant.retrieve import POINTER_CHECK_SECONDS
from tests.conftest import CORPUS, FAKE_ABSTAIN_BELOW
from tests.servers import free_port, stop_process, wait_for_port

QUESTION = "can I give a West Virginia client a credit?"
COMMAND_TIMEOUT = 120  # one CLI process; a hang fails the test instead of blocking the run
BUSY, UNAVAILABLE, STORE, USAGE, BROKEN_PIPE = 75, 69, 74, 2, 141
CHUNKS = 58  # of the corpus, as chunked today


def run_env(data_dir: Path, **settings: object) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(PYTHONPATH=str(PROJECT_ROOT), ASSISTANT_DATA_DIR=str(data_dir), ASSISTANT_CORPUS_DIR=str(CORPUS),
               ASSISTANT_ABSTAIN_BELOW=str(FAKE_ABSTAIN_BELOW))
    env.update({f"ASSISTANT_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def start(env: dict[str, str], *args: str, delay: float = 0.0, **popen: object) -> subprocess.Popen[str]:
    popen.setdefault("stdout", subprocess.PIPE)
    return subprocess.Popen([sys.executable, "-m", "tests.fake_cli", *args], cwd=PROJECT_ROOT, text=True,
                            env={**env, "FAKE_EMBED_DELAY": str(delay)}, stderr=subprocess.PIPE, **popen)  # type: ignore[call-overload]


def finish(proc: subprocess.Popen[str], timeout: float = COMMAND_TIMEOUT) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"{proc.args} did not end within {timeout} s")
    return proc.returncode, out or "", err


def cli(env: dict[str, str], *args: str, timeout: float = COMMAND_TIMEOUT) -> tuple[int, str, str]:
    return finish(start(env, *args), timeout)


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


def first_ingest(env: dict[str, str]) -> Settings:
    """The first index, built in this process (the same fake model as the CLI's): one process less."""
    settings = settings_of(env)
    ingest(settings, FakeEmbeddings())
    return settings


def assert_index_serves(env: dict[str, str]) -> None:
    code, out, err = cli(env, "status")
    assert code == 0 and "index: " in out, err
    code, out, err = cli(env, "ask", QUESTION)
    assert code == 0 and "West Virginia" in out, err


def index_is_whole(settings: Settings) -> None:
    """The pointer names a complete generation: every chunk of the corpus is readable through it."""
    col, _ = store.open_active(store.make_client(settings), settings, FakeEmbeddings())
    assert len(store.read_chunks(col)) == CHUNKS


def settings_of(env: dict[str, str]) -> Settings:
    return load_settings(data_dir=Path(env["ASSISTANT_DATA_DIR"]), corpus_dir=CORPUS, abstain_below=FAKE_ABSTAIN_BELOW,
                         chroma_url=env.get("ASSISTANT_CHROMA_URL", ""),
                         collection_prefix=env.get("ASSISTANT_COLLECTION_PREFIX", "sop"))


def wait_for(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


# -- servers ---------------------------------------------------------------------------------------
def start_chroma(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen([exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={"ANONYMIZED_TELEMETRY": "False", "PATH": "/usr/bin:/bin"})
    wait_for_port(port, proc, 60)
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One `chroma run` for the module; each test keeps to its own collection prefix."""
    proc, url = start_chroma(tmp_path_factory.mktemp("chroma-server"))
    yield url
    stop_process(proc)


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """Accepts connections and never answers, like a wedged server or a firewall that swallows packets."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}"


@pytest.fixture
def web_server() -> Iterator[str]:
    """A web server that is not Chroma: every path is 404 (as a misconfigured URL would meet)."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_error(404)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def mount_tmpfs(path: Path, size: str, read_only: bool = False) -> None:
    """A small filesystem of its own (to fill it up, or make it read-only even for root)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True, timeout=30)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "small-fs"
    yield path
    if os.path.ismount(path):
        subprocess.run(["umount", str(path)], check=False, timeout=30)


# -- one writer at a time --------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["embedded", "server"])
def test_two_concurrent_rebuilds_never_break_the_index(mode: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    server = {"chroma_url": request.getfixturevalue("chroma_url"), "collection_prefix": "race"} if mode == "server" else {}
    env = run_env(tmp_path / "data", **server)
    first_ingest(env)
    rounds = 5 if mode == "embedded" else 3
    outcomes = []
    for _ in range(rounds):
        # Each holds the writer for at least a second, so the two overlap whatever the start-up jitter.
        procs = [start(env, "ingest", "--rebuild", delay=0.5) for _ in range(2)]
        results = [finish(p) for p in procs]
        outcomes.append(sorted(code for code, _, _ in results))
        for code, _, err in results:
            assert code in (0, BUSY), err
            if code == BUSY:
                assert one_line(err) and "another ingest is running" in err
        assert any(code == 0 for code, _, _ in results)
        index_is_whole(settings_of(env))
    assert_index_serves(env)
    assert BUSY in {code for pair in outcomes for code in pair}, f"the ingests never overlapped: {outcomes}"


def test_a_server_lease_blocks_a_second_writer_and_expires_when_its_holder_is_killed(
        chroma_url: str, tmp_path: Path) -> None:
    env = run_env(tmp_path / "data", chroma_url=chroma_url, collection_prefix="lease", ingest_lease_seconds=2)
    settings = first_ingest(env)
    before = store.active_generation(store.make_client(settings), settings)
    holder = start(env, "ingest", "--rebuild", delay=60)
    try:
        client = store.make_client(settings)
        wait_for(lambda: len(store.generations(client, settings)) > 1, 30, "the first ingest's new generation")
        code, _, err = cli(env, "ingest", "--rebuild")
        assert code == BUSY and one_line(err) and "another ingest is running" in err
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=30)
    time.sleep(2.5)  # the killed holder's lease runs out (ingest_lease_seconds=2)
    code, _, err = cli(env, "ingest", "--rebuild")
    assert code == 0, err
    after = store.active_generation(store.make_client(settings), settings)
    assert after != before
    index_is_whole(settings)


# -- readers while a writer works ------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["embedded", "server"])
def test_eight_threads_ask_without_an_error_while_another_process_rebuilds_three_times(
        mode: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    server = {"chroma_url": request.getfixturevalue("chroma_url"), "collection_prefix": "serve"} if mode == "server" else {}
    env = run_env(tmp_path / "data", **server)
    settings = first_ingest(env)
    chain = Chain(settings, FakeEmbeddings())
    chain.warm_up()
    first = chain.search.snapshot.generation
    stop_asking = threading.Event()
    errors: list[BaseException] = []
    asked = [0] * 8

    def asker(n: int) -> None:
        for _ in range(2000):  # bounded; the rebuilds end it sooner
            if stop_asking.is_set():
                return
            try:
                assert chain.ask(QUESTION).citations
                asked[n] += 1
            except BaseException as exc:  # noqa: BLE001 - every failure is collected and reported
                errors.append(exc)

    threads = [threading.Thread(target=asker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            code, _, err = cli(env, "ingest", "--rebuild")
            assert code == 0, err
        time.sleep(POINTER_CHECK_SECONDS + 1)  # the askers' next pointer check moves them to the last one
    finally:
        stop_asking.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, f"{len(errors)} of {sum(asked) + len(errors)} asks failed, first: {errors[0]!r}"
    assert sum(asked) > 8
    last = store.active_generation(store.make_client(settings), settings)
    assert last != first and chain.search.snapshot.generation == last


def test_a_reader_whose_generation_was_removed_retries_once(settings: Settings) -> None:
    """With no grace period the replaced generation goes at once; the next ask re-reads the pointer."""
    settings = settings.model_copy(update={"generation_grace_seconds": 0.0, "abstain_below": FAKE_ABSTAIN_BELOW})
    ingest(settings, FakeEmbeddings())
    chain = Chain(settings, FakeEmbeddings())
    first = chain.ask(QUESTION).citations
    old = chain.search.snapshot.generation
    ingest(settings, FakeEmbeddings(), rebuild=True)
    client = store.make_client(settings)
    assert old not in store.generations(client, settings)  # removed, while the chain still reads it
    assert chain.ask(QUESTION).citations == first
    assert chain.search.snapshot.generation == store.active_generation(client, settings)


def test_a_pointer_to_a_removed_generation_is_one_line_and_the_next_ingest_repairs_it(tmp_path: Path) -> None:
    env = run_env(tmp_path / "data")
    settings = first_ingest(env)
    client = store.make_client(settings)
    client.delete_collection(store.active_generation(client, settings))  # e.g. removed by hand
    code, out, err = cli(env, "ask", QUESTION)
    assert code == UNAVAILABLE and one_line(err) and "ingest --rebuild" in err
    code, out, err = cli(env, "ingest")
    assert code == 0 and "no longer exists" in out, err
    index_is_whole(settings)


def test_an_index_removed_and_rebuilt_by_another_process_is_followed_by_a_loaded_chain(tmp_path: Path) -> None:
    env = run_env(tmp_path / "data")
    settings = first_ingest(env)
    chain = Chain(settings, FakeEmbeddings())
    assert chain.ask(QUESTION).citations
    shutil.rmtree(settings.index_dir)
    time.sleep(POINTER_CHECK_SECONDS + 0.5)  # the chain's next pointer check
    with pytest.raises(IndexNotBuilt, match="was removed"):
        chain.ask(QUESTION)
    assert cli(env, "ingest")[0] == 0
    assert chain.ask(QUESTION).citations
    assert chain.search.snapshot.generation == store.active_generation(store.make_client(settings), settings)


# -- killed ingests and their orphans --------------------------------------------------------------
def test_killed_ingests_keep_the_index_and_the_next_ingest_removes_their_orphans(tmp_path: Path) -> None:
    env = run_env(tmp_path / "data")
    settings = first_ingest(env)
    client = store.make_client(settings)
    active = store.active_generation(client, settings)
    for killed in range(1, 3):
        proc = start(env, "ingest", "--rebuild", delay=60)
        wait_for(lambda n=killed: len(store.generations(client, settings)) > n, 30, "the ingest's new generation")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert len(store.generations(client, settings)) == 3  # two orphans beside the active one
    index_is_whole(settings)
    assert store.active_generation(client, settings) == active
    # Within the grace period an orphan might be another writer's generation: it stays.
    assert cli(env, "ingest")[0] == 0
    assert len(store.generations(client, settings)) == 3
    time.sleep(1.1)  # generation names stamp whole seconds
    code, _, err = cli({**env, "ASSISTANT_GENERATION_GRACE_SECONDS": "1"}, "ingest")  # nothing changed
    assert code == 0, err
    assert store.generations(client, settings) == [active]


def test_orphan_clean_up_spares_what_readers_or_writers_may_still_use(settings: Settings) -> None:
    ingest(settings, FakeEmbeddings())
    ingest(settings, FakeEmbeddings(), rebuild=True)
    client = store.make_client(settings)
    info = store.active_index(client, settings)
    assert info is not None and len(info.retired) == 1
    being_written = store.new_generation_name(settings)
    store.collection(client, being_written, create=True)
    assert store.removable_generations(client, settings) == []  # active, just retired, just started
    later = settings.model_copy(update={"generation_grace_seconds": 0.0})
    assert set(store.removable_generations(client, later)) == {*info.retired, being_written}
    assert store.removable_generations(client, later, writing=being_written) == list(info.retired)


# -- a Chroma server that is down, slow, or not Chroma ---------------------------------------------
@pytest.mark.parametrize("server,code,says", [
    ("silent_listener", UNAVAILABLE, "did not answer within 1 s"),
    ("closed_port", UNAVAILABLE, "can't be reached"),
    ("web_server", UNAVAILABLE, "is not a Chroma server"),
    ("http://127.0.0.1:99999", USAGE, "ASSISTANT_CHROMA_URL: Port out of range"),
])
@pytest.mark.parametrize("command", ["ask", "ingest"])
def test_a_bad_chroma_server_is_one_line_and_an_exit_code(server: str, code: int, says: str, command: str,
                                                          tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = (server if server.startswith("http") else f"http://127.0.0.1:{free_port()}" if server == "closed_port"
           else request.getfixturevalue(server))
    env = run_env(tmp_path / "data", chroma_url=url, chroma_connect_timeout=1, chroma_read_timeout=1)
    got, out, err = cli(env, *([command, QUESTION] if command == "ask" else [command]), timeout=30)
    assert (got, out) == (code, "") and one_line(err) and says in err, err


def test_a_loaded_chain_says_the_server_is_unreachable_not_that_there_is_no_index(tmp_path: Path) -> None:
    proc, url = start_chroma(tmp_path / "server")
    try:
        settings = load_settings(data_dir=tmp_path / "data", corpus_dir=CORPUS, chroma_url=url,
                                 abstain_below=FAKE_ABSTAIN_BELOW, chroma_connect_timeout=1, chroma_read_timeout=2)
        ingest(settings, FakeEmbeddings())
        chain = Chain(settings, FakeEmbeddings())
        assert chain.ask(QUESTION).citations
    finally:
        stop_process(proc)
    for wait in (0.0, POINTER_CHECK_SECONDS + 0.5):  # the next query, then the next pointer check too
        time.sleep(wait)
        with pytest.raises(IndexUnavailable, match="can't be reached") as failed:
            chain.ask(QUESTION)
        assert "no index" not in str(failed.value)


# -- data directories that can't be used -----------------------------------------------------------
def test_an_uncreatable_data_dir_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    env = run_env(tmp_path / "a-file" / "data")
    for args in (["ingest"], ["ask", QUESTION]):
        code, out, err = cli(env, *args)
        assert (code, out) == (STORE, "") and one_line(err) and "ASSISTANT_DATA_DIR" in err, err


def test_a_read_only_data_dir_is_one_line(tmp_path: Path, tmpfs: Path) -> None:
    mount_tmpfs(tmpfs, "64m")
    env = run_env(tmpfs)
    assert cli(env, "ingest")[0] == 0
    remount_read_only(tmpfs)
    for args in (["ingest", "--rebuild"], ["ask", QUESTION]):
        code, out, err = cli(env, *args)
        assert (code, out) == (STORE, "") and one_line(err) and "can't be written" in err, err
    code, _, err = cli(run_env(tmpfs / "new"), "ingest")
    assert code == STORE and one_line(err) and "can't be created" in err


def test_a_full_disk_is_one_line(tmp_path: Path, tmpfs: Path) -> None:
    mount_tmpfs(tmpfs, "600k")
    code, out, err = cli(run_env(tmpfs), "ingest")
    assert (code, out) == (STORE, "") and one_line(err) and "no room left" in err, err


def test_a_corrupt_store_is_one_line_and_rebuild_replaces_it(tmp_path: Path) -> None:
    env = run_env(tmp_path / "data")
    settings = first_ingest(env)
    sqlite = tmp_path / "data" / "chroma" / "chroma.sqlite3"
    with sqlite.open("r+b") as f:  # keep SQLite's header, damage its pages
        f.seek(3 * 4096)
        f.write(os.urandom(20 * 4096))
    for args in (["ask", QUESTION], ["ingest"]):
        code, out, err = cli(env, *args)
        assert (code, out) == (STORE, "") and one_line(err) and "is corrupt" in err and "ingest --rebuild" in err, err
    code, out, err = cli(env, "ingest", "--rebuild")
    assert code == 0 and "repaired: " in out, err
    store.forget_client(settings.index_dir)  # this process's client still has the damaged files open
    index_is_whole(settings)
    assert len(list((tmp_path / "data").glob("chroma.corrupt-*"))) == 1  # kept for a post-mortem


# -- the terminal ----------------------------------------------------------------------------------
def test_ask_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    env = run_env(tmp_path / "data")
    first_ingest(env)
    proc = start(env, "ask", QUESTION)
    assert proc.stdout is not None
    proc.stdout.close()  # like `| head -0`: the reader is gone before the answer is printed
    try:
        err = proc.stderr.read() if proc.stderr else ""
        proc.wait(timeout=COMMAND_TIMEOUT)
    finally:
        proc.kill()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == BROKEN_PIPE


# -- the chat page ---------------------------------------------------------------------------------
@pytest.mark.integration
def test_the_chat_page_shows_a_store_failure_as_one_error(real_index: Settings, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    data = tmp_path / "data"
    shutil.copytree(real_index.data_dir, data)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data))
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(PROJECT_ROOT / "ui" / "app.py"), default_timeout=180)
        at.run()
        assert not at.exception
        settings = load_settings(data_dir=data)
        client = store.make_client(settings)
        client.delete_collection(store.active_generation(client, settings))  # gone, and no newer one
        at.chat_input[0].set_value("Can I give a West Virginia client a $20 credit?").run()
        assert not at.exception
        # The failed ask drops the chain's snapshot, so the rerun page itself says it is not ready.
        problems = [e.value for e in at.error if "no longer exists" in e.value]
        assert len(problems) == 1 and "ingest --rebuild" in problems[0]
        assert problems[0].startswith(("The assistant could not answer", "The assistant is not ready"))
    finally:
        st.cache_resource.clear()


def test_every_store_error_has_a_hint_and_its_exit_code() -> None:
    from assistant import cli as assistant_cli
    from assistant.errors import IngestRunning, StoreCorrupt, StoreUnusable

    assert [assistant_cli.exit_code(e) for e in (IngestRunning(""), IndexUnavailable(""), GenerationGone(""),
                                                 StoreUnusable(""), StoreCorrupt(""), IndexNotBuilt(),
                                                 AssistantError(""))] == [BUSY, UNAVAILABLE, UNAVAILABLE, STORE,
                                                                          STORE, USAGE, USAGE]
