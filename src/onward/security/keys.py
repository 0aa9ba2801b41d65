"""Keys kept outside the database: the audit-chain key and the check on the secret key's strength.

The audit key comes from `ONWARD_AUDIT_KEY`, else from the file `<data_dir>/audit.key` (created with
mode 0600 on first use). Either way it never enters the database, so someone who can write to the
database cannot re-sign a rewritten audit log.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.orm import Session

from onward.errors import ConfigurationError
from onward.settings import MIN_SECRET_BYTES, Settings, load_settings, strong_secret

AUDIT_KEY_FILE = "audit.key"


def audit_key(settings: Settings) -> bytes:
    """The audit key of these settings: the environment's, or the key file's (created if missing)."""
    if settings.audit_key is not None:
        value = settings.audit_key.get_secret_value()
        if not strong_secret(value):
            raise ConfigurationError(
                "ONWARD_AUDIT_KEY must hold at least 32 random bytes, e.g. "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`"
            )
        return value.encode("utf-8")
    path = Path(settings.data_dir) / AUDIT_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once cannot both write a different key.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(MIN_SECRET_BYTES) + "\n")
    value = path.read_text().strip()
    if not strong_secret(value):
        raise ConfigurationError(f"the audit key file {path} holds fewer than 32 random bytes")
    return value.encode("utf-8")


def session_audit_key(session: Session) -> bytes:
    """The audit key a database session was opened with (see `store.engine.session_factory`), else
    the key of the environment's settings."""
    key = session.info.get("audit_key")
    if isinstance(key, bytes):
        return key
    return audit_key(load_settings())
