"""`onward serve` and `onward users`: the commands behind the web app, through the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from onward.cli import app, main


def _run(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str]:
    """Run `onward ARGS` through main(), which turns domain errors into a message and an exit code."""
    monkeypatch.setattr("sys.argv", ["onward", *args])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def test_serve_refuses_a_database_that_was_never_initialised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONWARD_ENVIRONMENT", "development")
    url = f"sqlite:///{tmp_path / 'missing.sqlite'}"
    code, output = _run(["serve", "--db", url], capsys, monkeypatch)
    assert code == 2 and "run `onward init`" in output
    assert not (tmp_path / "missing.sqlite").exists()


def test_serve_runs_uvicorn_with_the_app_on_the_requested_port(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setenv("ONWARD_ENVIRONMENT", "development")
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: seen.update(app=app, **kwargs))
    code, output = _run(["serve", "--db", db_url, "--port", "8123"], capsys, monkeypatch)
    assert code == 0, output
    assert seen["port"] == 8123 and seen["host"] == "127.0.0.1"
    assert seen["app"].openapi_url == "/api/v1/openapi.json"
    assert "DEVELOPMENT MODE" in output and "Never use it with real records" in output


def test_serve_in_production_needs_a_strong_secret(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ONWARD_ENVIRONMENT", raising=False)
    monkeypatch.delenv("ONWARD_SECRET_KEY", raising=False)
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: pytest.fail("must not serve"))
    code, output = _run(["serve", "--db", db_url], capsys, monkeypatch)
    assert code == 2 and "ONWARD_SECRET_KEY is not set" in output
    monkeypatch.setenv("ONWARD_SECRET_KEY", "one")
    code, output = _run(["serve", "--db", db_url], capsys, monkeypatch)
    assert code == 2 and "fewer than 32 random bytes" in output


def test_serve_with_workers_hands_its_settings_to_each_process(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import secrets

    seen: dict[str, Any] = {}
    secret = secrets.token_hex(32)
    monkeypatch.setenv("ONWARD_SECRET_KEY", secret)
    monkeypatch.setattr(os, "environ", os.environ.copy())  # serve writes the workers' environment
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: seen.update(app=app, **kwargs))
    code, output = _run(["serve", "--db", db_url, "--workers", "3"], capsys, monkeypatch)
    assert code == 0, output
    assert seen["app"] == "onward.web.app:app_from_environment" and seen["factory"] and seen["workers"] == 3
    assert os.environ["ONWARD_DATABASE_URL"] == db_url and os.environ["ONWARD_SECRET_KEY"] == secret
    assert "DEVELOPMENT MODE" not in output


def test_users_add_then_list(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = _run(
        ["users", "add", "jlee", "--role", "admin", "--password", "a long admin password", "--db", db_url],
        capsys,
        monkeypatch,
    )
    assert code == 0 and "added jlee (admin)" in output
    code, output = _run(["users", "list", "--db", db_url], capsys, monkeypatch)
    assert code == 0 and "jlee" in output and "admin" in output


def test_users_add_reports_policy_errors(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = _run(
        ["users", "add", "jlee", "--role", "clinician", "--password", "short", "--db", db_url],
        capsys,
        monkeypatch,
    )
    assert code == 1 and "at least 12 characters" in output
    code, output = _run(
        ["users", "add", "jlee", "--role", "wizard", "--password", "long enough password", "--db", db_url],
        capsys,
        monkeypatch,
    )
    assert code == 1 and "one of person, clinician" in output


def test_users_add_prompts_for_a_hidden_password(db_url: str) -> None:
    result = CliRunner().invoke(
        app,
        ["users", "add", "amy", "--role", "leader", "--db", db_url],
        input="a long leader password\na long leader password\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long leader password" not in result.output and "added amy (leader)" in result.output
