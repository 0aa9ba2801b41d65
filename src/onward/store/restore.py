"""Put an `onward backup` file back: checked first, never over stored data unless forced, all or nothing.

SQLite: the backup is copied aside and checked (`PRAGMA integrity_check`, `PRAGMA foreign_key_check`, an
Onward schema revision this version knows), then written into the database by SQLite's online backup API
in one step. One step is one write transaction on the database, so a crash part-way leaves the old
database, and a running server sees either the old contents or the new ones, never a mix.

PostgreSQL: the pg_dump archive is read through once (`pg_restore` into nowhere) so that a truncated or
damaged archive is refused before anything is touched; then one psql transaction drops the existing
tables and runs the archive's script. Any error rolls the whole transaction back.

Either way a backup from an older Onward is then upgraded to the current schema, and the restore is
appended to the (restored) audit log.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from onward.errors import ConfigurationError, ConflictError, OnwardError, ValidationError
from onward.model.eventlog import EVENT_LOG
from onward.security.audit import append_audit
from onward.store.backup import libpq_connection, postgres_tool
from onward.store.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    create_db_engine,
    display_url,
    is_sqlite,
    session_factory,
)
from onward.store.migrate import alembic_config, head_revision, upgrade_database
from onward.store.tables_voice import SEARCH_OBJECTS

BackupKind = Literal["sqlite", "postgres"]

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"  # pg_dump's custom archive format, which `onward backup` writes
_ALEMBIC_COPY = "COPY public.alembic_version (version_num) FROM stdin;"


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """A backup file that passed its checks."""

    path: Path
    kind: BackupKind
    revision: str
    sha256: str


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore did: the backup, whether data was replaced, and the rows now stored."""

    backup: BackupInfo
    replaced: dict[str, int]  # rows per table the database held before (empty: it held none)
    revision: str  # schema revision after the restore (and any upgrade)
    rows: dict[str, int] = field(default_factory=dict)  # event-log rows per table afterwards


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def backup_kind(path: Path) -> BackupKind:
    """Which database wrote the backup, from its first bytes."""
    if not path.is_file():
        raise ConfigurationError(f"no backup file at {path}")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgres"
    raise ValidationError(
        "not a backup file",
        file=str(path),
        expected="a SQLite file or a pg_dump custom archive, as `onward backup` writes them",
    )


def _known_revision(revision: str, path: Path) -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        found = script.get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise ValidationError(
            f"the backup is at schema revision {revision!r}, which this version of Onward does not know "
            "(a backup from a newer Onward?)",
            file=str(path),
            expected=f"a revision up to {head_revision()}",
        )
    return revision


def _copy_aside(path: Path, folder: Path) -> Path:
    """Copy a SQLite backup (and a write-ahead log beside it, if any) so that checking it changes nothing."""
    copy = folder / "backup.sqlite"
    shutil.copyfile(path, copy)
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, folder / "backup.sqlite-wal")
    return copy


def _check_sqlite_copy(copy: Path, path: Path) -> str:
    """The schema revision of a copied SQLite backup, after SQLite found every page and reference sound."""
    try:
        connection = sqlite3.connect(copy)
        try:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise ValidationError(
                    f"the backup is damaged: {'; '.join(problems[:3])}",
                    file=str(path),
                    expected="a file that passes PRAGMA integrity_check",
                )
            orphans = connection.execute("PRAGMA foreign_key_check").fetchall()
            if orphans:
                table, rowid, parent, _ = orphans[0]
                raise ValidationError(
                    f"{len(orphans)} rows refer to missing rows, first: {table} rowid {rowid} -> {parent}",
                    file=str(path),
                    expected="every reference to name a stored row",
                )
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            if "alembic_version" not in tables:
                raise ValidationError(
                    "not an Onward database (no schema revision)",
                    file=str(path),
                    expected="a backup written by `onward backup`",
                )
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:  # "file is not a database", "database disk image is malformed"
        raise ValidationError(
            f"the backup cannot be read: {error}", file=str(path), expected="an intact SQLite file"
        ) from None
    if revision is None:
        raise ValidationError("the backup has an empty schema revision table", file=str(path))
    return _known_revision(str(revision[0]), path)


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise ValidationError(f"{what}: {result.stderr.strip()}")
    return result.stdout


