"""Vectors computed once per (model, texts) and kept on disk under the data dir.

The question bank and the rules' examples are embedded at start-up; with the same model and the
same texts the vectors are the same, so a one-shot `assistant ask` should not pay for them again.
The cache only saves time: an unreadable, foreign or half-written file is recomputed, never an
error, and a data dir that can't be written only costs the next start the embedding.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


def cached_vectors(cache_dir: Path | None, kind: str, model: str, texts: Sequence[str],
                   compute: Callable[[], np.ndarray]) -> np.ndarray:
    """`compute()`'s vectors for `texts`, read from `cache_dir` when an earlier run stored them."""
    if cache_dir is None:
        return compute()
    digest = hashlib.sha256("\x1e".join([model, *texts]).encode()).hexdigest()[:16]
    path = cache_dir / f"{kind}-{digest}.npy"
    if (vectors := _read(path, len(texts))) is not None:
        return vectors
    vectors = compute()
    _write(path, vectors)
    return vectors


def _read(path: Path, rows: int) -> np.ndarray | None:
    try:
        vectors = np.load(path)
    except (OSError, ValueError):
        return None
    return vectors if vectors.ndim == 2 and len(vectors) == rows else None


def _write(path: Path, vectors: np.ndarray) -> None:
    # Through a temp file of this writer's own: two processes starting together must not interleave.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp.npy")
        with os.fdopen(fd, "wb") as out:
            np.save(out, vectors)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning("vectors not cached at %s: %s", path, exc)
