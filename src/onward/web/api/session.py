"""Sign in and out over JSON; the session cookie is the same one the pages use."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from onward.model.roles import HOME_PATHS, Role
from onward.services.signin import end_my_session, my_sessions, sign_in, sign_out
from onward.services.users import program_ids_of
from onward.store.tables import User
from onward.web.deps import ActorDep, CurrentUser, NowDep, SessionDep, SettingsDep
from onward.web.errors import ROLE_CHECKED, SIGNED_IN, error_responses
from onward.web.routers.auth import client_address
from onward.web.schemas import LoginIn, MeOut, SessionOut, SessionViewOut
from onward.web.sessions import clear_session_cookie, current_login, set_session_cookie

router = APIRouter(tags=["session"])


def me_out(session: Session, user: User) -> MeOut:
    return MeOut(
        user_id=user.user_id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        person_id=user.person_id,
        program_ids=list(program_ids_of(session=session, user_id=user.user_id)),
        home=HOME_PATHS[Role(user.role)],
    )


@router.post("/session", responses=error_responses(401, 429))
def create_session(
    body: LoginIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> SessionOut:
    """Sign in: sets the HttpOnly session cookie and returns the user and a CSRF token for later writes."""
    signed_in = sign_in(
        session=session,
        secret_key=settings.secret_key,
        username=body.username,
        password=body.password,
        now=now,
        address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    set_session_cookie(request, response, signed_in.token)
    return SessionOut(user=me_out(session, signed_in.user), csrf_token=signed_in.row.csrf_token)


@router.delete("/session", status_code=204, responses=ROLE_CHECKED)
def delete_session(request: Request, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    """Sign out (needs the X-CSRF-Token header); the session ends on the server at once."""
    login = current_login(request)
    if login is not None:
        sign_out(session=session, actor=actor, token_hash=login.token_hash, now=now)
    response = Response(status_code=204)
    clear_session_cookie(request, response)
    return response


@router.get("/me", responses=SIGNED_IN)
def me(user: CurrentUser, session: SessionDep) -> MeOut:
    """Who is signed in, with their role, programs and home page."""
    return me_out(session, user)


@router.get("/me/sessions", responses=SIGNED_IN)
def list_my_sessions(
    request: Request, session: SessionDep, actor: ActorDep, settings: SettingsDep, now: NowDep
) -> list[SessionViewOut]:
    """Your open sessions (browsers and API clients signed in as you), newest first."""
    login = current_login(request)
    views = my_sessions(
        session=session,
        actor=actor,
        current_hash=login.token_hash if login else None,
        now=now,
        idle=timedelta(minutes=settings.session_idle_minutes),
    )
    return [SessionViewOut.model_validate(v) for v in views]


@router.delete("/me/sessions/{session_id}", status_code=204, responses=error_responses(401, 403, 404))
def end_one_of_my_sessions(session_id: str, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    """End one of your own sessions (e.g. a browser left signed in elsewhere)."""
    end_my_session(session=session, actor=actor, session_id=session_id, now=now)
    return Response(status_code=204)
