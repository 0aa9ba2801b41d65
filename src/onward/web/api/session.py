"""Sign in and out over JSON; the session cookie is the same one the pages use."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from onward.model.roles import HOME_PATHS, Role
from onward.services.users import authenticate, program_ids_of
from onward.store.tables import User
from onward.web.deps import CurrentUser, NowDep, SessionDep, verify_csrf_header
from onward.web.errors import ROLE_CHECKED, SIGNED_IN
from onward.web.routers.auth import throttle_login
from onward.web.schemas import LoginIn, MeOut, SessionOut
from onward.web.sessions import end_session, start_session

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


@router.post("/session", dependencies=[Depends(throttle_login)], responses={401: {}, 429: {}})
def sign_in(body: LoginIn, request: Request, session: SessionDep, now: NowDep) -> SessionOut:
    """Sign in: sets the HttpOnly session cookie and returns the user and a CSRF token for later writes."""
    user = authenticate(session=session, username=body.username, password=body.password, now=now)
    token = start_session(request, user_id=user.user_id, now=now)
    return SessionOut(user=me_out(session, user), csrf_token=token)


@router.delete(
    "/session", status_code=204, dependencies=[Depends(verify_csrf_header)], responses=ROLE_CHECKED
)
def sign_out(request: Request, user: CurrentUser) -> Response:
    """Sign out (needs the X-CSRF-Token header)."""
    end_session(request)
    return Response(status_code=204)


@router.get("/me", responses=SIGNED_IN)
def me(user: CurrentUser, session: SessionDep) -> MeOut:
    """Who is signed in, with their role, programs and home page."""
    return me_out(session, user)