def _check_postgres_backup(path: Path) -> str:
    """The schema revision of a pg_dump archive whose every block pg_restore could read."""
    pg_restore = postgres_tool("pg_restore", "restoring")
    try:
        listing = _run([pg_restore, "--list", str(path)], f"{path}: pg_restore cannot list the archive")
        # Reading the whole archive into nowhere finds a truncated or damaged data block now, not half-way.
        _run([pg_restore, f"--file={Path('/dev/null')}", str(path)], f"{path}: the archive is damaged")
    except ValidationError as error:
        raise ValidationError(str(error), file=str(path), expected="an intact pg_dump archive") from None
    if "TABLE DATA public alembic_version" not in listing:
        raise ValidationError(
            "not an Onward database (no schema revision)",
            file=str(path),
            expected="a backup written by `onward backup`",
        )
    script = _run(
        [pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)],
        f"{path}: cannot read the schema revision",
    )
    lines = script.splitlines()
    try:
        revision = lines[lines.index(_ALEMBIC_COPY) + 1]
    except (ValueError, IndexError):
        revision = "\\."
    if revision == "\\.":
        raise ValidationError("the backup has an empty schema revision table", file=str(path))
    return _known_revision(revision, path)


def _checked(path: Path, folder: Path) -> tuple[BackupInfo, Path]:
    """The checked backup and the file to restore from: for SQLite a private copy in `folder`."""
    kind = backup_kind(path)
    if kind == "postgres":
        return BackupInfo(path, kind, _check_postgres_backup(path), _sha256(path)), path
    copy = _copy_aside(path, folder)
    return BackupInfo(path, kind, _check_sqlite_copy(copy, path), _sha256(copy)), copy


def check_backup(path: Path) -> BackupInfo:
    """Check a backup without touching any database; raises ValidationError naming what is wrong."""
    with tempfile.TemporaryDirectory(prefix="onward-check-") as folder:
        return _checked(path, Path(folder))[0]


def stored_rows(url: str) -> dict[str, int]:
    """Rows per table of the database at `url` that hold any (the schema revision table and the full-text
    search index of ideas, which SQLite keeps in tables of its own, not counted)."""
    if is_sqlite(url):
        database = make_url(url).database
        if not database or not Path(database).exists() or Path(database).stat().st_size == 0:
            return {}
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            counts = {
                name: int(connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one())
                for name in inspect(connection).get_table_names()
                if name != "alembic_version" and not name.startswith(SEARCH_OBJECTS)
            }
    finally:
        engine.dispose()
    return {name: rows for name, rows in counts.items() if rows}


