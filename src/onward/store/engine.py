"""Engine and session factories: SQLite tuned for one writer and many readers, or PostgreSQL via psycopg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 5000
"""Wait this long for another writer's lock before failing (SQLite `busy_timeout`, in ms)."""


SQLITE_SYNCHRONOUS = "FULL"
"""fsync the write-ahead log at every commit: a committed transaction survives a power cut or an OS crash.

With WAL, SQLite's `synchronous=NORMAL` is safe against corruption but may lose the last commits on a power
cut (https://www.sqlite.org/pragma.html#pragma_synchronous); an audit row or a clinical note that the user
saw saved must not disappear, so Onward pays one fsync per commit."""

POOL_SIZE = 10
POOL_OVERFLOW = 30
"""Connections kept open, and extra ones opened under load: 40 in all, as many as the web server runs
request threads (AnyIO's default thread limiter), so that no request thread waits for a connection while
others hold theirs (SQLAlchemy's default, 5 + 10, made 25 of 40 threads wait up to 30 s under load)."""

SQLITE_BEGIN_MODES = ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _normalise(url: str) -> URL:
    """Parse a URL; a bare `postgresql://` means psycopg 3, the driver Onward ships with."""
    try:
        parsed = make_url(url)
    except Exception as error:  # sqlalchemy.exc.ArgumentError, ValueError
        raise ConfigurationError(f"not a database URL: {url!r} ({error})") from None
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigurationError(
            f"unsupported database {parsed.drivername!r}: use sqlite:/// or postgresql+psycopg://"
        )
    return parsed


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`. SQLite gets its folder created, WAL with durable commits, foreign keys on and
    real transactions."""
    parsed = _normalise(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
        return create_engine(parsed, pool_pre_ping=True, **kwargs)

    path = _sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("pool_size", POOL_SIZE)  # a file database pools; in-memory ones use one connection
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    engine = create_engine(parsed, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (SQLAlchemy's
        # documented recipe), so a session or an import is exactly one transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if path is not None:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # `connection.execution_options(sqlite_begin="IMMEDIATE")` takes the write lock up front, so a
        # transaction that reads and then writes cannot fail half-way on another writer's commit.
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode not in SQLITE_BEGIN_MODES:
            raise ValueError(f"sqlite_begin must be one of {', '.join(SQLITE_BEGIN_MODES)}, not {mode!r}")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def session_factory(engine: Engine, *, audit_key: bytes | None = None) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (web handlers render them afterwards).

    `audit_key` travels in each session's `info`, so the audit log is keyed without globals; without
    it, the audit code reads the key from the environment's settings.
    """
    info = {"audit_key": audit_key} if audit_key is not None else {}
    return sessionmaker(bind=engine, expire_on_commit=False, info=info)


def begin_write(session: Session) -> None:
    """Start the session's transaction as a write: on SQLite `BEGIN IMMEDIATE`, which waits (up to the
    busy timeout) for the write lock instead of failing half-way when a read turns into a write.

    Any read-only transaction the session had open is ended first (it holds nothing to keep).
    """
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})


def refresh_statistics(engine: Engine, tables: list[str]) -> None:
    """After a bulk load into PostgreSQL, `VACUUM (ANALYZE)` the loaded tables, as PostgreSQL advises
    for bulk loads (https://www.postgresql.org/docs/current/populate.html#POPULATE-ANALYZE).

    Until autovacuum gets round to them, freshly loaded tables have no planner statistics: right after
    `onward demo`, a caseload's measurement query scanned all 91,000 rows of the date index once per
    episode (104 ms; 4.5 ms after `ANALYZE`). Vacuuming now also spares the first users autovacuum's
    pass over the new rows while they work. SQLite chose good plans without statistics in every query
    measured, so it is left alone."""
    if engine.dialect.name != "postgresql" or not tables:
        return
    quoted = ", ".join(engine.dialect.identifier_preparer.quote(t) for t in tables)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"VACUUM (ANALYZE) {quoted}")


def display_url(url: str) -> str:
    """The URL with any password hidden, for printing."""
    return _normalise(url).render_as_string(hide_password=True)
