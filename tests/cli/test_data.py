from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onward.cli import app
from onward.store.migrate import head_revision

PEOPLE = "person_id,birth_year,sex,postcode_prefix,school_grade,pregnancy_due_date\np1,1990,female,981,,\n"
PROGRAMS = "program_id,name,kind,level_of_care,capacity_slots\nop,Outpatient,outpatient,1,120\n"


def _extract(folder: Path, people: str = PEOPLE) -> Path:
    folder.mkdir()
    (folder / "people.csv").write_text(people)
    (folder / "programs.csv").write_text(PROGRAMS)
    return folder


@pytest.mark.parametrize("command", ["init", "import", "export", "backup"])
def test_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert f"onward {command}" in result.output and "Example" in result.output


def test_init_import_export_backup(sqlite_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    init = runner.invoke(app, ["init", "--db", sqlite_url])
    assert init.exit_code == 0, init.output
    assert f"schema revision {head_revision()}" in init.output
    assert runner.invoke(app, ["init", "--db", sqlite_url]).exit_code == 0  # twice is fine

    imported = runner.invoke(
        app, ["import", str(_extract(tmp_path / "x")), "--db", sqlite_url, "--no-progress"]
    )
    assert imported.exit_code == 0, imported.output
    assert "people" in imported.output and "inserted" in imported.output

    out = tmp_path / "out"
    exported = runner.invoke(
        app, ["export", str(out), "--db", sqlite_url, "--format", "csv", "--no-progress"]
    )
    assert exported.exit_code == 0, exported.output
    assert (out / "people.csv").read_text().splitlines()[1].startswith('"p1",1990,"female"')

    copy = tmp_path / "backup" / "copy.sqlite"
    backed_up = runner.invoke(app, ["backup", str(copy), "--db", sqlite_url])
    assert backed_up.exit_code == 0, backed_up.output
    with sqlite3.connect(copy) as connection:
        assert connection.execute("SELECT person_id FROM people").fetchall() == [("p1",)]


def test_bad_input_exits_non_zero_with_the_message(tmp_path: Path) -> None:
    folder = _extract(tmp_path / "x", people=PEOPLE + "p2,19x0,male,980,,\n")
    url = f"sqlite:///{(tmp_path / 'db.sqlite').as_posix()}"
    result = subprocess.run(
        [sys.executable, "-m", "onward", "import", str(folder), "--db", url, "--no-progress"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    assert result.returncode == 1
    assert "people.csv, row 2, column birth_year: '19x0' is not a whole number" in result.stderr
    with sqlite3.connect(tmp_path / "db.sqlite") as connection:
        assert connection.execute("SELECT count(*) FROM people").fetchone() == (0,)


def test_export_of_an_uninitialised_database_says_what_to_do(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'empty.sqlite').as_posix()}"
    result = CliRunner().invoke(app, ["export", str(tmp_path / "out"), "--db", url])
    assert result.exit_code != 0
    assert "onward init" in str(result.exception)