def _restore_sqlite(source: Path, url: str) -> None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise ConfigurationError("restore into a SQLite file, not an in-memory database")
    target_path = Path(database)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    source_db = sqlite3.connect(source)
    target = sqlite3.connect(target_path, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        target.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # pages=-1: every page in one step, i.e. in one write transaction on the target.
        source_db.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode=WAL")
        problems = [row[0] for row in target.execute("PRAGMA integrity_check")]
    except sqlite3.Error as error:
        raise OnwardError(f"restoring into {target_path} failed, nothing was changed: {error}") from None
    finally:
        target.close()
        source_db.close()
    if problems != ["ok"]:  # pragma: no cover - SQLite wrote pages it had just checked
        raise OnwardError(f"the restored database fails its integrity check: {'; '.join(problems[:3])}")


#: Drops every table, view and free sequence of the target's public schema (the archive recreates them).
_DROP_EVERYTHING = """
DO $$
DECLARE item record;
BEGIN
  FOR item IN SELECT viewname AS name FROM pg_views WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP VIEW IF EXISTS public.%I CASCADE', item.name);
  END LOOP;
  FOR item IN SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP TABLE IF EXISTS public.%I CASCADE', item.name);
  END LOOP;
  FOR item IN SELECT sequencename AS name FROM pg_sequences WHERE schemaname = 'public' LOOP
    EXECUTE format('DROP SEQUENCE IF EXISTS public.%I CASCADE', item.name);
  END LOOP;
END $$;
"""


def _restore_postgres(archive: Path, url: str) -> None:
    pg_restore = postgres_tool("pg_restore", "restoring")
    psql = postgres_tool("psql", "restoring")
    libpq_url, env = libpq_connection(url)
    env["PGOPTIONS"] = "-c client_min_messages=warning"  # no NOTICE per cascaded constraint
    with tempfile.TemporaryFile() as restore_errors:
        script = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(archive)],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
        )
        assert script.stdout is not None
        # One transaction: drop what is there, then the whole archive; ON_ERROR_STOP rolls all of it back.
        result = subprocess.run(
            [
                psql,
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-c",
                _DROP_EVERYTHING,
                "-f",
                "-",
                f"--dbname={libpq_url}",
            ],  # fmt: skip
            stdin=script.stdout,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        script.stdout.close()
        script_status = script.wait()
        restore_errors.seek(0)
        restore_stderr = restore_errors.read().decode(errors="replace").strip()
    if result.returncode != 0 or script_status != 0:
        detail = result.stderr.strip() or restore_stderr
        raise OnwardError(f"restoring into {display_url(url)} failed, nothing was changed: {detail}")


def _event_rows(url: str) -> dict[str, int]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return {
                spec.name: int(connection.execute(text(f"SELECT count(*) FROM {spec.name}")).scalar_one())
                for spec in EVENT_LOG
            }
    finally:
        engine.dispose()


def _audit(url: str, info: BackupInfo, replaced: dict[str, int], now: datetime) -> None:
    detail = json.dumps(
        {
            "file": str(info.path.resolve()),
            "sha256": info.sha256,
            "backup_revision": info.revision,
            "replaced_rows": sum(replaced.values()),
            "os_user": getpass.getuser(),
        },
        sort_keys=True,
    )
    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            append_audit(
                session=session, at=now, user_id=None, action="restore", entity="database", detail=detail
            )
            session.commit()
    finally:
        engine.dispose()


def restore_database(
    backup: Path, url: str, *, force: bool = False, now: datetime | None = None
) -> RestoreResult:
    """Replace the database at `url` with the backup file `backup`, after checking the backup.

    Refuses (ConflictError) when the database already holds data, unless `force`. The backup must
    come from the same kind of database (a SQLite file into SQLite, a pg_dump archive into PostgreSQL).
    """
    target_kind: BackupKind = "sqlite" if is_sqlite(url) else "postgres"
    with tempfile.TemporaryDirectory(prefix="onward-restore-") as folder:
        info, source = _checked(backup, Path(folder))
        if info.kind != target_kind:
            raise ValidationError(
                f"this is a {info.kind} backup and {display_url(url)} is a {target_kind} database",
                file=str(backup),
                expected=f"a {target_kind} backup (`onward backup` on a {target_kind} database)",
            )
        replaced = stored_rows(url)
        if replaced and not force:
            held = ", ".join(f"{rows:,} {name}" for name, rows in sorted(replaced.items())[:4])
            raise ConflictError(
                f"the database {display_url(url)} already holds data ({held}"
                f"{', ...' if len(replaced) > 4 else ''}); restoring replaces all of it. "
                "Back it up first (`onward backup`) if it may be needed, then restore with --force"
            )
        if info.kind == "sqlite":
            _restore_sqlite(source, url)
        else:
            _restore_postgres(source, url)
    revision = upgrade_database(url) if info.revision != head_revision() else info.revision
    _audit(url, info, replaced, now or datetime.now(UTC))
    return RestoreResult(backup=info, replaced=replaced, revision=revision, rows=_event_rows(url))
