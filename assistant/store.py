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

Errors are narrow: no pointer yet is `IndexNotBuilt`; a server that can't be reached is
`IndexUnavailable`; opening an index with another embedder than the one that built it is
`EmbedderMismatch`. Anything else is a bug and is not caught here.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

from assistant.config import Settings
from assistant.embeddings import Embedder
from assistant.errors import ConfigError, EmbedderMismatch, IndexNotBuilt, IndexUnavailable
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
    return IndexUnavailable(f"the Chroma server at {settings.chroma_url} can't be reached "
                            f"({exc.__class__.__name__}: {str(exc)[:120]}); is `chroma run` up?")


@contextmanager
def reaching_server(settings: Settings) -> Iterator[None]:
    """Connection failures of a Chroma server become `IndexUnavailable` (never "no index")."""
    if not settings.chroma_url:  # embedded: there is no server, so nothing reads as an outage
        yield
        return
    import httpx

    try:
        yield
    except (httpx.TransportError, ConnectionError) as exc:
        raise _server_down(settings, exc) from None
    except ValueError as exc:  # chromadb's HttpClient says "Could not connect" as a ValueError
        if "connect" not in str(exc).lower():
            raise
        raise _server_down(settings, exc) from None


def make_client(settings: Settings) -> ChromaClient:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise ConfigError(f"ASSISTANT_CHROMA_URL: no host in {settings.chroma_url!r}")
        with reaching_server(settings):
            return chromadb.HttpClient(host=url.hostname, port=url.port or 8000,
                                       ssl=url.scheme == "https", settings=chroma_settings)
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


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
                     dimension=int(meta.get("dimension", 0)))


def active_generation(client: ChromaClient, settings: Settings) -> str | None:
    """The name of the last complete chunk collection, or None when nothing was built."""
    info = active_index(client, settings)
    return info.generation if info else None


def set_active_generation(client: ChromaClient, settings: Settings, name: str, embedder: str, dimension: int,
                          meta: dict[str, Any]) -> None:
    pointer = collection(client, pointer_name(settings), create=True)
    pointer.upsert(ids=[POINTER_ID], documents=[name], embeddings=[[0.0, 1.0]],
                   metadatas=[{**meta, "collection": name, "embedder": embedder, "dimension": dimension}])


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
    with reaching_server(settings):
        return collection(client, info.generation, embedder=embedder), info


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
