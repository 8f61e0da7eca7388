"""The one database for everything the app writes: feedback, the ask log, trainers' gap resolutions.

SQLAlchemy over a URL (`Settings.database_url`): an SQLite file in the data directory by default
(embedded, zero set-up), PostgreSQL for a deployment that several app instances share. Opening a
database brings its schema to the newest Alembic revision (`assistant/migrations/`, configured here
in code: no alembic.ini needed); two processes opening the same database at once take turns.

The tables below are the schema as the stores read it; the migrations build it (a test checks the
two agree). Must never decide what a row means: that is the stores' job (feedback.py, asklog.py,
gap_resolutions.py).
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from assistant.config import Settings
from assistant.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant will do: PostgreSQL advisory locks are per database, and only our migrations take this one.
MIGRATION_LOCK_KEY = 0x50_41_53_53  # "SOPS"

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
})

feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created", DateTime, nullable=False),  # UTC, naive: SQLite has no time zones
    Column("rating", SmallInteger, CheckConstraint("rating IN (0, 1)", name="rating_up_or_down"), nullable=False),
    Column("comment", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("history", JSON, nullable=False),
    Column("answer", Text, nullable=False),
    Column("abstained", Boolean, nullable=False),
    Column("citations", JSON, nullable=False),
    Column("verdicts", JSON, nullable=False),
)

asks = Table(
    "asks", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created", DateTime, nullable=False),
    Column("channel", String(16), CheckConstraint("channel IN ('chat', 'api', 'cli')", name="known_channel"),
           nullable=False),
    Column("question", Text, nullable=False),
    Column("history", JSON, nullable=False),
    Column("abstained", Boolean, nullable=False),
    Column("citations", JSON, nullable=False),  # [{"page", "section", "anchor"}], in citation order
    Column("see_also", JSON, nullable=False),  # the closest sections when abstaining
    Index("ix_asks_created", "created"),
)

gap_resolutions = Table(
    "gap_resolutions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created", DateTime, nullable=False),
    Column("kind", String(16), CheckConstraint("kind IN ('covered', 'needs_page')", name="known_kind"),
           nullable=False),
    Column("questions", JSON, nullable=False),
    Column("page", Text, nullable=True),
    Column("section", Text, nullable=True),
    Column("anchor", Text, nullable=True),
    Column("note", Text, nullable=False),
    Column("resolved_by", Text, nullable=False),
)


@dataclass(frozen=True)
class Database:
    """An open, migrated database: the engine (shared per URL in this process) and the settings
    whose limits the stores apply."""

    engine: Engine
    settings: Settings

    @property
    def url(self) -> str:
        return safe_url(self.engine.url)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def open_database(settings: Settings) -> Database:
    """The settings' database, migrated to the newest revision; one engine per URL per process."""
    url = database_url(settings)
    key = url.render_as_string(hide_password=False)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = make_engine(url)
            try:
                upgrade(engine)
                _import_legacy_feedback(engine, settings.legacy_feedback_file)
            except BaseException:
                engine.dispose()
                raise
            _engines[key] = engine
    return Database(engine, settings)


def close_database(db: Database) -> None:
    """Close the database's connections and forget its engine (tests; a process that switches URL)."""
    with _engines_lock:
        for key, engine in list(_engines.items()):
            if engine is db.engine:
                del _engines[key]
    db.engine.dispose()


def database_url(settings: Settings) -> URL:
    url = make_url(settings.resolved_database_url)
    if url.drivername in ("postgresql", "postgres"):
        # psycopg 3 is the driver we ship; SQLAlchemy's bare "postgresql" would look for psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return url


