"""Session and CSRF cookies (OWASP ASVS V3, V4.2.2).

The session cookie carries only a random token; the session itself is a database row (see
`onward.security.login_sessions`), so sign-out and revocation work at once on every worker. Under
HTTPS the cookie is `__Host-` prefixed and Secure; it is always HttpOnly and SameSite=Lax.

CSRF: a signed-in request's token is its session row's; before sign-in (the login form, invitation
and reset links, self-report links) a random token lives in an HttpOnly, SameSite=Strict cookie and
must come back in the form (the double-submit pattern).
"""

from __future__ import annotations

import secrets

from fastapi import Request
from starlette.responses import Response

from onward.errors import PermissionDeniedError
from onward.store.tables_security import LoginSession

SESSION_COOKIE = "onward_session"
CSRF_COOKIE = "onward_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def cookie_name(request: Request, base: str) -> str:
    """`__Host-` names need Secure, Path=/ and no Domain: used whenever the request came over HTTPS."""
    return f"__Host-{base}" if _secure(request) else base


def session_token(request: Request) -> str | None:
    return request.cookies.get(cookie_name(request, SESSION_COOKIE))


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        cookie_name(request, SESSION_COOKIE),
        token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        cookie_name(request, SESSION_COOKIE), path="/", secure=_secure(request), httponly=True, samesite="lax"
    )


def current_login(request: Request) -> LoginSession | None:
    login: LoginSession | None = getattr(request.state, "login", None)
    return login


def csrf_token(request: Request) -> str:
    """The token forms must send back: the session's, or (signed out) the double-submit cookie's."""
    login = current_login(request)
    if login is not None:
        return login.csrf_token
    token = getattr(request.state, "anonymous_csrf", None) or request.cookies.get(
        cookie_name(request, CSRF_COOKIE)
    )
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        token = secrets.token_urlsafe(32)
    request.state.anonymous_csrf = token
    return token


def keep_anonymous_csrf(request: Request, response: Response) -> None:
    """Set the double-submit cookie when a signed-out page handed out a token the browser lacks."""
    token = getattr(request.state, "anonymous_csrf", None)
    if token and request.cookies.get(cookie_name(request, CSRF_COOKIE)) != token:
        response.set_cookie(
            cookie_name(request, CSRF_COOKIE),
            token,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
            path="/",
        )


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a state-changing request whose token does not match (403)."""
    login = current_login(request)
    if login is not None:
        expected: str | None = login.csrf_token
    else:
        expected = request.cookies.get(cookie_name(request, CSRF_COOKIE))
    if not expected or not submitted or not secrets.compare_digest(expected, submitted):
        raise PermissionDeniedError(
            "the form has expired or did not come from this site; reload the page and retry"
        )
