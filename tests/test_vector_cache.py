"""The on-disk vector cache: same model and texts -> no second embedding; anything odd -> recompute."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.fakes import FakeEmbeddings
from assistant.rules import Engine, default_book
from assistant.vector_cache import cached_vectors

TEXTS = ["tow receipt fax", "reset fee refund"]


def compute_counting(calls: list[int]):  # type: ignore[no-untyped-def]
    def compute() -> np.ndarray:
        calls.append(1)
        return np.asarray(FakeEmbeddings(dims=16).embed_documents(TEXTS), dtype=np.float32)
    return compute


def test_the_second_run_reads_what_the_first_stored(tmp_path: Path) -> None:
    calls: list[int] = []
    first = cached_vectors(tmp_path, "t", "model-a", TEXTS, compute_counting(calls))
    again = cached_vectors(tmp_path, "t", "model-a", TEXTS, compute_counting(calls))
    assert calls == [1] and np.array_equal(first, again)
    cached_vectors(tmp_path, "t", "model-b", TEXTS, compute_counting(calls))  # another model: recomputed
    cached_vectors(tmp_path, "t", "model-a", TEXTS[:1], compute_counting(calls))  # other texts: recomputed
    assert len(calls) == 3


def test_a_corrupt_file_is_recomputed_and_an_unwritable_dir_only_costs_time(tmp_path: Path) -> None:
    calls: list[int] = []
    cached_vectors(tmp_path, "t", "m", TEXTS, compute_counting(calls))
    [stored] = list(tmp_path.glob("t-*.npy"))
    stored.write_bytes(b"half a file")
    assert cached_vectors(tmp_path, "t", "m", TEXTS, compute_counting(calls)).shape[0] == 2 and len(calls) == 2
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    assert cached_vectors(blocked, "t", "m", TEXTS, compute_counting(calls)).shape[0] == 2


def test_the_rules_examples_are_embedded_once_per_model(tmp_path: Path) -> None:
    first = FakeEmbeddings()
    Engine(default_book(), first, cache_dir=tmp_path).warm_up()
    second = FakeEmbeddings()
    engine = Engine(default_book(), second, cache_dir=tmp_path)
    engine.warm_up()
    assert first.embedded > 500 and second.embedded == 0 and engine.votes