def safe_url(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def make_engine(url: URL) -> Engine:
    """An engine without migrating (for `assistant db current`); `open_database` is the usual way in."""
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            try:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailable(f"cannot create the folder of the database {safe_url(url)}: {exc}") from None
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # WAL: readers never block the writer, so several app processes can share the file; the busy
    # timeout makes concurrent writers wait their turn instead of failing with "database is locked".
    with closing(dbapi_connection.cursor()) as cursor:
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")


def alembic_config(connection: Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None, "assistant/migrations has no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"cannot read the database {safe_url(engine.url)}: {_reason(exc)}") from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate to `revision`, one process at a time (a PostgreSQL advisory lock held for the migrating
    transaction; for SQLite a lock file beside the database file)."""
    from alembic import command

    try:
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
                command.upgrade(alembic_config(conn), revision)
        else:
            with _sqlite_migration_lock(engine.url), engine.begin() as conn:
                command.upgrade(alembic_config(conn), revision)
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"cannot open the database {safe_url(engine.url)}: {_reason(exc)}") from None


def downgrade(engine: Engine, revision: str) -> None:
    """Tests only: migrations must run both ways."""
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), revision)


def _sqlite_migration_lock(url: URL):  # type: ignore[no-untyped-def]
    from contextlib import nullcontext

    from filelock import FileLock

    if not url.database or url.database == ":memory:":
        return nullcontext()
    return FileLock(f"{url.database}.migrate.lock", timeout=120)


def _reason(exc: SQLAlchemyError) -> str:
    detail = str(getattr(exc, "orig", None) or exc)
    return re.sub(r"\s+", " ", detail).strip()[:300]


@contextmanager
def transaction(db: Database) -> Iterator[Connection]:
    """A connection in a transaction, committed at the end; a lost or unreachable database is one
    `DatabaseUnavailable` (an interface can say "try again"), never a driver error."""
    try:
        with db.engine.begin() as conn:
            yield conn
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(f"the database {db.url} is unavailable: {_reason(exc)}") from None


def insert(db: Database, table: Table, row: dict[str, Any]) -> int:
    """Write one row in its own transaction; returns its new id."""
    with transaction(db) as conn:
        key = conn.execute(table.insert().values(row)).inserted_primary_key
    assert key is not None, f"{table.name} has no primary key"
    return int(key[0])


def now() -> datetime:
    """The stored time: UTC without a zone (SQLite keeps none), made aware again by `iso`."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(stored: datetime) -> str:
    return stored.replace(tzinfo=UTC).isoformat(timespec="seconds")


def parse_time(value: str) -> datetime:
    """An ISO time as stored (UTC, naive); a time without a zone is read as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"not an ISO date/time: {value!r}") from None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """Text every backend can store: NUL (PostgreSQL refuses it) dropped, lone surrogates (no UTF-8
    for them) replaced by U+FFFD. For logs, which must record whatever was asked."""
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def is_storable(text: str) -> bool:
    return not _UNSTORABLE.search(text)


def _import_legacy_feedback(engine: Engine, legacy: Path) -> int:
    """Feedback from before the database (a raw SQLite file) is copied in once, then the file is renamed
    `*.imported`; whichever process renames it first does the copy."""
    claimed = legacy.with_name(legacy.name + ".importing")
    try:
        legacy.rename(claimed)
    except FileNotFoundError:
        return 0
    try:
        with closing(sqlite3.connect(claimed)) as old:
            found = old.execute("SELECT created, rating, comment, question, history, answer, abstained, citations, "
                                "verdicts FROM feedback ORDER BY id").fetchall()
        rows: list[dict[str, Any]] = [
            {"created": parse_time(r[0]), "rating": int(r[1]), "comment": r[2], "question": r[3],
             "history": json.loads(r[4]), "answer": r[5], "abstained": bool(r[6]), "citations": json.loads(r[7]),
             "verdicts": json.loads(r[8])} for r in found]
        if rows:
            with engine.begin() as conn:
                conn.execute(feedback.insert(), rows)
    except (sqlite3.Error, ValueError, SQLAlchemyError) as exc:
        claimed.rename(legacy)
        raise DatabaseUnavailable(f"could not import the old feedback file {legacy}: {exc}") from None
    claimed.rename(legacy.with_name(legacy.name + ".imported"))
    log.warning("imported %d feedback rows from %s", len(rows), legacy)
    return len(rows)
