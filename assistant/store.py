"""The index store: the Chroma client, the stored record format, and the generation pointer.

Embedded `PersistentClient` under the data directory by default; `ASSISTANT_CHROMA_URL` switches
to `HttpClient` so several app instances share one index. Telemetry is always off, and no
collection is ever created without an explicit embedding function of ours (Chroma's default one
downloads a model): we always pass vectors ourselves and query by vector.

Atomic updates: every ingest that changes anything writes a fresh collection (a generation,
named `<prefix>-<UTC timestamp>-<6 hex>`) and then flips one pointer record; readers resolve the
pointer, so they see the last complete index until the new one is complete. The pointer also
records which embedder built the generation (its name and vector dimension): vectors of two
models are meaningless to compare, and MiniLM and e5 even share a dimension, so Chroma would not
notice.

Generations outlive the flip for a while: the pointer lists the generations it replaced and when
(`retired`), and `removable_generations` spares those for `generation_grace_seconds`, so an app
still reading one moves on at its next pointer check instead of failing; it also spares any
generation started less than that long ago (another writer may still be filling it). Which writer
may write at all is writer_lock.py's business.

Errors are narrow: no pointer yet is `IndexNotBuilt`; a server that can't be reached, does not
answer within the timeouts (chromadb itself has none) or is not Chroma is `IndexUnavailable`; a
generation removed under a reader is `GenerationGone`; an embedded store that is read-only, full
or uncreatable is `StoreUnusable` and a damaged one `StoreCorrupt`; opening an index with another
embedder than the one that built it is `EmbedderMismatch`. Anything else is a bug and is not
caught here.
"""

from __future__ import annotations

import calendar
import json
import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

from assistant.config import Settings
from assistant.embeddings import Embedder
from assistant.errors import (
    ConfigError,
    EmbedderMismatch,
    GenerationGone,
    IndexNotBuilt,
    IndexUnavailable,
    StoreCorrupt,
    StoreUnusable,
)
from assistant.models import Chunk

POINTER_ID = "active"
# Chroma's embedded SQLite binds one variable per record in an unbounded `get`, so a get of
# 32,767+ records fails ("too many SQL variables"); every full read goes page by page.
READ_PAGE = 5000
# The chunk fields stored as Chroma metadata next to each vector (the text is the document).
META_FIELDS = ("page", "page_title", "business", "section", "anchor", "updated", "source_url", "has_gap")


class Collection(Protocol):
    """The part of a Chroma collection the assistant uses."""

    name: str

    def get(self, ids: list[str] | None = None, *, include: list[str] | None = None,
            limit: int | None = None, offset: int | None = None) -> Any: ...

    def add(self, ids: list[str], *, documents: list[str], embeddings: list[Any],
            metadatas: list[dict[str, Any]]) -> None: ...

    def upsert(self, ids: list[str], *, documents: list[str], embeddings: list[Any],
               metadatas: list[dict[str, Any]]) -> None: ...

    def delete(self, ids: list[str]) -> None: ...

    def query(self, *, query_embeddings: list[Any], n_results: int, include: list[str],
              where: dict[str, Any] | None = None) -> Any: ...


class ChromaClient(Protocol):
    """The part of a Chroma client (embedded or HTTP) the assistant uses."""

    def get_collection(self, name: str, *, embedding_function: Any = None) -> Any: ...

    def get_or_create_collection(self, name: str, *, metadata: dict[str, Any] | None = None,
                                 embedding_function: Any = None) -> Any: ...

    def delete_collection(self, name: str) -> None: ...

    def list_collections(self) -> Sequence[Any]: ...


class ChromaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Our embedder in Chroma's shape, passed to every collection so Chroma never falls back
    to its default function (which downloads a model), even if someone queries by text."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self.embedder = embedder

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's protocol name
        if self.embedder is None:
            raise RuntimeError("no embedder attached; the assistant passes vectors itself")
        return [np.asarray(v, dtype=np.float32) for v in self.embedder.embed_documents(list(input))]

    @staticmethod
    def name() -> str:
        return "assistant-local"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaEmbeddingFunction:
        return ChromaEmbeddingFunction()


# -- the record format: one chunk = one Chroma record ------------------------------------------------
def chunk_metadata(chunk: Chunk, page_digest: str) -> dict[str, Any]:
    meta: dict[str, Any] = {name: getattr(chunk, name) for name in META_FIELDS}
    meta = {k: ("" if v is None else v) for k, v in meta.items()}  # Chroma stores no None
    meta["page_hash"] = page_digest
    return meta


