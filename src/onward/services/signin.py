"""Signing in and out, and each user's view of their own sessions (OWASP ASVS V3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from onward.errors import AuthenticationError, NotFoundError
from onward.security import login_sessions
from onward.security.access import Actor
from onward.security.audit import append_audit
from onward.security.passwords import verify_password
from onward.services._guard import write_transaction
from onward.services.users import authenticate
from onward.store.tables import User
from onward.store.tables_security import LoginSession


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: the token for the cookie (shown once, never stored) and its row."""

    user: User
    token: str
    row: LoginSession


def sign_in(
    *,
    session: Session,
    secret_key: str,
    username: str,
    password: str,
    now: datetime,
    address: str | None,
    user_agent: str | None,
) -> SignedIn:
    """Check the password (throttled) and open a new server-side session with a new token."""
    user = authenticate(session=session, username=username, password=password, now=now, address=address)
    with write_transaction(session):
        token, row = login_sessions.open_session(
            session=session, secret_key=secret_key, user=user, now=now, address=address, user_agent=user_agent
        )
    return SignedIn(user=user, token=token, row=row)


def sign_out(*, session: Session, actor: Actor, token_hash: str, now: datetime) -> None:
    with write_transaction(session):
        login_sessions.end_session(session=session, token_hash_value=token_hash, now=now, reason="signed out")
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="logout",
            entity="session",
            entity_id=token_hash[:16],
        )


@dataclass(frozen=True, slots=True)
class SessionView:
    """One of a user's sessions, as they see it on their account page."""

    session_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    address: str | None
    user_agent: str | None
    current: bool


def my_sessions(
    *, session: Session, actor: Actor, current_hash: str | None, now: datetime, idle: timedelta
) -> list[SessionView]:
    """The actor's own open sessions, newest first; the one making this request is marked."""
    if actor.user_id is None:
        return []
    rows = login_sessions.open_sessions_of(session=session, user_id=actor.user_id, now=now, idle=idle)
    session.commit()
    return [
        SessionView(
            session_id=login_sessions.public_id(r),
            created_at=login_sessions.aware(r.created_at),
            last_seen_at=login_sessions.aware(r.last_seen_at),
            expires_at=login_sessions.aware(r.expires_at),
            address=r.address,
            user_agent=r.user_agent,
            current=r.token_hash == current_hash,
        )
        for r in rows
    ]


def end_my_session(*, session: Session, actor: Actor, session_id: str, now: datetime) -> None:
    """End one of the actor's own sessions, named by its public id; someone else's is not found."""
    if actor.user_id is None or len(session_id) != 16:
        raise NotFoundError("no such session")
    with write_transaction(session):
        target = (
            session.query(LoginSession)
            .filter(
                LoginSession.user_id == actor.user_id,
                LoginSession.token_hash.startswith(session_id, autoescape=True),
                LoginSession.ended_at.is_(None),
            )
            .first()
        )
        if target is None:
            raise NotFoundError("no such session")
        login_sessions.end_session(
            session=session, token_hash_value=target.token_hash, now=now, reason="ended by the user"
        )
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="end_session",
            entity="session",
            entity_id=session_id,
        )


def reauthenticate(*, session: Session, actor: Actor, token_hash: str, password: str, now: datetime) -> None:
    """Confirm the password again before a sensitive action (export, break-glass); records the time."""
    user = session.get(User, actor.user_id) if actor.user_id else None
    session.commit()
    if user is None or not verify_password(user.password_hash, password):
        with write_transaction(session):
            append_audit(
                session=session,
                at=now,
                user_id=actor.user_id,
                role=actor.role,
                request_id=actor.request_id,
                action="reauthenticate",
                entity="user",
                entity_id=actor.user_id,
                outcome="refused",
            )
        raise AuthenticationError("the password is not correct")
    with write_transaction(session):
        session.query(LoginSession).filter(LoginSession.token_hash == token_hash).update(
            {LoginSession.reauthenticated_at: now}
        )
