from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from assistant.embeddings import offline_environment

offline_environment()  # before any test imports transformers

from assistant.config import PROJECT_ROOT, Settings, load_settings  # noqa: E402
from tests.fakes import FakeEmbeddings  # noqa: E402

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every data directory points into tmp_path; no stray ASSISTANT_ setting leaks in."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))


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


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The real corpus ingested once with the real bundled model (integration tests)."""
    from assistant.embeddings import get_embedder
    from assistant.ingest import ingest

    data = tmp_path_factory.mktemp("real-data")
    real = load_settings(data_dir=data, corpus_dir=CORPUS)
    ingest(real, get_embedder())
    return real


@pytest.fixture(scope="session")
def real_chain(real_index: Settings):  # type: ignore[no-untyped-def]
    from assistant.chain import Chain

    chain = Chain(real_index)
    chain.warm_up()
    return chain