def chunk_from_record(chunk_id: str, text: str, meta: Mapping[str, Any]) -> Chunk:
    fields = {name: meta.get(name) for name in META_FIELDS}
    for optional in ("updated", "source_url"):
        fields[optional] = fields[optional] or None
    return Chunk(id=chunk_id, text=text, **fields)  # type: ignore[arg-type]


# -- the client and its failures ----------------------------------------------------------------------
def _server_down(settings: Settings, exc: BaseException) -> IndexUnavailable:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        limit = settings.chroma_connect_timeout if isinstance(exc, httpx.ConnectTimeout) else settings.chroma_read_timeout
        return IndexUnavailable(f"the Chroma server at {settings.chroma_url} did not answer within {limit:g} s "
                                "(ASSISTANT_CHROMA_CONNECT_TIMEOUT / ASSISTANT_CHROMA_READ_TIMEOUT); is it overloaded "
                                "or is something else listening there?")
    return IndexUnavailable(f"the Chroma server at {settings.chroma_url} can't be reached "
                            f"({exc.__class__.__name__}: {str(exc)[:120]}); is `chroma run` up?")


# SQLite's and the OS's words for a store that can't be used, and what to do about each.
_STORE_PROBLEMS = (
    (("file is not a database", "malformed", "database corrupt", "no such table"),
     "is corrupt", "run `assistant ingest --rebuild` to build a fresh store beside it"),
    (("readonly", "read-only", "permission denied", "unable to open database"),
     "can't be written", "make it writable or set ASSISTANT_DATA_DIR to a writable folder"),
    (("disk is full", "no space left", "file too large", "disk quota"),
     "has no room left", "free disk space (old `chroma.corrupt-*` folders may go) and run the command again"),
)


def store_problem(settings: Settings, exc: BaseException) -> StoreUnusable | None:
    """The one-line error for an embedded store that can't be used, or None when `exc` is something else."""
    text = str(exc).lower()
    for words, what, hint in _STORE_PROBLEMS:
        if any(w in text for w in words):
            error = StoreCorrupt if what == "is corrupt" else StoreUnusable
            return error(f"the index store {settings.index_dir} {what} ({str(exc).strip()[:120]}); {hint}")
    return None


@contextmanager
def reaching_server(settings: Settings) -> Iterator[None]:
    """Store failures become one line: an unreachable or slow server is `IndexUnavailable` (never "no
    index"); an embedded store that is read-only, full or corrupt is `StoreUnusable` (never an outage);
    a generation removed under a reader is `GenerationGone` (readers reload the pointer and retry)."""
    from chromadb.errors import ChromaError, NotFoundError

    if not settings.chroma_url:
        try:
            yield
        except NotFoundError as exc:
            raise GenerationGone(f"an index generation was removed while in use ({exc})") from None
        except (ChromaError, OSError) as exc:
            if (problem := store_problem(settings, exc)) is None:
                raise
            raise problem from None
        return
    import httpx

    try:
        yield
    except NotFoundError as exc:
        raise GenerationGone(f"an index generation was removed while in use ({exc})") from None
    except ChromaError as exc:
        # A server answers a query on a collection deleted mid-way with this instead of a 404.
        if "missing metadata segment" not in str(exc).lower():
            raise
        raise GenerationGone(f"an index generation was removed while in use ({exc})") from None
    except (httpx.TransportError, ConnectionError) as exc:
        raise _server_down(settings, exc) from None
    except ValueError as exc:  # chromadb's HttpClient says "Could not connect" as a ValueError
        if "connect" not in str(exc).lower():
            raise
        raise _server_down(settings, exc) from None


def _check_server(settings: Settings, host: str, port: int) -> None:
    """Ask the heartbeat with our timeouts before chromadb's client, which waits forever: a listener that
    never answers, a closed port or a web server that is not Chroma each get their own line."""
    import httpx

    url = f"{'https' if settings.chroma_url.startswith('https') else 'http'}://{host}:{port}/api/v2/heartbeat"
    timeout = httpx.Timeout(settings.chroma_read_timeout, connect=settings.chroma_connect_timeout)
    with reaching_server(settings):
        response = httpx.get(url, timeout=timeout)
    try:
        alive = response.status_code == 200 and "nanosecond heartbeat" in response.json()
    except ValueError:
        alive = False
    if not alive:
        raise IndexUnavailable(f"{settings.chroma_url} is not a Chroma server (GET /api/v2/heartbeat answered "
                               f"HTTP {response.status_code}); check ASSISTANT_CHROMA_URL")


