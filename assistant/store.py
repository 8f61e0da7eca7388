"""The Chroma client factory, and the index's generation pointer.

Embedded `PersistentClient` under the data directory by default; `ASSISTANT_CHROMA_URL` switches
to `HttpClient` so several app instances share one index. Telemetry is always off, and no
collection is ever created without an explicit embedding function of ours (Chroma's default one
downloads a model): we always pass vectors ourselves and query by vector.

Atomic updates: every ingest that changes anything writes a fresh collection (a generation) and
then flips one pointer record; readers resolve the pointer, so they see the last complete index
until the new one is complete.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

from assistant.config import Settings
from assistant.embeddings import Embedder
from assistant.errors import ConfigError, IndexNotBuilt

POINTER_ID = "active"
# Chroma's embedded SQLite binds one variable per record in an unbounded `get`, so a get of
# 32,767+ records fails ("too many SQL variables"); every full read goes page by page.
READ_PAGE = 5000


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


def make_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise ConfigError(f"ASSISTANT_CHROMA_URL: no host in {settings.chroma_url!r}")
        return chromadb.HttpClient(host=url.hostname, port=url.port or 8000,
                                   ssl=url.scheme == "https", settings=chroma_settings)
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)


def collection(client: Any, name: str, create: bool = False, embedder: Embedder | None = None) -> Any:
    kwargs = {"embedding_function": ChromaEmbeddingFunction(embedder)}
    if create:
        return client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"}, **kwargs)
    return client.get_collection(name, **kwargs)


def pointer_name(settings: Settings) -> str:
    return f"{settings.collection_prefix}-pointer"


def active_generation(client: Any, settings: Settings) -> str | None:
    """The name of the last complete chunk collection, or None when nothing was built."""
    try:
        pointer = collection(client, pointer_name(settings))
    except Exception:  # chromadb raises NotFoundError / ValueError depending on version
        return None
    got = pointer.get(ids=[POINTER_ID], include=["metadatas"])
    if not got["ids"]:
        return None
    return str(got["metadatas"][0]["collection"])


def set_active_generation(client: Any, settings: Settings, name: str, meta: dict[str, Any]) -> None:
    pointer = collection(client, pointer_name(settings), create=True)
    pointer.upsert(ids=[POINTER_ID], documents=[name], embeddings=[[0.0, 1.0]],
                   metadatas=[{"collection": name, **meta}])


def open_active(client: Any, settings: Settings, embedder: Embedder | None = None) -> Any:
    name = active_generation(client, settings)
    if name is None:
        raise IndexNotBuilt(f"data directory {settings.data_dir}" if not settings.chroma_url
                            else f"Chroma server {settings.chroma_url}")
    return collection(client, name, embedder=embedder)


def read_all(col: Any, include: list[str], page_size: int | None = None) -> dict[str, list[Any]]:
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
