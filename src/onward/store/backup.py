"""Consistent copies of a live database: SQLite's online backup API, or pg_dump for PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from onward.errors import ConfigurationError, OnwardError
from onward.store.engine import is_sqlite


def backup_database(url: str, out: Path) -> Path:
    """Copy the database at `url` to the file `out` while others may keep using it; returns `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if is_sqlite(url):
        return _backup_sqlite(url, out)
    return _backup_postgres(url, out)


def _backup_sqlite(url: str, out: Path) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ConfigurationError("an in-memory SQLite database has nothing to back up")
    source_path = Path(database)
    if not source_path.exists():
        raise ConfigurationError(f"no database file at {source_path}; run `onward init` first")
    if out.resolve() == source_path.resolve():
        raise ConfigurationError("the backup file must not be the database file itself")
    out.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path.as_posix()}?mode=ro", uri=True)
    target = sqlite3.connect(out)
    try:
        # The online backup API copies a consistent snapshot page by page, even while others write.
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        target.close()
        source.close()
    return out


def postgres_tool(name: str, doing: str) -> str:
    """The path of a PostgreSQL client program (pg_dump, pg_restore, psql), or a ConfigurationError."""
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(
            f"{doing} PostgreSQL needs {name} on PATH (Debian: apt-get install postgresql-client)"
        )
    return found


def libpq_connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the client programs, and their environment carrying the password
    (PGPASSWORD: not on the command line, where `ps` would show it)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _backup_postgres(url: str, out: Path) -> Path:
    pg_dump = postgres_tool("pg_dump", "backing up")
    libpq_url, env = libpq_connection(url)
    result = subprocess.run(
        [pg_dump, "--format=custom", "--no-owner", f"--file={out}", f"--dbname={libpq_url}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise OnwardError(f"pg_dump failed: {result.stderr.strip()}")
    return out
