"""`onward restore`: a checked backup replaces the database in one step; bad backups and data are refused."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from onward.cli import app
from onward.errors import ConflictError, OnwardError, ValidationError
from onward.security.audit import verify_audit_chain
from onward.store.backup import backup_database
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import head_revision, upgrade_database
from onward.store.restore import check_backup, restore_database, stored_rows
from onward.store.tables import AuditEntry

needs_pg_tools = pytest.mark.skipif(
    shutil.which("pg_dump") is None or shutil.which("psql") is None, reason="PostgreSQL client tools missing"
)


def _execute(url: str, *statements: str) -> None:
    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def _programs(url: str) -> list[str]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text("SELECT name FROM programs ORDER BY name")).scalars())
    finally:
        engine.dispose()


def _audit_actions(url: str) -> list[str]:
    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            assert verify_audit_chain(session=session).intact
            return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.entry_id)))
    finally:
        engine.dispose()


def _with_backup(url: str, out: Path) -> Path:
    """A database holding one program, backed up to `out`, then changed (so a restore has work to do)."""
    upgrade_database(url)
    _execute(url, "INSERT INTO programs VALUES ('op', 'Outpatient', 'outpatient', 1, 10)")
    backup = backup_database(url, out)
    _execute(
        url,
        "UPDATE programs SET name = 'Changed after the backup'",
        "INSERT INTO programs VALUES ('ip', 'Inpatient', 'inpatient', 4, 8)",
    )
    return backup


def test_restore_refuses_a_database_with_data_then_replaces_it_with_force(
    database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("sqlite") and shutil.which("psql") is None:
        pytest.skip("psql is not on PATH")
    backup = _with_backup(database_url, tmp_path / "onward.backup")
    assert check_backup(backup).revision == head_revision()

    with pytest.raises(ConflictError, match="already holds data .*--force"):
        restore_database(backup, database_url)
    assert _programs(database_url) == ["Changed after the backup", "Inpatient"]  # untouched

    result = restore_database(backup, database_url, force=True)
    assert result.replaced["programs"] == 2 and result.rows["programs"] == 1
    assert _programs(database_url) == ["Outpatient"]
    assert _audit_actions(database_url) == ["restore"]  # appended to the restored, intact chain


def test_sqlite_restore_into_a_new_file_needs_no_force_and_keeps_wal(sqlite_url: str, tmp_path: Path) -> None:
    backup = _with_backup(sqlite_url, tmp_path / "copy.sqlite")
    target = tmp_path / "elsewhere" / "restored.sqlite"
    restore_database(backup, f"sqlite:///{target.as_posix()}")
    with sqlite3.connect(target) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("SELECT name FROM programs").fetchall() == [("Outpatient",)]
    assert backup.exists() and sqlite3.connect(backup).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_just_initialised_database_counts_as_empty(sqlite_url: str, tmp_path: Path) -> None:
    backup = _with_backup(sqlite_url, tmp_path / "copy.sqlite")
    fresh = f"sqlite:///{(tmp_path / 'fresh.sqlite').as_posix()}"
    upgrade_database(fresh)
    assert stored_rows(fresh) == {}
    restore_database(backup, fresh)
    assert _programs(fresh) == ["Outpatient"]


def _damaged(backup: Path) -> Path:
    data = bytearray(backup.read_bytes())
    page = 4096
    for offset in range(2 * page + 100, 3 * page, 7):  # scribble over the third page (a B-tree page)
        data[offset] ^= 0x5A
    damaged = backup.with_name("damaged.sqlite")
    damaged.write_bytes(bytes(data))
    return damaged


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        (_damaged, "damaged"),
        (lambda b: _write(b, b.read_bytes()[: len(b.read_bytes()) // 2]), "backup"),
        (lambda b: _write(b, b"person_id,birth_year\np1,1990\n"), "not a backup file"),
        (lambda b: _without_revision(b), "not an Onward database"),
        (lambda b: _at_revision(b, "9999_from_the_future"), "does not know"),
    ],
    ids=["damaged-page", "truncated", "not-a-backup", "no-revision", "unknown-revision"],
)
def test_a_bad_sqlite_backup_is_refused_and_nothing_changes(
    sqlite_url: str, tmp_path: Path, spoil: object, words: str
) -> None:
    backup = _with_backup(sqlite_url, tmp_path / "copy.sqlite")
    assert callable(spoil)
    bad = spoil(backup)
    with pytest.raises(ValidationError, match=words) as raised:
        restore_database(bad, sqlite_url, force=True)
    assert str(bad) in str(raised.value)
    assert _programs(sqlite_url) == ["Changed after the backup", "Inpatient"]


def _write(backup: Path, data: bytes) -> Path:
    out = backup.with_name("spoilt.sqlite")
    out.write_bytes(data)
    return out


def _without_revision(backup: Path) -> Path:
    out = _write(backup, backup.read_bytes())
    with sqlite3.connect(out) as connection:
        connection.execute("DROP TABLE alembic_version")
    return out


def _at_revision(backup: Path, revision: str) -> Path:
    out = _write(backup, backup.read_bytes())
    with sqlite3.connect(out) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    return out


def test_a_backup_of_the_other_kind_of_database_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    backup = _with_backup(sqlite_url, tmp_path / "copy.sqlite")
    with pytest.raises(ValidationError, match="sqlite backup and .* is a postgres database"):
        restore_database(backup, "postgresql+psycopg://nobody@127.0.0.1:1/none")


@pytest.mark.postgres
@needs_pg_tools
def test_a_truncated_postgres_archive_is_refused_and_nothing_changes(
    postgres_url: str, tmp_path: Path
) -> None:
    backup = _with_backup(postgres_url, tmp_path / "onward.dump")
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(backup.read_bytes()[: backup.stat().st_size * 2 // 3])
    with pytest.raises(ValidationError, match="truncated.dump.*(damaged|cannot list)"):
        restore_database(truncated, postgres_url, force=True)
    assert _programs(postgres_url) == ["Changed after the backup", "Inpatient"]


@pytest.mark.postgres
@needs_pg_tools
def test_a_failing_postgres_restore_rolls_back_completely(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onward.store import restore as restore_module

    backup = _with_backup(postgres_url, tmp_path / "onward.dump")
    _execute(postgres_url, "CREATE TABLE keep_me (x integer)", "INSERT INTO keep_me VALUES (1)")
    # Fail after every table was dropped, inside the restore's one transaction.
    monkeypatch.setattr(restore_module, "_DROP_EVERYTHING", restore_module._DROP_EVERYTHING + "SELECT 1/0;")
    with pytest.raises(OnwardError, match="nothing was changed.*division by zero"):
        restore_database(backup, postgres_url, force=True)
    assert _programs(postgres_url) == ["Changed after the backup", "Inpatient"]
    assert stored_rows(postgres_url)["keep_me"] == 1


def test_cli_restore_says_what_it_replaced(sqlite_url: str, tmp_path: Path) -> None:
    backup = _with_backup(sqlite_url, tmp_path / "copy.sqlite")
    runner = CliRunner()
    refused = runner.invoke(app, ["restore", str(backup), "--db", sqlite_url])
    assert refused.exit_code != 0 and isinstance(refused.exception, ConflictError)
    restored = runner.invoke(app, ["restore", str(backup), "--db", sqlite_url, "--force"])
    assert restored.exit_code == 0, restored.output
    assert "replacing 2 rows" in restored.output and "programs 1" in restored.output
    help_text = runner.invoke(app, ["restore", "--help"]).output
    assert "onward restore" in help_text and "Example" in help_text
