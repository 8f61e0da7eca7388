"""One index writer at a time: a file lock for the embedded store, a lease for a Chroma server.

Embedded: an OS lock (`filelock`) on `<data dir>/ingest.lock`. The OS drops it when the holder
exits, killed or not, so a crashed ingest never blocks the next one. Who holds it is written to
`ingest.owner` beside it (the lock file itself is truncated by every attempt to take it).

Server mode: several machines share one `chroma run`, so a local file proves nothing. The lock is a
lease: one record in the collection `<prefix>-writer` naming the holder (host, pid, a random
token), the generation it writes and when the lease expires. A background thread of the ingest
renews it every third of `ingest_lease_seconds`, and the ingest checks it right before flipping
the pointer; a holder that was killed stops renewing and its lease simply expires.

The race window, honestly: Chroma has no compare-and-set, so taking the lease is read, write,
wait `SETTLE_SECONDS`, read again. Two writers that both read "free" both write; the later write
wins and the earlier writer sees the other's token on its second read and backs off. Both proceed
only if one of them stalls for longer than the settle time between its first read and its write.
That is tolerable because the lease is not what keeps the index correct: each writer fills its own
new generation and flips the pointer only when it is complete, so the pointer always names a
complete generation (the last flip wins), and orphan clean-up never removes a generation that is
pointed at, retired within the grace period, or started less than the grace period ago (store.
removable_generations). Two writers in the window cost duplicate work and one wasted generation,
never a broken index.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from assistant import store
from assistant.config import Settings
from assistant.errors import IngestRunning, StoreUnusable

LEASE_ID = "lease"
SETTLE_SECONDS = 0.5


def _owner() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid(), "started": time.time()}


def _busy(where: str, owner: dict[str, Any] | None) -> IngestRunning:
    who = ""
    if owner:
        since = time.strftime("%H:%M:%S UTC", time.gmtime(float(owner.get("started", 0) or 0)))
        who = f" (pid {owner.get('pid')} on {owner.get('host')}, since {since})"
    return IngestRunning(f"another ingest is running on {where}{who}; wait for it to finish, then run this "
                         "one again if its pages differ")


@dataclass
class Lease:
    """What an ingest holds while it writes: `renew` records the generation it fills (a background
    thread keeps a server lease alive), `confirm` right before the flip."""

    settings: Settings
    client: store.ChromaClient | None = None  # server mode only
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    generation: str = ""

    def renew(self) -> None:
        if self.client is not None:
            _claim(self)

    def confirm(self) -> None:
        """Still ours? A writer whose lease expired (it stalled) and was taken must not flip the pointer."""
        if self.client is not None:
            held = _read(self)
            if held is None or held.get("token") != self.token:
                raise IngestRunning(f"this ingest lost the writer lease on {self.settings.chroma_url} (it stalled for "
                                    f"over {self.settings.ingest_lease_seconds:g} s and another ingest took over); "
                                    "its half-written generation was dropped, the index is unchanged")
            _claim(self)


@contextmanager
def hold(settings: Settings, client: store.ChromaClient | None) -> Iterator[Lease]:
    """The writer lock (embedded) or lease (server) for the length of the block; `IngestRunning` if taken."""
    if settings.chroma_url:
        assert client is not None, "a server lease is a record on the server"
        with _server_lease(settings, client) as lease:
            yield lease
    else:
        with _file_lock(settings) as lease:
            yield lease


@contextmanager
def _file_lock(settings: Settings) -> Iterator[Lease]:
    from filelock import FileLock, Timeout

    owner_file = settings.data_dir / "ingest.owner"
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(settings.data_dir / "ingest.lock")
        lock.acquire(timeout=0)
    except Timeout:
        try:
            owner = json.loads(owner_file.read_text())
        except (OSError, ValueError):
            owner = None
        raise _busy(f"{settings.data_dir}", owner) from None
    except OSError as exc:
        problem = store.store_problem(settings, exc)
        raise problem or StoreUnusable(
            f"the data directory {settings.data_dir} can't be written ({exc.strerror or exc}); make it writable or "
            "set ASSISTANT_DATA_DIR to a folder you can write") from None
    try:
        try:
            owner_file.write_text(json.dumps(_owner()))
        except OSError:
            pass  # only for the message another ingest shows; the lock itself is held
        yield Lease(settings)
    finally:
        lock.release()


def _keep_renewing(lease: Lease, done: threading.Event) -> None:
    while not done.wait(lease.settings.ingest_lease_seconds / 3):
        try:
            held = _read(lease)
            if held is None or held.get("token") != lease.token:
                return  # taken over; `confirm` refuses the flip
            _claim(lease)
        except Exception:  # noqa: BLE001 - the server is down: `confirm` will say so before any flip
            continue


def _read(lease: Lease) -> dict[str, Any] | None:
    assert lease.client is not None
    with store.reaching_server(lease.settings):
        col = store.collection(lease.client, f"{lease.settings.collection_prefix}-writer", create=True)
        got = col.get(ids=[LEASE_ID], include=["metadatas"])
    return dict(got["metadatas"][0]) if got["ids"] else None


def _claim(lease: Lease) -> None:
    assert lease.client is not None
    meta = {**_owner(), "token": lease.token, "generation": lease.generation,
            "expires": time.time() + lease.settings.ingest_lease_seconds}
    with store.reaching_server(lease.settings):
        col = store.collection(lease.client, f"{lease.settings.collection_prefix}-writer", create=True)
        col.upsert(ids=[LEASE_ID], documents=["writer lease"], embeddings=[[0.0, 1.0]], metadatas=[meta])


@contextmanager
def _server_lease(settings: Settings, client: store.ChromaClient) -> Iterator[Lease]:
    lease = Lease(settings, client)
    held = _read(lease)
    if held and held.get("token") != lease.token and float(held.get("expires", 0) or 0) > time.time():
        raise _busy(settings.chroma_url, held)
    _claim(lease)
    time.sleep(SETTLE_SECONDS)  # a writer that read "free" at the same moment has written by now
    held = _read(lease)
    if held is None or held.get("token") != lease.token:
        raise _busy(settings.chroma_url, held)
    # Renewed in the background, so one long embedding batch never lets the lease lapse; a killed
    # ingest's renewals stop with it, and its lease runs out.
    done = threading.Event()
    renewer = threading.Thread(target=_keep_renewing, args=(lease, done), daemon=True, name="ingest-lease")
    renewer.start()
    try:
        yield lease
    finally:
        done.set()
        renewer.join(timeout=settings.chroma_read_timeout + 1)
        try:
            held = _read(lease)
            if held is not None and held.get("token") == lease.token:
                with store.reaching_server(settings):
                    store.collection(client, f"{settings.collection_prefix}-writer").delete(ids=[LEASE_ID])
        except Exception:  # noqa: BLE001 - an unreleased lease just expires; never hide the ingest's own error
            pass
