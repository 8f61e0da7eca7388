from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.embeddings import offline_environment

offline_environment()  # before any test imports transformers

from assistant import embeddings  # noqa: E402
from assistant.config import PROJECT_ROOT, Settings, load_settings  # noqa: E402
from assistant.fakes import FakeEmbeddings  # noqa: E402

CORPUS = PROJECT_ROOT / "corpus"
REAL_MODEL_MARKERS = ("integration", "browser")
# The abstention thresholds are calibrated for the real models; bag-of-words cosines run lower.
FAKE_ABSTAIN_BELOW = 0.15


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every data directory points into tmp_path; no stray ASSISTANT_ setting leaks in."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(autouse=True)
def _no_real_model_in_unit_tests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Kill switch: a unit test that would load the real model fails instead of silently taking seconds."""
    if any(request.node.get_closest_marker(m) for m in REAL_MODEL_MARKERS):
        yield
        return
    embeddings.forbid_model_loading(f"{request.node.nodeid} is a unit test; use assistant.fakes.FakeEmbeddings "
                                    "or mark it integration")
    try:
        yield
    finally:
        embeddings.allow_model_loading()


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, corpus_copy: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", corpus_dir=corpus_copy)


@pytest.fixture
def fake_embedder() -> FakeEmbeddings:
    return FakeEmbeddings()


@pytest.fixture(scope="module")
def fake_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, FakeEmbeddings]:
    """The real corpus ingested once per test module with the fake embedder (read-only tests)."""
    from assistant.ingest import ingest

    embedder = FakeEmbeddings()
    indexed = load_settings(data_dir=tmp_path_factory.mktemp("fake-data"), corpus_dir=CORPUS,
                            abstain_below=FAKE_ABSTAIN_BELOW)
    ingest(indexed, embedder)
    return indexed, embedder


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The real corpus ingested once with the default backend's real model (integration tests): the
    product as `make run` builds it. Its threshold is that backend's calibrated default."""
    from assistant.embeddings import get_embedder
    from assistant.ingest import ingest

    data = tmp_path_factory.mktemp("real-data")
    real = load_settings(data_dir=data, corpus_dir=CORPUS)
    ingest(real, get_embedder(real))
    return real


@pytest.fixture(scope="session")
def real_chain(real_index: Settings):  # type: ignore[no-untyped-def]
    from assistant.chain import Chain

    chain = Chain(real_index)
    chain.warm_up()
    return chain
