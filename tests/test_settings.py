from __future__ import annotations

import secrets
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


def test_production_is_the_default_and_refuses_to_serve_with_the_placeholder_secret() -> None:
    assert Settings().environment == "production"
    with pytest.raises(ConfigurationError, match="ONWARD_SECRET_KEY is not set"):
        Settings(environment="production").check_serving()
    Settings(environment="development").check_serving()  # a local trial may use the placeholder
    assert Settings(environment="development").secret_key == PLACEHOLDER_SECRET


@pytest.mark.parametrize("weak", ["x", "k" * 64, "correct horse battery staple", "ab" * 40])
def test_production_refuses_a_secret_with_fewer_than_32_random_bytes(weak: str) -> None:
    with pytest.raises(ConfigurationError, match="fewer than 32 random bytes"):
        Settings(environment="production", secret_key=weak).check_serving()


def test_production_accepts_32_random_bytes_as_hex_or_base64() -> None:
    Settings(environment="production", secret_key=secrets.token_hex(32)).check_serving()
    Settings(environment="production", secret_key=secrets.token_urlsafe(32)).check_serving()
    with pytest.raises(ConfigurationError):
        Settings(environment="production", secret_key=secrets.token_hex(16)).check_serving()


def test_nothing_is_read_at_import_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONWARD_PORT", "9999")
    assert load_settings().port == 9999
    monkeypatch.setenv("ONWARD_PORT", "9998")
    assert load_settings().port == 9998
