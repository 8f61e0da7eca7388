"""`python -m benchmarks.load` (`make bench-load`): many agents asking the HTTP API at once.

Loopback only. Starts one `chroma run`, ingests the real pages into it once with the default
embedder, then starts one and then two API processes (`assistant serve`, sharing the Chroma server
and one data directory) and sends conversations from the gated eval sets (`evals/*.yaml`; never
the held-out ones) with 1, 4, 8 and 16 concurrent simulated agents. An agent is a thread with its
own HTTP connection; it walks conversations turn by turn (a follow-up is sent with its earlier
turns as history), and with two instances agents are spread round-robin across them. Each level
is bounded by a request count and a time limit. Then the 8-agent level again while another
process runs `ingest --rebuild` of the same index.

Prints a Markdown table and writes benchmarks/results/<date>-load.json. Latency is the client's
wall time per request (HTTP included); the agents run on the same 2 cores as the servers.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from assistant.config import PROJECT_ROOT
from assistant.evals import gated_cases
from assistant.metrics import percentile
from tests.servers import free_port, stop_process  # the tests' server helpers

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
LEVELS = (1, 4, 8, 16)
INGEST_LEVEL = 8  # agents while another process re-ingests
START_TIMEOUT_S = 240  # a server process must be ready within this (model load, index, rule check)
REQUEST_TIMEOUT_S = 30


def conversations() -> list[list[tuple[str, list[str]]]]:
    """Each gated case as the asks an agent makes: its earlier turns first, each with the turns before it."""
    out = []
    for case in gated_cases():
        turns = [*case.history, case.question]
        out.append([(turn, turns[:i]) for i, turn in enumerate(turns)])
    return out


# -- processes -----------------------------------------------------------------------------------------
def base_env(data: Path, chroma_url: str, database_url: str | None) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env = {**keep, "PYTHONPATH": str(PROJECT_ROOT), "ASSISTANT_DATA_DIR": str(data),
           "ASSISTANT_CHROMA_URL": chroma_url, "ANONYMIZED_TELEMETRY": "False"}
    return {**env, "ASSISTANT_DATABASE_URL": database_url} if database_url else env


@contextmanager
def database() -> Iterator[str | None]:
    """A throwaway PostgreSQL database when its binaries are installed (the team set-up), else None:
    the instances share the SQLite file in their one data directory."""
    from tests.servers import PostgresServer, postgres_bin_dir  # the tests' throwaway cluster

    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        yield None
        return
    server = PostgresServer(bin_dir)
    server.start()
    try:
        yield server.create_database()
    finally:
        server.stop()


def wait_until(check: Any, proc: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{what} not ready within {timeout} s")


@contextmanager
def process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        try:
            yield proc
        finally:
            stop_process(proc)


@contextmanager
def chroma_server(root: Path) -> Iterator[str]:
    port = free_port()
    exe = str(Path(sys.executable).parent / "chroma")
    with process([exe, "run", "--path", str(root / "chroma"), "--host", "127.0.0.1", "--port", str(port)],
                 {**os.environ, "ANONYMIZED_TELEMETRY": "False"}, root / "chroma.log") as proc:
        def listening() -> bool:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True

        wait_until(listening, proc, "chroma run", 60)
        yield f"http://127.0.0.1:{port}"


@contextmanager
def api_servers(count: int, env: dict[str, str], root: Path) -> Iterator[list[str]]:
    with ExitStack() as stack:
        urls = []
        for n in range(count):
            port = free_port()
            proc = stack.enter_context(process(
                [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)], env, root / f"api-{n}.log"))
            url = f"http://127.0.0.1:{port}"
            wait_until(lambda u=url: httpx.get(f"{u}/readyz", timeout=60).status_code == 200, proc,
                       f"API instance {n}", START_TIMEOUT_S)
            urls.append(url)
        yield urls


def ingest(env: dict[str, str], rebuild: bool = False) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "assistant.cli", "ingest"] + (["--rebuild"] if rebuild else [])
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, cwd=PROJECT_ROOT, check=True)


# -- agents --------------------------------------------------------------------------------------------
@dataclass
class Tally:
    budget: int
    deadline: float
    latencies_ms: list[float] = field(default_factory=list)
    chain_ms: list[float] = field(default_factory=list)  # the server's own Chain.ask time (timings_ms.total)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        """One more request may be sent (the count and the time bound both hold)."""
        with self.lock:
            if self.budget <= 0 or time.monotonic() > self.deadline:
                return False
            self.budget -= 1
            return True


def agent(n: int, url: str, convos: list[list[tuple[str, list[str]]]], tally: Tally) -> None:
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as client:
        for i in range(len(convos) * 1000):  # bounded; the tally stops it long before
            for question, history in convos[(n * 7 + i) % len(convos)]:  # agents start at different cases
                if not tally.take():
                    return
                started = time.perf_counter()
                chain_ms = 0.0
                try:
                    response = client.post("/v1/ask", json={"question": question, "history": history})
                    ok = response.status_code == 200 and "answer" in response.json()
                    problem = "" if ok else f"{response.status_code}: {response.text[:200]}"
                    chain_ms = float(response.json()["timings_ms"]["total"]) if ok else 0.0
                except httpx.HTTPError as exc:
                    problem = f"{exc.__class__.__name__}: {exc}"
                elapsed = (time.perf_counter() - started) * 1000
                with tally.lock:
                    if problem:
                        tally.errors.append(problem)
                    else:
                        tally.latencies_ms.append(elapsed)
                        tally.chain_ms.append(chain_ms)


def run_level(urls: list[str], agents: int, convos: list[list[tuple[str, list[str]]]], requests: int,
              seconds: float, until: Any = None) -> dict[str, Any]:
    """`agents` threads against `urls` (round-robin) until `requests` were sent or `seconds` passed;
    with `until`, also keep going until it returns True (still within `seconds`)."""
    tally = Tally(budget=requests, deadline=time.monotonic() + seconds)
    if until is not None:
        tally.budget = requests * 100  # the count still bounds it; the background work decides when to stop
    started = time.perf_counter()
    threads = [threading.Thread(target=agent, args=(n, urls[n % len(urls)], convos, tally), daemon=True)
               for n in range(agents)]
    for t in threads:
        t.start()
    if until is not None:
        while not until() and time.monotonic() < tally.deadline:
            time.sleep(0.1)
        with tally.lock:
            tally.budget = 0  # the background work is over (or the time is up): the agents stop
    for t in threads:
        t.join(timeout=seconds + REQUEST_TIMEOUT_S)
    wall = time.perf_counter() - started
    done = len(tally.latencies_ms) + len(tally.errors)
    return {"agents": agents, "instances": len(urls), "requests": done, "errors": len(tally.errors),
            "load_average": os.getloadavg()[0],
            "error_samples": sorted(set(tally.errors))[:5],
            "p50_ms": percentile(tally.latencies_ms, 0.5), "p95_ms": percentile(tally.latencies_ms, 0.95),
            "mean_ms": round(statistics.fmean(tally.latencies_ms), 2) if tally.latencies_ms else None,
            "chain_p50_ms": percentile(tally.chain_ms, 0.5), "chain_p95_ms": percentile(tally.chain_ms, 0.95),
            "throughput_rps": round(done / wall, 1), "wall_s": round(wall, 2)}


def direct_baseline(env: dict[str, str], convos: list[list[tuple[str, list[str]]]], asks: int) -> dict[str, Any]:
    """The same asks on a `Chain` in a process of its own, one at a time, no HTTP: the floor the
    levels are read against, measured in the same run on the same (possibly busy) host."""
    code = (
        "import json, sys, time\n"
        "from assistant.chain import Chain\n"
        "from assistant.config import load_settings\n"
        "from assistant.metrics import percentile\n"
        "asks = json.load(sys.stdin)\n"
        "chain = Chain(load_settings()); chain.warm_up()\n"
        "for q, h in asks[:10]: chain.ask(q, h)\n"
        "took = []\n"
        "for q, h in asks:\n"
        "    t = time.perf_counter(); chain.ask(q, h); took.append((time.perf_counter() - t) * 1000)\n"
        "print(json.dumps({'asks': len(took), 'p50_ms': percentile(took, 0.5), 'p95_ms': percentile(took, 0.95)}))\n")
    flat = [list(turn) for convo in convos for turn in convo][:asks]
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(flat), env={**env, "OMP_WAIT_POLICY":
                          env.get("OMP_WAIT_POLICY", "PASSIVE")}, capture_output=True, text=True, timeout=900,
                          cwd=PROJECT_ROOT, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def warm(urls: list[str], convos: list[list[tuple[str, list[str]]]]) -> None:
    """A few asks per instance first: the first requests pay for lazy work (thread pool, caches)."""
    for url in urls:
        for convo in convos[:5]:
            for question, history in convo:
                httpx.post(f"{url}/v1/ask", json={"question": question, "history": history}, timeout=60)


def with_ingest(env: dict[str, str], root: Path, urls: list[str], convos: list[list[tuple[str, list[str]]]],
                requests: int, seconds: float) -> dict[str, Any]:
    """The ingest level: agents ask while another process rebuilds the index they read."""
    log = root / "ingest-rebuild.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", "--rebuild"], env=env,
                                stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT)
        began = time.perf_counter()
        finished: list[float] = []

        def ingest_done() -> bool:
            if proc.poll() is not None and not finished:
                finished.append(time.perf_counter() - began)
            return proc.poll() is not None

        try:
            result = run_level(urls, INGEST_LEVEL, convos, requests, seconds, until=ingest_done)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=20)
    result.update(ingest_exit=proc.returncode, ingest_s=round(finished[0], 1) if finished else None,
                  ingest_output=log.read_text(errors="replace").strip().splitlines()[-3:])
    return result


# -- the run -------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("--requests", type=int, default=300, help="requests per level (bound)")
    parser.add_argument("--seconds", type=float, default=60, help="time per level (bound)")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrent agents, comma-separated")
    parser.add_argument("--instances", default="1,2", help="API processes, comma-separated")
    parser.add_argument("--no-ingest-level", action="store_true", help="skip the level under a concurrent re-ingest")
    parser.add_argument("--out", type=Path, default=None, help="result JSON (default benchmarks/results/<date>-load.json)")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    convos = conversations()
    results: dict[str, Any] = {  # the store is named once the database is up
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {multiprocessing.cpu_count()} cores, Python {platform.python_version()}",
        "conversations": len(convos), "asks_per_pass": sum(len(c) for c in convos),
        "bounds": {"requests_per_level": args.requests, "seconds_per_level": args.seconds},
        "load_average_at_start": os.getloadavg(), "runs": []}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sop-load-") as tmp, chroma_server(Path(tmp)) as chroma_url, \
            database() as database_url:
        root = Path(tmp)
        env = base_env(root / "data", chroma_url, database_url)
        results["store"] = ("one `chroma run`, one " + ("PostgreSQL database" if database_url else
                                                        "SQLite file in a shared data directory"))
        print(f"chroma run at {chroma_url}; ingesting the real pages", flush=True)
        report = ingest(env)
        results["ingest"] = report.stdout.strip().splitlines()
        results["direct"] = direct_baseline(env, convos, args.requests)
        print(f"in-process Chain.ask, one at a time: p50 {results['direct']['p50_ms']} ms, "
              f"p95 {results['direct']['p95_ms']} ms", flush=True)
        for count in [int(x) for x in args.instances.split(",")]:
            with api_servers(count, env, root) as urls:
                warm(urls, convos)
                for agents in levels:
                    row = run_level(urls, agents, convos, args.requests, args.seconds)
                    print(f"{count} instance(s), {agents} agents: {summary(row)}", flush=True)
                    results["runs"].append(row)
                if not args.no_ingest_level:
                    row = with_ingest(env, root, urls, convos, args.requests, max(args.seconds, 120))
                    row["during_ingest"] = True
                    print(f"{count} instance(s), {INGEST_LEVEL} agents during ingest --rebuild: {summary(row)}",
                          flush=True)
                    results["runs"].append(row)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    results["load_average_at_end"] = os.getloadavg()  # other work on the host skews every number
    out = args.out or RESULTS / f"{results['date'][:10]}-load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print()
    print(table(results))
    print(f"\nwritten: {out} ({results['wall_s']} s)")
    return 0


def summary(row: dict[str, Any]) -> str:
    return (f"{row['requests']} requests, {row['errors']} errors, p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms, "
            f"{row['throughput_rps']} req/s (server's Chain.ask p50 {row['chain_p50_ms']} ms)")


def table(results: dict[str, Any]) -> str:
    """One row per agent count (and the re-ingest level), one instance count beside the other."""
    counts = sorted({r["instances"] for r in results["runs"]})
    rows: dict[tuple[bool, int], dict[int, dict[str, Any]]] = {}
    for r in results["runs"]:
        rows.setdefault((bool(r.get("during_ingest")), r["agents"]), {})[r["instances"]] = r
    head = " | ".join(f"{n} instance{'s' if n > 1 else ''}: p50 / p95 ms (Chain.ask p50), req/s, errors / requests"
                      for n in counts)
    direct = results.get("direct")
    floor = (f"; one caller on a Chain in-process, no HTTP: p50 {direct['p50_ms']} / p95 {direct['p95_ms']} ms"
             if direct else "")
    load = results.get("load_average_at_start")
    busy = f"; load average at start {load[0]:.1f}" if load else ""
    lines = [f"Load ({results['date']}, {results['machine']}; {results['store']}{busy}{floor})", "",
             f"| agents | {head} |", "| --- |" + " --- |" * len(counts)]
    for (during, agents), by_count in sorted(rows.items()):
        label = f"{agents} during `ingest --rebuild`" if during else str(agents)
        cells = []
        for n in counts:
            r = by_count.get(n)
            cells.append("-" if r is None else f"{r['p50_ms']} / {r['p95_ms']} ({r.get('chain_p50_ms')}), "
                                               f"{r['throughput_rps']}, {r['errors']} / {r['requests']}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
