"""Login sessions in a signed cookie: a fresh session at login, an idle timeout, and a CSRF token.

Starlette's SessionMiddleware signs the cookie (itsdangerous, keyed by settings.secret_key) and sets
it HttpOnly and SameSite=Lax; the idle timeout and the CSRF check live here (OWASP ASVS V3, V4.2.2).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from fastapi import Request

from onward.errors import PermissionDeniedError

USER_KEY = "uid"
SEEN_KEY = "seen"
STARTED_KEY = "started"
#: OWASP ASVS 4.0.3 V3.3.2 (level 2): sign in again at least every 12 hours, whatever the activity.
ABSOLUTE_LIFETIME_HOURS = 12
CSRF_KEY = "csrf"
SESSION_ID_KEY = "sid"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _session(request: Request) -> dict[str, Any]:
    session: dict[str, Any] = request.session
    return session


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use (also for anonymous visitors of the login form)."""
    session = _session(request)
    token = session.get(CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_KEY] = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a state-changing request whose token does not match the session's (403)."""
    expected = _session(request).get(CSRF_KEY)
    if not isinstance(expected, str) or not submitted or not secrets.compare_digest(expected, submitted):
        raise PermissionDeniedError(
            "the form has expired or did not come from this site; reload the page and retry"
        )


def start_session(request: Request, *, user_id: str, now: datetime) -> str:
    """Drop whatever session the browser had and start a new one for `user_id`; returns its CSRF token."""
    session = _session(request)
    session.clear()
    session[SESSION_ID_KEY] = secrets.token_urlsafe(16)
    session[USER_KEY] = user_id
    session[SEEN_KEY] = now.timestamp()
    session[STARTED_KEY] = now.timestamp()
    token = secrets.token_urlsafe(32)
    session[CSRF_KEY] = token
    return token


def end_session(request: Request) -> None:
    _session(request).clear()


def session_user_id(request: Request, *, now: datetime, idle_minutes: int) -> str | None:
    """The signed-in user's id, or None; an idle or too old session ends, an active one's clock resets."""
    session = _session(request)
    user_id = session.get(USER_KEY)
    seen = session.get(SEEN_KEY)
    started = session.get(STARTED_KEY)
    if (
        not isinstance(user_id, str)
        or not isinstance(seen, int | float)
        or not isinstance(started, int | float)
    ):
        return None
    moment = now.timestamp()
    if moment - seen > idle_minutes * 60 or moment - started > ABSOLUTE_LIFETIME_HOURS * 3600:
        session.clear()
        return None
    session[SEEN_KEY] = now.timestamp()
    return user_id
