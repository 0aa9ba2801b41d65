"""E-mail about ideas, when an SMTP server is configured (`smtp_host`; docs/voice.md, "Notifications").

Notices are written in the app first, in the step's own transaction; e-mail goes out afterwards to the
accounts that gave an address, one message each, through the standard library's SMTP client. A mail
server that refuses or is down is logged and never undoes the step: the notice is still in the app.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy.orm import Session

from onward.services.voice_lifecycle import Notice, email_of
from onward.settings import Settings

_LOG = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Mailer:
    host: str
    port: int
    sender: str
    base_url: str
    starttls: bool = False
    username: str | None = None
    password: str | None = None

    def message(self, to: str, notice: Notice) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = f"Onward: your idea “{notice.title}”"
        message.set_content(
            f"{notice.text}\n\nSee the idea: {self.base_url}/voice/ideas/{notice.idea_id}\n\n"
            "You get this because you wrote or supported this idea and gave this address on your "
            f"notifications page ({self.base_url}/voice/notifications), where you can remove it."
        )
        return message

    def send(self, session: Session, notices: list[Notice]) -> int:
        """Send each notice to its account's address; returns how many were sent."""
        outgoing = [(address, n) for n in notices if (address := email_of(session, n.user_id))]
        session.commit()  # end the read before talking to the network
        if not outgoing:
            return 0
        sent = 0
        try:
            with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password or "")
                for address, notice in outgoing:
                    smtp.send_message(self.message(address, notice))
                    sent += 1
        except (OSError, smtplib.SMTPException) as error:
            _LOG.warning("voice e-mail: %d of %d sent; %s", sent, len(outgoing), error)
        return sent


def mailer_from(settings: Settings) -> Mailer | None:
    """The mailer of the settings, or None when no SMTP server is configured."""
    if not settings.smtp_host:
        return None
    return Mailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        base_url=settings.base_url,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
    )


def deliver(settings: Settings, session: Session, notices: list[Notice]) -> int:
    """E-mail the notices when SMTP is configured (0 otherwise)."""
    mailer = mailer_from(settings)
    return mailer.send(session, notices) if mailer is not None else 0
