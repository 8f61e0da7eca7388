"""Several app instances, one database: separate Python processes on the same SQLite file and on the
same PostgreSQL database. Feedback one records is read by the other; concurrent writers (who also
open, and so migrate, a brand-new database at the same moment) lose nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from assistant.config import PROJECT_ROOT, Settings
from assistant.database import close_database, open_database
from assistant.feedback import FeedbackStore

TIMEOUT = 120  # seconds for any one process
# A child waits for the go file (so both open the database at once), then runs its part.
CHILD = """
import json, sys, time
from pathlib import Path
from assistant.config import load_settings
from assistant.database import open_database
from assistant.fakes import fake_answer
from assistant.feedback import FeedbackStore

name, part, tag, count, barrier = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), Path(sys.argv[5])
(barrier / f"ready-{name}").touch()
deadline = time.monotonic() + 60
while not (barrier / "go").exists():
    if time.monotonic() > deadline:
        sys.exit("no go signal within 60 s")
    time.sleep(0.01)
store = FeedbackStore(open_database(load_settings()))
if part == "write":
    ids = [store.record(fake_answer(f"{tag} answer {i}"), [f"{tag} turn"], i % 2, comment=tag) for i in range(count)]
    print(json.dumps(ids))
else:
    rows = store.rows(text=tag)
    store.update(rows[0].id, comment=f"{tag} seen by {name}")
    print(json.dumps([r.comment for r in rows]))
"""


def _start(settings: Settings, barrier: Path, name: str, part: str, tag: str, count: int = 0) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "ASSISTANT_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        env["ASSISTANT_DATABASE_URL"] = settings.database_url
    return subprocess.Popen([sys.executable, "-c", CHILD, name, part, tag, str(count), str(barrier)], env=env,
                            cwd=barrier,  # migrations must not need an alembic.ini in the working directory
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run_together(barrier: Path, procs: dict[str, subprocess.Popen[str]]) -> dict[str, object]:
    """Release the processes at once (when all are ready) and return each one's JSON output."""
    try:
        deadline = time.monotonic() + TIMEOUT
        while not all((barrier / f"ready-{name}").exists() for name in procs):
            assert time.monotonic() < deadline, "the processes never got ready"
            assert all(p.poll() is None for p in procs.values()), "a process exited before the start"
            time.sleep(0.02)
        (barrier / "go").touch()
        results = {}
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=TIMEOUT)
            assert proc.returncode == 0, f"{name} failed: {err[-2000:]}"
            results[name] = json.loads(out)
        return results
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def test_feedback_recorded_by_one_instance_is_read_by_another(database_settings: Settings, tmp_path: Path) -> None:
    writer = _run_together(tmp_path, {"alpha": _start(database_settings, tmp_path, "alpha", "write", "alpha", 1)})
    (tmp_path / "go").unlink()
    reader = _run_together(tmp_path, {"beta": _start(database_settings, tmp_path, "beta", "read", "alpha")})
    assert len(writer["alpha"]) == 1  # type: ignore[arg-type]
    assert reader == {"beta": ["alpha"]}  # the second process read what the first wrote...
    db = open_database(database_settings)
    try:  # ...and this one reads what the second changed
        assert [r.comment for r in FeedbackStore(db).rows()] == ["alpha seen by beta"]
    finally:
        close_database(db)


def test_concurrent_writers_in_two_processes_lose_nothing(database_settings: Settings, tmp_path: Path) -> None:
    per_process = 100
    ids = _run_together(tmp_path, {tag: _start(database_settings, tmp_path, tag, "write", tag, per_process)
                                   for tag in ("left", "right")})
    db = open_database(database_settings)
    try:
        rows = FeedbackStore(db).rows()
    finally:
        close_database(db)
    assert len(rows) == 2 * per_process
    assert sorted(r.id for r in rows) == sorted(ids["left"] + ids["right"])  # type: ignore[operator]
    assert len({r.id for r in rows}) == 2 * per_process
    for tag in ("left", "right"):
        mine = [r for r in rows if r.comment == tag]
        assert sorted(r.answer for r in mine) == sorted(f"{tag} answer {i}" for i in range(per_process))
