"""Server-side sign-in sessions (OWASP ASVS V3): a random token in the cookie, its keyed hash in the
database, a new token at every sign-in, idle and absolute timeouts, and revocation that takes effect at
once on every worker (sign-out, deactivation, role or password change, or the user ending a session).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onward.security.access import held_by, split_held
from onward.store.tables import User
from onward.store.tables_security import LoginSession

#: OWASP ASVS 4.0.3 V3.3.2 (level 2): sign in again at least every 12 hours, whatever the activity.
ABSOLUTE_LIFETIME = timedelta(hours=12)
#: The last-seen time is written at most this often (a write per request would serialise readers).
TOUCH_INTERVAL = timedelta(seconds=60)
#: Exports and break-glass need the password again unless it was entered within this time.
REAUTH_WINDOW = timedelta(minutes=5)


def new_token() -> str:
    """256 random bits, URL-safe (Python `secrets`)."""
    return secrets.token_urlsafe(32)


def token_hash(secret_key: str, token: str) -> str:
    """HMAC-SHA256 of a token under the secret key: what the database stores and looks up."""
    return hmac.new(secret_key.encode("utf-8"), token.encode("utf-8"), hashlib.sha256).hexdigest()


def public_id(row: LoginSession) -> str:
    """A short id to show and to name a session in a request; it cannot be turned back into the token."""
    return row.token_hash[:16]


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; Onward stores UTC, so naive means UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A valid session and its user, as a request sees them."""

    row: LoginSession
    user: User
    needs_touch: bool
    grants: tuple[str, ...] = ()  # the user's unrevoked grants and programs, read with the session
    programs: tuple[str, ...] = ()


def open_session(
    *,
    session: Session,
    secret_key: str,
    user: User,
    now: datetime,
    address: str | None,
    user_agent: str | None,
) -> tuple[str, LoginSession]:
    """Add a new session row for `user` in the caller's transaction; returns (cookie token, row)."""
    token = new_token()
    row = LoginSession(
        token_hash=token_hash(secret_key, token),
        user_id=user.user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_LIFETIME,
        reauthenticated_at=now,
        csrf_token=secrets.token_urlsafe(32),
        address=(address or "")[:64] or None,
        user_agent=(user_agent or "")[:200] or None,
    )
    session.add(row)
    return token, row


def find_session(
    *, session: Session, secret_key: str, token: str | None, now: datetime, idle: timedelta
) -> ActiveSession | None:
    """The session of `token` when it is open, not idle too long, not too old, and its user active."""
    if not token or len(token) > 128:
        return None
    # One statement on every signed-in request: the session, its user, and the user's grants and programs.
    found = session.execute(
        select(LoginSession, User, *held_by(User.user_id))
        .join(User, User.user_id == LoginSession.user_id)
        .where(LoginSession.token_hash == token_hash(secret_key, token))
    ).first()
    if found is None:
        return None
    row, user, grants, programs = found
    if row.ended_at is not None or not user.is_active:
        return None
    if now - aware(row.last_seen_at) > idle or now >= aware(row.expires_at):
        return None
    return ActiveSession(
        row=row,
        user=user,
        needs_touch=now - aware(row.last_seen_at) >= TOUCH_INTERVAL,
        grants=split_held(grants),
        programs=split_held(programs),
    )


def touch(session: Session, token_hash_value: str, now: datetime) -> None:
    """Move a session's last-seen time forward (never backward, whichever worker writes first)."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == token_hash_value, LoginSession.last_seen_at < now)
        .values(last_seen_at=now)
    )


def end_session(*, session: Session, token_hash_value: str, now: datetime, reason: str) -> None:
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == token_hash_value, LoginSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )


def end_user_sessions(
    *, session: Session, user_id: str, now: datetime, reason: str, keep: str | None = None
) -> int:
    """End every open session of a user (except `keep`, a token hash); returns how many ended."""
    query = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(LoginSession.token_hash != keep)
    result = session.execute(query.values(ended_at=now, end_reason=reason))
    return int(getattr(result, "rowcount", 0) or 0)


def open_sessions_of(*, session: Session, user_id: str, now: datetime, idle: timedelta) -> list[LoginSession]:
    """A user's sessions that are still valid, newest first."""
    rows = session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .order_by(LoginSession.created_at.desc())
    )
    return [r for r in rows if now - aware(r.last_seen_at) <= idle and now < aware(r.expires_at)]


def recently_authenticated(row: LoginSession, now: datetime) -> bool:
    return now - aware(row.reauthenticated_at) <= REAUTH_WINDOW
