"""Helpers for tests that start a real server on 127.0.0.1 (Chroma, Streamlit, PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:  # type: ignore[type-arg]
    """Wait until something listens on the port; fail the test (and stop the process) if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited early with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail(f"nothing listened on 127.0.0.1:{port} within {timeout} s")


def stop_process(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    """Ask a server process to stop; kill it if it has not within 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


PG_PASSWORD = "test-secret"  # a throwaway cluster on loopback; the tests also check it never shows in errors


def postgres_bin_dir() -> Path | None:
    """Where initdb/pg_ctl live: on PATH, else Debian's /usr/lib/postgresql/<version>/bin (newest)."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]) if
                   p.parts[-3].isdigit() else 0)
    return found[-1].parent if found else None


class PostgresServer:
    """A throwaway PostgreSQL cluster in a temporary directory, on a free loopback port.

    PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user and its
    commands run through `runuser`."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_other_user = os.geteuid() == 0
        self.databases = 0

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_other_user:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            pytest.fail(f"{args[0]} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        password_file = self.root / "password"
        password_file.write_text(PG_PASSWORD)
        if self.as_other_user:
            shutil.chown(self.root, "postgres")
            shutil.chown(password_file, "postgres")
        self._run("initdb", "-D", str(self.data), "--username=postgres", f"--pwfile={password_file}",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C")
        # Durability off: a test cluster is thrown away, and fsyncs would dominate its run time.
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options,
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop", timeout=60)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres:{PG_PASSWORD}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database on the cluster; returns its SQLAlchemy URL."""
        import psycopg

        self.databases += 1
        name = f"test_{self.databases}"
        with psycopg.connect(self.url().replace("+psycopg", ""), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a database while clients are connected (they lose their connections)."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url().replace("+psycopg", ""), autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