def store_identity(settings: Settings) -> tuple[int, int] | None:
    """Which files the embedded store is (device, inode of its SQLite file): it changes when the folder
    is deleted and rebuilt, or a corrupt store is replaced, and a client of the old files must be
    replaced. None in server mode, or when there is no store file."""
    if settings.chroma_url:
        return None
    try:
        stat = (settings.index_dir / "chroma.sqlite3").stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def forget_client(path: Path) -> None:
    """Drop chromadb's per-process cached client of `path`: a new `PersistentClient` of the same path
    would otherwise reuse it, with its SQLite handle on files that were deleted or replaced."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(path), None)


def make_client(settings: Settings, path: Path | None = None, fresh: bool = False) -> ChromaClient:
    """A client of the server, or of the embedded store at `path` (default: the data dir's); `fresh`
    opens the files anew instead of reusing this process's cached client of that path."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            port = url.port or 8000
        except ValueError as exc:  # "Port out of range 0-65535"
            raise ConfigError(f"ASSISTANT_CHROMA_URL: {exc} in {settings.chroma_url!r}") from None
        if not url.hostname:
            raise ConfigError(f"ASSISTANT_CHROMA_URL: no host in {settings.chroma_url!r}")
        _check_server(settings, url.hostname, port)
        with reaching_server(settings):
            client = chromadb.HttpClient(host=url.hostname, port=port, ssl=url.scheme == "https",
                                         settings=chroma_settings)
        _set_timeouts(client, settings)
        return client
    path = path or settings.index_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnusable(f"the data directory {path} can't be created ({exc.strerror or exc}); set "
                            "ASSISTANT_DATA_DIR to a folder you can write") from None
    if fresh:
        forget_client(path)
    with reaching_server(settings):
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _set_timeouts(client: Any, settings: Settings) -> None:
    """chromadb builds its HTTP session with no timeout at all and offers no setting for one, so a
    server that stops answering would hang every caller; ours goes on its session. If chromadb
    renames these internals this fails loudly (tests/test_reliability_store.py), never silently."""
    import httpx

    session = client._server._session  # chromadb.api.fastapi.FastAPI's httpx.Client
    session.timeout = httpx.Timeout(settings.chroma_read_timeout, connect=settings.chroma_connect_timeout)


def collection(client: ChromaClient, name: str, create: bool = False, embedder: Embedder | None = None) -> Collection:
    kwargs = {"embedding_function": ChromaEmbeddingFunction(embedder)}
    if create:
        return client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"}, **kwargs)
    return client.get_collection(name, **kwargs)


# -- generations and the pointer ----------------------------------------------------------------------
def pointer_name(settings: Settings) -> str:
    return f"{settings.collection_prefix}-pointer"


def new_generation_name(settings: Settings) -> str:
    return f"{settings.collection_prefix}-{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"


def generation_started(name: str) -> float:
    """When the ingest that writes a generation started (its name's UTC stamp), as a Unix time."""
    stamp = re.search(r"-(\d{14})-[0-9a-f]{6}$", name)
    return float(calendar.timegm(time.strptime(stamp.group(1), "%Y%m%d%H%M%S"))) if stamp else 0.0


def is_generation(settings: Settings, name: str) -> bool:
    """A chunk collection of ours (not the pointer, not another prefix's, not someone else's)."""
    return re.fullmatch(rf"{re.escape(settings.collection_prefix)}-\d{{14}}-[0-9a-f]{{6}}", name) is not None


def generations(client: ChromaClient, settings: Settings) -> list[str]:
    names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
    return sorted(n for n in names if is_generation(settings, n))


@dataclass(frozen=True)
class IndexInfo:
    """What the pointer says about the active generation."""

    generation: str
    embedder: str  # the `Embedder.name` that built it; "" for an index built before this was recorded
    dimension: int  # 0 when not recorded
    # Generations this pointer replaced, with when: apps may still read them for the grace period.
    retired: Mapping[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        if not self.embedder:
            return "an unrecorded model (the index predates recording it)"
        return f"{self.embedder} ({self.dimension}-d)"


def active_index(client: ChromaClient, settings: Settings) -> IndexInfo | None:
    """The last complete chunk collection and the embedder that built it; None when nothing was built."""
    from chromadb.errors import NotFoundError

    with reaching_server(settings):
        try:
            pointer = collection(client, pointer_name(settings))
        except NotFoundError:
            return None
        got = pointer.get(ids=[POINTER_ID], include=["metadatas"])
    if not got["ids"]:
        return None
    meta = got["metadatas"][0]
    return IndexInfo(generation=str(meta["collection"]), embedder=str(meta.get("embedder", "")),
                     dimension=int(meta.get("dimension", 0)), retired=json.loads(str(meta.get("retired") or "{}")))


def active_generation(client: ChromaClient, settings: Settings) -> str | None:
    """The name of the last complete chunk collection, or None when nothing was built."""
    info = active_index(client, settings)
    return info.generation if info else None


def set_active_generation(client: ChromaClient, settings: Settings, name: str, embedder: str, dimension: int,
                          meta: dict[str, Any], replaced: IndexInfo | None = None) -> None:
    """Flip the pointer to `name`; the generation it `replaced` joins the retired ones (kept readable
    for `generation_grace_seconds`, as are those retired less than that long ago)."""
    now = time.time()
    retired = {} if replaced is None else {
        old: when for old, when in replaced.retired.items() if now - when < settings.generation_grace_seconds}
    if replaced is not None and replaced.generation != name:
        retired[replaced.generation] = now
    pointer = collection(client, pointer_name(settings), create=True)
    pointer.upsert(ids=[POINTER_ID], documents=[name], embeddings=[[0.0, 1.0]],
                   metadatas=[{**meta, "collection": name, "embedder": embedder, "dimension": dimension,
                               "retired": json.dumps(retired)}])


def removable_generations(client: ChromaClient, settings: Settings, writing: str | None = None) -> list[str]:
    """Generations no reader needs and no writer is filling: not pointed at, not retired within the
    grace period, not `writing`, and started longer than the grace period ago. The last condition
    keeps a generation that another writer is still filling (one that got past the writer lock's
    race window, see writer_lock.py), as long as its ingest takes less than the grace period.
    Computed from the pointer as it is now, so a generation flipped to a moment ago is never listed."""
    now = time.time()
    grace = settings.generation_grace_seconds
    info = active_index(client, settings)
    needed = {writing} if writing else set()
    if info is not None:
        needed |= {info.generation} | {old for old, when in info.retired.items() if now - when < grace}
    return [name for name in generations(client, settings)
            if name not in needed and now - generation_started(name) >= grace]


def check_embedder(info: IndexInfo, embedder: Embedder) -> None:
    """Questions must be embedded by the model that embedded the pages (an unrecorded one included)."""
    if info.embedder != embedder.name:
        raise EmbedderMismatch(info.describe(), embedder.name)


def open_active(client: ChromaClient, settings: Settings, embedder: Embedder) -> tuple[Collection, IndexInfo]:
    """The active generation, for questions embedded by `embedder` (`EmbedderMismatch` otherwise)."""
    info = active_index(client, settings)
    if info is None:
        raise IndexNotBuilt(f"data directory {settings.data_dir}" if not settings.chroma_url
                            else f"Chroma server {settings.chroma_url}")
    check_embedder(info, embedder)
    try:
        with reaching_server(settings):
            return collection(client, info.generation, embedder=embedder), info
    except GenerationGone:
        raise GenerationGone(f"the index pointer names generation {info.generation}, which no longer exists; "
                             "run `assistant ingest --rebuild`") from None


def read_all(col: Collection, include: list[str], page_size: int | None = None) -> dict[str, list[Any]]:
    """Every record of a collection, read in pages so any collection size works."""
    page_size = page_size or READ_PAGE
    out: dict[str, list[Any]] = {"ids": [], **{field: [] for field in include}}
    offset = 0
    while True:
        got = col.get(include=include, limit=page_size, offset=offset)
        for key in out:
            out[key].extend(got[key])
        if len(got["ids"]) < page_size:
            return out
        offset += page_size


def read_chunks(col: Collection) -> list[Chunk]:
    got = read_all(col, ["documents", "metadatas"])
    return [chunk_from_record(i, d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)]
