"""Helpers for tests that start a real server on 127.0.0.1 (Chroma, Streamlit)."""

from __future__ import annotations

import socket
import subprocess
import time

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
