"""FastAPI dependencies as Annotated aliases, so route signatures read plainly; and the policy guard
every route passes through (`enforce_policy`, installed on the whole app)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import AuthenticationError, PermissionDeniedError
from onward.security import login_sessions
from onward.security.access import Actor, actor_of
from onward.security.audit import AuditEvent
from onward.security.audit_writer import AuditWriter
from onward.security.policy import ROUTES, Open, Permission, route_allows, route_key
from onward.settings import Settings
from onward.store.tables import User
from onward.web.routes import request_template
from onward.web.sessions import CSRF_FIELD, CSRF_HEADER, check_csrf, session_token

#: State-changing requests that carry no CSRF token: JSON sign-in (no session exists yet, and a browser
#: cannot send a cross-site JSON body without a CORS preflight, which Onward never grants).
CSRF_EXEMPT = frozenset({"POST /api/v1/session"})
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(AuthenticationError):
    """No valid session: pages redirect to the login form, the API answers 401."""


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in its thread pool,
# one thread hop per dependency per request, which is measurable CPU under load (docs/benchmarks.md).


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_now(request: Request) -> datetime:
    """The current time from the app's clock (tests replace the clock to move time forward)."""
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]


def audit_writer(request: Request) -> AuditWriter:
    writer: AuditWriter = request.app.state.audit_writer
    return writer


def request_id(request: Request) -> str | None:
    value: str | None = getattr(request.state, "request_id", None)
    return value


def get_optional_user(
    request: Request, session: SessionDep, settings: SettingsDep, now: NowDep
) -> User | None:
    """The signed-in, active user of this request's session cookie, or None."""
    if hasattr(request.state, "user"):
        cached: User | None = request.state.user
        return cached
    active = login_sessions.find_session(
        session=session,
        secret_key=settings.secret_key,
        token=session_token(request),
        now=now,
        idle=timedelta(minutes=settings.session_idle_minutes),
    )
    if active is None:
        request.state.user = None
        return None
    # The handler goes on in this read transaction (a write service commits it before its own BEGIN
    # IMMEDIATE): ending it here cost every request another pool checkout, ping, BEGIN and COMMIT,
    # four round trips on PostgreSQL (docs/benchmarks.md, "Web under load").
    request.state.actor = actor_of(
        active.user, active.grants, active.programs, request_id=request_id(request)
    )
    # Detached copies: a handler's rollback must not expire what the page (or its error page) shows.
    session.expunge(active.user)
    session.expunge(active.row)
    request.state.user = active.user
    request.state.login = active.row
    if active.needs_touch:
        token_hash = active.row.token_hash
        # At most once a minute per session; waiting keeps the idle clock exact on every worker.
        audit_writer(request).later(lambda s: login_sessions.touch(s, token_hash, now), wait=True)
    return active.user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


async def get_current_user(user: OptionalUser) -> User:
    if user is None:
        raise LoginRequired("sign in first (or your session has ended)")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_actor(request: Request, user: CurrentUser) -> Actor:
    actor: Actor = request.state.actor
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]


async def enforce_policy(request: Request, user: OptionalUser) -> None:
    """Every route passes here first: its rule in `onward.security.policy.ROUTES` (default deny), then
    the CSRF token of any state-changing request."""
    key = route_key(request.method, request_template(request))
    rule = ROUTES.get(key)
    actor: Actor | None = getattr(request.state, "actor", None)
    if rule is not Open.PUBLIC and user is None:
        raise LoginRequired("sign in first (or your session has ended)")
    if not route_allows(rule, actor.permissions if actor else frozenset(), user is not None):
        raise PermissionDeniedError(
            f"your role ({user.role if user else 'anonymous'}) may not use this page"
            if rule is not None
            else "this page has no access rule, so nobody may use it"
        )
    if request.method in _UNSAFE and key not in CSRF_EXEMPT:
        submitted = request.headers.get(CSRF_HEADER)
        if submitted is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
        check_csrf(request, submitted)


def allowed(permission: Permission) -> Callable[[Actor], User]:
    """A dependency that yields the current user when they hold `permission`, else 403 (the route table
    already checked; handlers name the permission they rely on)."""

    async def check(request: Request, actor: ActorDep) -> User:
        if not actor.may(permission):
            raise PermissionDeniedError(
                f"your role ({actor.role}) may not see this page ({permission.value})"
            )
        user: User = request.state.user
        return user

    return check  # type: ignore[return-value]


async def verify_csrf_form(request: Request) -> None:
    """For HTML form posts (also checked by `enforce_policy`): csrf_token must match."""
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    check_csrf(request, submitted if isinstance(submitted, str) else None)


def verify_csrf_header(request: Request) -> None:
    """For JSON API writes with a session cookie: the X-CSRF-Token header must match."""
    check_csrf(request, request.headers.get(CSRF_HEADER))


def audit_read(
    request: Request,
    actor: Actor,
    *,
    now: datetime,
    entity: str,
    entity_id: str | None,
    person_id: str | None,
    detail: str,
) -> None:
    """Record a read of a person's record through the never-failing audit path."""
    audit_writer(request).record(
        AuditEvent(
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            action="read",
            entity=entity,
            entity_id=entity_id,
            person_id=person_id,
            detail=detail,
            request_id=actor.request_id,
        )
    )


CaseloadUser = Annotated[User, Depends(allowed(Permission.CASELOAD))]
OwnRecordUser = Annotated[User, Depends(allowed(Permission.OWN_RECORD))]
OwnProgramsUser = Annotated[User, Depends(allowed(Permission.OWN_PROGRAMS))]
AggregatesUser = Annotated[User, Depends(allowed(Permission.AGGREGATES))]
CouncilUser = Annotated[User, Depends(allowed(Permission.COUNCIL))]
AdminUser = Annotated[User, Depends(allowed(Permission.MANAGE_USERS))]
WhatIfUser = Annotated[User, Depends(allowed(Permission.WHAT_IF))]
