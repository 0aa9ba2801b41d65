"""Sign in, sign out, and the front door that sends each role to its home page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import AuthenticationError
from onward.model.roles import HOME_PATHS, Role
from onward.services.users import authenticate
from onward.web.deps import NowDep, OptionalUser, SessionDep, verify_csrf_form
from onward.web.errors import TooManyAttemptsError
from onward.web.sessions import end_session, start_session
from onward.web.templating import render
from onward.web.throttle import LoginThrottle

router = APIRouter(tags=["pages"], include_in_schema=False)


def home_path(role: str) -> str:
    return HOME_PATHS[Role(role)]


def safe_next(target: str | None) -> str | None:
    """A local path to return to after login; anything that could leave the site is dropped."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    return target


def throttle_login(request: Request, now: NowDep) -> None:
    """The per-client throttle: refuse (429) a client that tried too often lately."""
    throttle: LoginThrottle = request.app.state.login_throttle
    client = request.client.host if request.client else "unknown"
    wait = throttle.attempt(client, now)
    if wait is not None:
        raise TooManyAttemptsError(wait)


@router.get("/")
def front_door(user: OptionalUser) -> RedirectResponse:
    return RedirectResponse(home_path(user.role) if user else "/login", status_code=303)


@router.get("/login", response_model=None)
def login_form(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(home_path(user.role), status_code=303)
    return render(
        request, "login.html", {"title": "Sign in", "next_path": safe_next(next) or "", "username": ""}
    )


@router.post("/login", dependencies=[Depends(verify_csrf_form), Depends(throttle_login)], response_model=None)
def login_submit(
    request: Request,
    session: SessionDep,
    now: NowDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    try:
        user = authenticate(session=session, username=username, password=password, now=now)
    except AuthenticationError as error:
        message = str(error)
        return render(
            request,
            "login.html",
            {
                "title": "Sign in",
                "error": message[:1].upper() + message[1:] + ".",
                "next_path": safe_next(next) or "",
                "username": username,
            },
            status_code=401,
        )
    start_session(request, user_id=user.user_id, now=now)
    return RedirectResponse(safe_next(next) or home_path(user.role), status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf_form)])
def logout(request: Request) -> RedirectResponse:
    end_session(request)
    return RedirectResponse("/login", status_code=303)
