"""FastAPI dependencies as Annotated aliases, so route signatures read plainly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import AuthenticationError
from onward.security.policy import Permission, require
from onward.settings import Settings
from onward.store.tables import User
from onward.web.sessions import CSRF_FIELD, CSRF_HEADER, check_csrf, session_user_id


class LoginRequired(AuthenticationError):
    """No valid session: pages redirect to the login form, the API answers 401."""


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_now(request: Request) -> datetime:
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


def get_optional_user(
    request: Request, session: SessionDep, settings: SettingsDep, now: NowDep
) -> User | None:
    """The signed-in, active user, or None; also refreshes the session's idle clock."""
    user_id = session_user_id(request, now=now, idle_minutes=settings.session_idle_minutes)
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        request.session.clear()
        return None
    request.state.user = user
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def get_current_user(user: OptionalUser) -> User:
    if user is None:
        raise LoginRequired("sign in first (or your session has been idle too long)")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def allowed(permission: Permission) -> Callable[[User], User]:
    """A dependency that yields the current user when their role holds `permission`, else 403."""

    def check(user: CurrentUser) -> User:
        require(user.role, permission)
        return user

    return check


async def verify_csrf_form(request: Request) -> None:
    """For HTML form posts: the hidden csrf_token field must match the session's token."""
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    check_csrf(request, submitted if isinstance(submitted, str) else None)


def verify_csrf_header(request: Request) -> None:
    """For JSON API writes with a session cookie: the X-CSRF-Token header must match."""
    check_csrf(request, request.headers.get(CSRF_HEADER))


CaseloadUser = Annotated[User, Depends(allowed(Permission.CASELOAD))]
OwnRecordUser = Annotated[User, Depends(allowed(Permission.OWN_RECORD))]
OwnProgramsUser = Annotated[User, Depends(allowed(Permission.OWN_PROGRAMS))]
AggregatesUser = Annotated[User, Depends(allowed(Permission.AGGREGATES))]
CouncilUser = Annotated[User, Depends(allowed(Permission.COUNCIL))]
AdminUser = Annotated[User, Depends(allowed(Permission.MANAGE_USERS))]
WhatIfUser = Annotated[User, Depends(allowed(Permission.WHAT_IF))]
