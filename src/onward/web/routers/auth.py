"""Sign in, sign out, and the front door that sends each role to its home page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import AuthenticationError
from onward.model.roles import HOME_PATHS, Role
from onward.services.signin import sign_in, sign_out
from onward.web.deps import ActorDep, NowDep, OptionalUser, SessionDep, SettingsDep
from onward.web.sessions import clear_session_cookie, current_login, set_session_cookie
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def home_path(role: str) -> str:
    return HOME_PATHS[Role(role)]


def safe_next(target: str | None) -> str | None:
    """A local path to return to after login; anything that could leave the site is dropped."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    return target


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


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


@router.post("/login", response_model=None)
def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    try:
        signed_in = sign_in(
            session=session,
            secret_key=settings.secret_key,
            username=username,
            password=password,
            now=now,
            address=client_address(request),
            user_agent=request.headers.get("user-agent"),
        )
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
    response = RedirectResponse(safe_next(next) or home_path(signed_in.user.role), status_code=303)
    set_session_cookie(request, response, signed_in.token)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, actor: ActorDep, now: NowDep) -> RedirectResponse:
    login = current_login(request)
    if login is not None:
        sign_out(session=session, actor=actor, token_hash=login.token_hash, now=now)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(request, response)
    return response
