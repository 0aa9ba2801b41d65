"""Voice e-mail through a real SMTP server (aiosmtpd): sent to accounts that gave an address, never
undoing a step when the server is down, and nothing at all without SMTP settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from onward.security.access import Actor
from onward.security.policy import role_permissions
from onward.services import voice_lifecycle
from onward.services.voice_lifecycle import Notice
from onward.services.voice_mail import deliver, mailer_from
from onward.settings import Settings
from onward.store.tables import User

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _people(session: Session) -> tuple[Actor, Actor]:
    actors = []
    for name in ("ana", "bo"):
        session.add(
            User(user_id=f"u-{name}", username=name, role="person", password_hash="x", created_at=NOW)
        )
        actors.append(
            Actor(user_id=f"u-{name}", username=name, role="person", permissions=role_permissions("person"))
        )
    session.commit()
    return actors[0], actors[1]


def test_notices_are_emailed_to_accounts_that_gave_an_address(
    care_db: sessionmaker[Session], smtp_inbox: Any
) -> None:
    inbox = smtp_inbox
    settings = Settings(smtp_host=inbox.host, smtp_port=inbox.port, smtp_from="voice@onward.test")
    with care_db() as session:
        ana, bo = _people(session)
        voice_lifecycle.set_email(session=session, actor=ana, email="ana@example.org", now=NOW)
        notices = [
            Notice(
                "u-ana", "idea1", "Evening groups", "The council accepted this idea: fits people who work."
            ),
            Notice(
                "u-bo", "idea1", "Evening groups", "The council accepted this idea: fits people who work."
            ),
        ]
        assert deliver(settings, session, notices) == 1  # bo gave no address
    [message] = inbox.messages
    assert message["To"] == "ana@example.org" and message["From"] == "voice@onward.test"
    assert message["Subject"] == "Onward: your idea “Evening groups”"
    body = message.get_content()
    assert "The council accepted this idea" in body and "/voice/ideas/idea1" in body


def test_no_smtp_settings_no_email_and_a_dead_server_loses_nothing(care_db: sessionmaker[Session]) -> None:
    assert mailer_from(Settings()) is None
    with care_db() as session:
        ana, _ = _people(session)
        voice_lifecycle.set_email(session=session, actor=ana, email="ana@example.org", now=NOW)
        notice = Notice("u-ana", "idea1", "t", "x")
        assert deliver(Settings(), session, [notice]) == 0
        assert (
            deliver(Settings(smtp_host="127.0.0.1", smtp_port=1), session, [notice]) == 0
        )  # refused, logged
