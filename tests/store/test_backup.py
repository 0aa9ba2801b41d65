from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from onward.errors import ConfigurationError
from onward.store.backup import backup_database
from onward.store.migrate import upgrade_database


def test_sqlite_backup_is_a_self_contained_copy(sqlite_url: str, tmp_path: Path) -> None:
    upgrade_database(sqlite_url)
    source = Path(sqlite_url.removeprefix("sqlite:///"))
    with sqlite3.connect(source) as connection:
        connection.execute("INSERT INTO programs VALUES ('op', 'Outpatient', 'outpatient', 1, 10)")
    out = backup_database(sqlite_url, tmp_path / "copies" / "copy.sqlite")
    with sqlite3.connect(out) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert copy.execute("SELECT program_id FROM programs").fetchall() == [("op",)]


def test_sqlite_backup_refuses_a_missing_database_or_itself(sqlite_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="onward init"):
        backup_database(sqlite_url, tmp_path / "copy.sqlite")
    upgrade_database(sqlite_url)
    with pytest.raises(ConfigurationError, match="must not be the database"):
        backup_database(sqlite_url, Path(sqlite_url.removeprefix("sqlite:///")))


@pytest.mark.postgres
@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not on PATH")
def test_postgres_backup_runs_pg_dump(postgres_url: str, tmp_path: Path) -> None:
    upgrade_database(postgres_url)
    out = backup_database(postgres_url, tmp_path / "onward.dump")
    assert out.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
