"""Shared fixtures: a fresh database per test (SQLite file, or a new PostgreSQL database).

PostgreSQL tests run when ONWARD_TEST_POSTGRES_URL is set (and fail if it does not answer);
browser tests run when Chromium is installed, and ONWARD_TEST_REQUIRE_BROWSER=1 turns a missing
Chromium into a failure; ONWARD_TEST_REQUIRE_SPARK=1 does the same for PySpark. CI sets all three.
"""

from __future__ import annotations

import email.policy
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL_ENV = "ONWARD_TEST_POSTGRES_URL"
CHROMIUM_PATH = "/usr/bin/chromium"
#: The audit key of every test (a real key lives outside the database; tests take it from the environment).
TEST_AUDIT_KEY = "9f3c1b7e2d4a6f8091b3c5d7e9fa1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a"


@pytest.fixture(autouse=True)
def audit_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands and services read the audit key from ONWARD_AUDIT_KEY when no session carries one."""
    monkeypatch.setenv("ONWARD_AUDIT_KEY", TEST_AUDIT_KEY)


def _required(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    browser_ok = Path(CHROMIUM_PATH).exists()
    try:
        import pyspark  # noqa: F401

        spark_ok = shutil.which("java") is not None
    except ImportError:
        spark_ok = False
    for item in items:
        # A required service that is missing is not skipped: the test runs and fails.
        if "browser" in item.keywords and not browser_ok and not _required("ONWARD_TEST_REQUIRE_BROWSER"):
            item.add_marker(
                pytest.mark.skip(reason=f"no Chromium at {CHROMIUM_PATH} (apt-get install chromium)")
            )
        if "spark" in item.keywords and not spark_ok and not _required("ONWARD_TEST_REQUIRE_SPARK"):
            item.add_marker(pytest.mark.skip(reason="PySpark or Java missing (pip install '.[spark]')"))
        if "postgres" in item.keywords and not os.environ.get(POSTGRES_URL_ENV):
            item.add_marker(pytest.mark.skip(reason=f"{POSTGRES_URL_ENV} is not set"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A database URL for a new SQLite file of this test's own."""
    return f"sqlite:///{(tmp_path / 'onward.sqlite').as_posix()}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for this test, dropped afterwards."""
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"onward_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # a configured but dead server is a failure, not a skip
        pytest.fail(f"PostgreSQL at {base} did not answer: {error}")
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'onward.sqlite').as_posix()}"
    return str(request.getfixturevalue("postgres_url"))


# --- A real SMTP server (aiosmtpd) for e-mail tests ---------------------------------------------------


class SmtpInbox:
    """What an aiosmtpd server on 127.0.0.1 received: `messages`, and `to(address)`."""

    def __init__(self, port: int) -> None:
        self.host, self.port = "127.0.0.1", port
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802 (aiosmtpd)
        self.messages.append(message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_inbox() -> Iterator[SmtpInbox]:
    """A real SMTP server (aiosmtpd) on a free local port, stopped after the test."""
    from aiosmtpd.controller import Controller

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = SmtpInbox(port)
    controller = Controller(inbox, hostname=inbox.host, port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
