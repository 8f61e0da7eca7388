"""The app's database: the URL setting, migrations (both ways, schema = the stores' tables), one
engine per URL, clear errors, the one-time import of the old feedback file, and the `db` command."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect

from assistant import database
from assistant.cli import main
from assistant.config import Settings, load_settings
from assistant.database import close_database, current_revision, head_revision, open_database
from assistant.errors import ConfigError, DatabaseUnavailable
from assistant.fakes import fake_answer
from assistant.feedback import FeedbackStore
from tests.servers import PG_PASSWORD, PostgresServer

TABLES = {"feedback", "asks", "gap_resolutions"}


def test_the_default_is_an_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "fresh" / "data")
    assert settings.database_url is None
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'fresh' / 'data' / 'assistant.db'}"
    db = open_database(settings)
    try:
        assert (tmp_path / "fresh" / "data" / "assistant.db").is_file()
        assert TABLES <= set(inspect(db.engine).get_table_names())
    finally:
        close_database(db)


def test_the_url_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    assert load_settings().resolved_database_url == f"sqlite:///{tmp_path / 'elsewhere.db'}"


@pytest.mark.parametrize(("url", "message"), [
    pytest.param("not a url", "not a database URL", id="garbage"),
    pytest.param("mysql://u:p@h/db", "only sqlite and postgresql", id="unsupported-backend"),
])
def test_a_bad_url_names_the_setting(url: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", url)
    with pytest.raises(ConfigError, match=f"ASSISTANT_DATABASE_URL: .*{message}"):
        load_settings()


@pytest.mark.parametrize("url", ["postgresql://u:p@db.example/app", "postgres://u:p@db.example/app",
                                 "postgresql+psycopg://u:p@db.example/app"])
def test_a_plain_postgresql_url_uses_the_shipped_driver(url: str, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, database_url=url)
    assert database.database_url(settings).drivername == "postgresql+psycopg"


def test_one_engine_per_url_but_each_opener_keeps_its_own_limits(tmp_path: Path) -> None:
    first = open_database(load_settings(data_dir=tmp_path, max_comment_chars=10))
    second = open_database(load_settings(data_dir=tmp_path, max_comment_chars=20))
    try:
        assert first.engine is second.engine
        assert (first.settings.max_comment_chars, second.settings.max_comment_chars) == (10, 20)
    finally:
        close_database(first)
    assert open_database(load_settings(data_dir=tmp_path)).engine is not first.engine  # closed: a new one


def test_the_migrated_schema_is_exactly_the_stores_tables(database_settings: Settings) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    db = open_database(database_settings)
    try:
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), database.metadata) == []
        assert current_revision(db.engine) == head_revision()
    finally:
        close_database(db)


def test_migrations_run_down_and_up_again_keeping_nothing_behind(database_settings: Settings) -> None:
    db = open_database(database_settings)
    try:
        database.downgrade(db.engine, "base")
        assert current_revision(db.engine) is None
        assert not TABLES & set(inspect(db.engine).get_table_names())
        database.upgrade(db.engine)
        assert TABLES <= set(inspect(db.engine).get_table_names())
        assert current_revision(db.engine) == head_revision()
    finally:
        close_database(db)


@pytest.mark.postgres
def test_an_unreachable_postgresql_is_one_clear_error_without_the_password(postgres: PostgresServer,
                                                                          tmp_path: Path) -> None:
    url = postgres.url("no_such_database")
    with pytest.raises(DatabaseUnavailable, match="no_such_database") as caught:
        open_database(load_settings(data_dir=tmp_path, database_url=url))
    assert PG_PASSWORD not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.postgres
def test_a_database_lost_while_running_is_database_unavailable(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.create_database()
    db = open_database(load_settings(data_dir=tmp_path, database_url=url))
    try:
        store = FeedbackStore(db)
        store.record(fake_answer("x"), [], 1)
        postgres.drop_database(url)
        with pytest.raises(DatabaseUnavailable, match="unavailable") as caught:
            store.record(fake_answer("x"), [], 1)
        assert PG_PASSWORD not in str(caught.value)
        with pytest.raises(DatabaseUnavailable):
            store.rows()
    finally:
        close_database(db)


def test_an_unusable_sqlite_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "assistant.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseUnavailable, match="cannot open the database sqlite"):
        open_database(load_settings(data_dir=tmp_path))


def test_an_sqlite_file_in_a_folder_that_cannot_exist_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(DatabaseUnavailable, match="cannot create the folder"):
        open_database(load_settings(data_dir=tmp_path / "a-file" / "data"))


def _old_feedback_file(path: Path, comments: list[str]) -> None:
    """The raw-sqlite3 file feedback.py wrote before the database existed (its exact schema)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, "
                    "rating INTEGER NOT NULL CHECK (rating IN (0, 1)), comment TEXT NOT NULL DEFAULT '', "
                    "question TEXT NOT NULL, history TEXT NOT NULL, answer TEXT NOT NULL, abstained INTEGER NOT NULL, "
                    "citations TEXT NOT NULL, verdicts TEXT NOT NULL)")
        for i, comment in enumerate(comments):
            old.execute("INSERT INTO feedback (created, rating, comment, question, history, answer, abstained, "
                        "citations, verdicts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (f"2026-11-0{i + 1}T10:00:00+00:00", i % 2, comment, f"question {i}", json.dumps(["h"]),
                         "answer", 0, json.dumps([{"page": "p", "section": "S", "quote": "q"}]),
                         json.dumps([{"rule": "credit-cap", "action": "deny"}])))
    old.close()


def test_the_old_feedback_file_is_imported_once(database_settings: Settings) -> None:
    legacy = database_settings.legacy_feedback_file
    _old_feedback_file(legacy, ["first", "second"])
    db = open_database(database_settings)
    try:
        rows = FeedbackStore(db).rows()
        assert [(r.comment, r.rating, r.created) for r in rows] == [("second", 1, "2026-11-02T10:00:00+00:00"),
                                                                    ("first", 0, "2026-11-01T10:00:00+00:00")]
        assert rows[0].history == ["h"] and rows[0].verdicts[0]["rule"] == "credit-cap"
        assert not legacy.exists() and legacy.with_name("feedback.sqlite3.imported").exists()
    finally:
        close_database(db)
    db = open_database(database_settings)  # a new process: nothing imported twice
    try:
        assert len(FeedbackStore(db).rows()) == 2
    finally:
        close_database(db)


def test_an_unreadable_old_feedback_file_is_kept_and_named(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    settings.legacy_feedback_file.write_bytes(b"garbage" * 100)
    with pytest.raises(DatabaseUnavailable, match="feedback.sqlite3"):
        open_database(settings)
    assert settings.legacy_feedback_file.read_bytes() == b"garbage" * 100


def test_db_command_reports_and_upgrades(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    assert main(["db", "current"]) == 1
    assert "none (empty database)" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert f"at revision {head_revision()}" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert "(the newest)" in capsys.readouterr().out


def test_db_command_with_a_bad_url_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", "mysql://x/y")
    assert main(["db", "current"]) == 2
    assert capsys.readouterr().err.startswith("error: ASSISTANT_DATABASE_URL")
