"""The security commands end to end: audit verify (exit codes), invitations, account changes, consents."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onward.cli import app
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import Person

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'onward.sqlite'}"
    upgrade_database(url)
    engine = create_db_engine(url)
    with session_factory(engine)() as s:
        s.add(Person(person_id="ana", birth_year=1985, sex="female", postcode_prefix="981"))
        s.commit()
    engine.dispose()
    return url


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def test_audit_verify_passes_then_names_the_first_tampered_entry(db: str) -> None:
    assert (
        _run("users", "add", "amir", "--role", "admin", "--password", "a long admin password", "--db", db)[0]
        == 0
    )
    assert _run("users", "deactivate", "amir", "--db", db)[0] == 0
    code, output = _run("audit", "verify", "--db", db)
    assert code == 0 and "intact: 2 entries" in output
    with sqlite3.connect(db.removeprefix("sqlite:///")) as raw:
        raw.execute("UPDATE audit_log SET detail = 'nothing happened' WHERE entry_id = 1")
    code, output = _run("audit", "verify", "--db", db)
    assert code == 1 and "entry 1" in output and "NOT intact" in output


def test_audit_verify_finds_a_cut_off_tail(db: str) -> None:
    for name in ("amir", "bea"):
        _run("users", "add", name, "--role", "admin", "--password", "a long admin password", "--db", db)
    with sqlite3.connect(db.removeprefix("sqlite:///")) as raw:
        raw.execute("DELETE FROM audit_log WHERE entry_id = 2")
    code, output = _run("audit", "verify", "--db", db)
    assert code == 1 and "missing" in output


def test_people_get_invitations_not_passwords(db: str) -> None:
    result = runner.invoke(
        app, ["users", "add", "ana", "--role", "person", "--password", "chosen by someone", "--db", db]
    )
    assert result.exit_code != 0 and "invitation" in str(result.exception)
    code, output = _run("users", "invite", "ana", "--db", db)
    assert code == 0 and "/invite/" in output and "works once" in output


def test_consents_and_a_disclosure_from_the_command_line(db: str, tmp_path: Path) -> None:
    code, output = _run(
        "consent",
        "add",
        "ana",
        "--to",
        "Riverside Primary Care",
        "--purpose",
        "treatment",
        "--information",
        "attendance",
        "--discloser",
        "North clinic",
        "--signed-by",
        "the patient",
        "--signed-on",
        "2026-01-02",
        "--expires-on",
        "2027-01-02",
        "--db",
        db,
    )
    assert code == 0 and "recorded consent" in output
    code, output = _run("consent", "list", "ana", "--db", db)
    assert code == 0 and "Riverside" in output and "treatment" in output
    code, output = _run(
        "export",
        str(tmp_path / "out"),
        "--for",
        "Riverside Primary Care",
        "--purpose",
        "treatment",
        "--no-progress",
        "--db",
        db,
    )
    assert code == 0 and "withheld" in output and (tmp_path / "out" / "NOTICE-42-CFR-PART-2.txt").exists()
    code, output = _run("audit", "search", "--action", "disclose", "--db", db)
    assert code == 0 and "disclose" in output
