from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.embeddings import offline_environment

offline_environment()  # before any test imports transformers

from sqlalchemy import text  # noqa: E402

from assistant import embeddings  # noqa: E402
from assistant.config import PROJECT_ROOT, Settings, load_settings  # noqa: E402
from assistant.database import Database, close_database, metadata, open_database  # noqa: E402
from assistant.fakes import FakeEmbeddings  # noqa: E402
from tests.servers import PostgresServer, postgres_bin_dir  # noqa: E402

CORPUS = PROJECT_ROOT / "corpus"
REAL_MODEL_MARKERS = ("integration", "browser")
# The abstention thresholds are calibrated for the real models; bag-of-words cosines run lower.
# With the fakes the composer abstains on the dense relevance alone (lexical weight 0).
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
                            abstain_below=FAKE_ABSTAIN_BELOW, abstain_lexical_weight=0.0,
                            abstain_bank_weight=0.0)
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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster for the session (Debian `postgresql`; `.ci/run` installs it)."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    if os.geteuid() == 0 and not _user_exists("postgres"):
        pytest.skip("running as root, and there is no `postgres` user to run PostgreSQL as (it refuses root)")
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def fresh_database_settings(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings whose database is a new SQLite file (the default) or a new database on the session's
    PostgreSQL cluster."""
    if kind == "sqlite":
        return load_settings(data_dir=tmp_path / "data")
    server: PostgresServer = request.getfixturevalue("postgres")
    return load_settings(data_dir=tmp_path / "data", database_url=server.create_database())


@pytest.fixture(params=DATABASES)
def database_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return fresh_database_settings(request.param, request, tmp_path)


@pytest.fixture(scope="session")
def shared_postgres_url(postgres: PostgresServer) -> str:
    """One migrated PostgreSQL database the store tests share, emptied before each (a new database per
    test costs a CREATE DATABASE and a migration; the migration tests use `database_settings`)."""
    return postgres.create_database()


@pytest.fixture(params=DATABASES)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The same store tests run on SQLite and on PostgreSQL, each on an empty, migrated database."""
    if request.param == "sqlite":
        database = open_database(load_settings(data_dir=tmp_path / "data"))
        yield database
        close_database(database)
        return
    url = request.getfixturevalue("shared_postgres_url")
    database = open_database(load_settings(data_dir=tmp_path / "data", database_url=url))
    tables = ", ".join(table.name for table in metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))
    yield database
