"""Settings, read from ONWARD_* environment variables (and a `.env` file) when asked for, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from onward.errors import ConfigurationError

PLACEHOLDER_SECRET = "change-me-development-only"


class Settings(BaseSettings):
    """One declarative table of settings: name, default and help drive validation and the docs."""

    model_config = SettingsConfigDict(env_prefix="ONWARD_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = Field(
        "development", description="`production` refuses the placeholder secret key."
    )
    data_dir: Path = Field(Path("onward-data"), description="Folder for the SQLite file and run outputs.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db; "
        "default: a SQLite file in data_dir.",
    )
    secret_key: str = Field(PLACEHOLDER_SECRET, description="Signs session cookies; set a long random value.")
    host: str = Field("127.0.0.1", description="Address `onward serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `onward serve` listens on.")
    session_idle_minutes: int = Field(
        30, ge=1, description="A session ends after this long without a request."
    )
    flag_not_improving_days: int = Field(
        56,
        ge=1,
        description="Flag not_improving this many days after treatment began without reliable improvement "
        "(week 8; docs/flags.md).",
    )
    flag_measure_overdue_days: int = Field(
        30, ge=1, description="Flag measure_overdue after this many days in treatment without a measurement."
    )
    flag_recovery_sustained_days: int = Field(
        28,
        ge=1,
        description="ready_to_graduate: days a reliable recovery must hold (4 weeks; docs/flags.md).",
    )
    instrument_texts_dir: Path | None = Field(
        None,
        description="Folder of a site's licensed instrument wording (<id>.toml, e.g. epds.toml); "
        "see docs/instruments.md.",
    )

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment != "development" and self.secret_key == PLACEHOLDER_SECRET:
            raise ConfigurationError(
                "ONWARD_SECRET_KEY is the development placeholder; set a long random value "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) in production."
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to `<data_dir>/onward.sqlite`."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'onward.sqlite').as_posix()}"


def load_settings(**overrides: object) -> Settings:
    """Read the environment now; `overrides` (e.g. from CLI flags) win over it when not None."""
    values = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**values)  # type: ignore[arg-type]
