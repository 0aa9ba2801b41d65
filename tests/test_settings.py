from __future__ import annotations

from pathlib import Path

import pytest

from onward.errors import ConfigurationError
from onward.settings import PLACEHOLDER_SECRET, Settings, load_settings


def test_reads_the_onward_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONWARD_PORT", "9123")
    monkeypatch.setenv("ONWARD_DATABASE_URL", "postgresql+psycopg://u@h/db")
    settings = load_settings()
    assert settings.port == 9123
    assert settings.resolved_database_url == "postgresql+psycopg://u@h/db"


def test_default_database_is_a_sqlite_file_in_the_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONWARD_DATABASE_URL", raising=False)
    settings = load_settings(data_dir=Path("/tmp/x"))
    assert settings.resolved_database_url == "sqlite:////tmp/x/onward.sqlite"


def test_overrides_win_but_none_means_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONWARD_HOST", "0.0.0.0")
    assert load_settings(host=None).host == "0.0.0.0"
    assert load_settings(host="127.0.0.2").host == "127.0.0.2"


def test_placeholder_secret_is_refused_outside_development() -> None:
    with pytest.raises(ConfigurationError, match="ONWARD_SECRET_KEY"):
        Settings(environment="production")
    assert Settings(environment="production", secret_key="x" * 40).secret_key == "x" * 40
    assert Settings(environment="development").secret_key == PLACEHOLDER_SECRET


def test_nothing_is_read_at_import_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONWARD_PORT", "9999")
    assert load_settings().port == 9999
    monkeypatch.setenv("ONWARD_PORT", "9998")
    assert load_settings().port == 9998
