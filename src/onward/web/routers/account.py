"""One's own account: open sessions (and ending them), changing the password; and the one-time links
by which a person sets up their account and anyone resets a password."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import OnwardError
from onward.services.accounts import (
    accept_invitation,
    change_password,
    check_invitation,
    check_reset,
    use_reset_link,
)
from onward.services.signin import end_my_session, my_sessions
from onward.web.deps import ActorDep, NowDep, SessionDep, SettingsDep
from onward.web.sessions import clear_session_cookie, current_login
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _account_page(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    now: NowDep,
    *,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    login = current_login(request)
    sessions = my_sessions(
        session=session,
        actor=actor,
        current_hash=login.token_hash if login else None,
        now=now,
        idle=timedelta(minutes=settings.session_idle_minutes),
    )
    context = {"title": "Your account", "sessions": sessions, "message": message, "error": error}
    return render(request, "account.html", context, status_code=status_code)


@router.get("/account")
def account_page(
    request: Request, session: SessionDep, actor: ActorDep, settings: SettingsDep, now: NowDep
) -> Response:
    return _account_page(request, session, actor, settings, now)


@router.post("/account/password", response_model=None)
def password_submit(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    now: NowDep,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
) -> Response:
    login = current_login(request)
    try:
        change_password(
            session=session,
            actor=actor,
            current=current_password,
            new=new_password,
            keep_session=login.token_hash if login else None,
            now=now,
        )
    except OnwardError as error:
        return _account_page(
            request, session, actor, settings, now, error=str(error), status_code=error.http_status
        )
    return _account_page(
        request, session, actor, settings, now, message="Password changed; your other sessions have ended."
    )


@router.post("/account/sessions/{session_id}/end", response_model=None)
def end_session_submit(
    request: Request, session_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> Response:
    login = current_login(request)
    end_my_session(session=session, actor=actor, session_id=session_id, now=now)
    if login is not None and login.token_hash.startswith(session_id):
        response = RedirectResponse("/login", status_code=303)
        clear_session_cookie(request, response)
        return response
    return RedirectResponse("/account", status_code=303)


@router.get("/invite/{token}", response_model=None)
def invitation_form(
    request: Request, token: str, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    try:
        check_invitation(session=session, secret_key=settings.secret_key, token=token, now=now)
    except OnwardError as error:
        return render(
            request,
            "error.html",
            {"title": "Invitation", "heading": "This invitation cannot be used", "message": str(error)},
            status_code=error.http_status,
        )
    return render(
        request, "invitation.html", {"title": "Set up your account", "token": token, "username": ""}
    )


@router.post("/invite/{token}", response_model=None)
def invitation_submit(
    request: Request,
    token: str,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        accept_invitation(
            session=session,
            secret_key=settings.secret_key,
            token=token,
            username=username,
            password=password,
            now=now,
        )
    except OnwardError as error:
        context = {"title": "Set up your account", "token": token, "username": username, "error": str(error)}
        return render(request, "invitation.html", context, status_code=error.http_status)
    return RedirectResponse("/login?next=/me", status_code=303)


@router.get("/reset/{token}", response_model=None)
def reset_form(
    request: Request, token: str, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    try:
        check_reset(session=session, secret_key=settings.secret_key, token=token, now=now)
    except OnwardError as error:
        return render(
            request,
            "error.html",
            {"title": "Reset link", "heading": "This link cannot be used", "message": str(error)},
            status_code=error.http_status,
        )
    return render(request, "reset.html", {"title": "Choose a new password", "token": token})


@router.post("/reset/{token}", response_model=None)
def reset_submit(
    request: Request,
    token: str,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    password: Annotated[str, Form()] = "",
) -> Response:
    try:
        use_reset_link(
            session=session, secret_key=settings.secret_key, token=token, password=password, now=now
        )
    except OnwardError as error:
        context = {"title": "Choose a new password", "token": token, "error": str(error)}
        return render(request, "reset.html", context, status_code=error.http_status)
    return RedirectResponse("/login", status_code=303)
