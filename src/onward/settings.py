"""Settings, read from ONWARD_* environment variables (and a `.env` file) when asked for, never at import."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from onward.errors import ConfigurationError
from onward.model.voice_council import CompositionRule

PLACEHOLDER_SECRET = "change-me-development-only"
MIN_SECRET_BYTES = 32
"""32 random bytes (256 bits): at least the security strength of HMAC-SHA256, as NIST SP 800-107
recommends for its keys; Onward's floor for the secret key and the audit key in production."""


def secret_bytes(secret: str) -> int:
    """How many random bytes a secret carries: hex or base64 text decoded, else its UTF-8 length
    halved (typed text holds far fewer than 8 random bits per character)."""
    text = secret.strip()
    decoders = (bytes.fromhex, lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    for decode in decoders:
        try:
            raw = decode(text)
        except (ValueError, binascii.Error):
            continue
        if raw:
            return len(raw)
    return len(text.encode("utf-8")) // 2


def strong_secret(secret: str) -> bool:
    """At least MIN_SECRET_BYTES of material and at least 10 different characters (not `x` * 64)."""
    return secret_bytes(secret) >= MIN_SECRET_BYTES and len(set(secret.strip())) >= 10


class Settings(BaseSettings):
    """One declarative table of settings: name, default and help drive validation and the docs."""

    model_config = SettingsConfigDict(env_prefix="ONWARD_", env_file=".env", extra="ignore")

    environment: Literal["development", "production"] = Field(
        "production",
        description="`production` (the default) needs a strong secret key and marks cookies Secure under "
        "HTTPS; `development` is for trying Onward on one machine (`onward demo` uses it).",
    )
    data_dir: Path = Field(Path("onward-data"), description="Folder for the SQLite file and run outputs.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db; "
        "default: a SQLite file in data_dir.",
    )
    secret_key: str = Field(
        PLACEHOLDER_SECRET,
        description="Keys the stored hashes of session and invitation tokens; in production at least "
        "32 random bytes (e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`). Changing it "
        "signs everyone out.",
    )
    audit_key: SecretStr | None = Field(
        None,
        description="Key of the audit log's HMAC chain, kept outside the database (at least 32 random "
        "bytes); default: the file audit.key in data_dir, created on first use.",
    )
    public_url: str | None = Field(
        None,
        description="The address people open Onward at, used in invitation and reset links "
        "(default: http://host:port).",
    )
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
    crisis_help_text: str = Field(
        "If you are thinking about suicide, or are in crisis, call or text 988 (the 988 Suicide & Crisis "
        "Lifeline: free, any time, in the US) or chat at 988lifeline.org. "
        "If you are in danger now, call 911.",
        description="What the self-report page tells a person where to get help now, shown at once after a "
        "positive risk answer (e.g. PHQ-9 item 9); sites outside the US set their own (docs/pathways.md).",
    )
    published_refresh_seconds: int = Field(
        300,
        ge=0,
        le=86_400,
        description="Published figures (dashboards, metric pages, the metrics API) are recomputed in the "
        "background at most this often after clinical writes; an import refreshes them at once; 0 "
        "recomputes on every change (docs/metrics.md).",
    )
    self_report_link_days: int = Field(
        7,
        ge=1,
        le=30,
        description="How many days a self-report link works unless the clinician says otherwise.",
    )
    instrument_texts_dir: Path | None = Field(
        None,
        description="Folder of a site's licensed instrument wording (<id>.toml, e.g. epds.toml); "
        "see docs/instruments.md.",
    )

    smtp_host: str | None = Field(
        None,
        description="SMTP server that sends e-mail (voice notifications); unset: no e-mail is sent, "
        "notices stay in the app.",
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_from: str = Field(
        "onward@localhost", description="The From address of e-mail Onward sends (voice notifications)."
    )
    smtp_starttls: bool = Field(
        False, description="Upgrade the SMTP connection with STARTTLS before sending (RFC 3207)."
    )
    smtp_username: str | None = Field(None, description="SMTP login, when the server asks for one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password, with smtp_username.")
    voice_lived_experience_min_share: float = Field(
        1 / 3,
        ge=0,
        le=1,
        description="Council composition: the least share of seated (and present) members with lived "
        "experience of services (default a third; e.g. 0.25 for the Medicaid Advisory Committee's share "
        "of Beneficiary Advisory Council members, 42 CFR 431.12(d); docs/voice.md).",
    )
    voice_clinician_min_share: float = Field(
        1 / 3, ge=0, le=1, description="Council composition: the least share of clinicians (default a third)."
    )
    voice_co_chair_lived_experience: bool = Field(
        True, description="Council composition: a co-chair must have lived experience of services."
    )
    voice_quorum_share: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Council quorum: more than this share of seated members present for a decision (default "
        "0.5: a majority), with at least one member with lived experience and one clinician among them.",
    )

    def check_serving(self) -> None:
        """Refuse to serve in production with the placeholder or a weak secret key."""
        if self.environment == "development":
            return
        if self.secret_key == PLACEHOLDER_SECRET:
            raise ConfigurationError(
                "ONWARD_SECRET_KEY is not set: set it to at least 32 random bytes "
                "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`), or set "
                "ONWARD_ENVIRONMENT=development to try Onward on this machine only"
            )
        if not strong_secret(self.secret_key):
            raise ConfigurationError(
                f"ONWARD_SECRET_KEY carries fewer than {MIN_SECRET_BYTES} random bytes; use e.g. "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`"
            )

    @property
    def council_rule(self) -> CompositionRule:
        """The council's composition rule and quorum from these settings (docs/voice.md)."""
        return CompositionRule(
            lived_experience_min_share=self.voice_lived_experience_min_share,
            clinician_min_share=self.voice_clinician_min_share,
            co_chair_lived_experience=self.voice_co_chair_lived_experience,
            quorum_share=self.voice_quorum_share,
        )

    @property
    def base_url(self) -> str:
        """Where people reach this server, for links sent to them."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

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
