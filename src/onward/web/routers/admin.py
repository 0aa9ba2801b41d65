"""Administrators list accounts and add new ones (the same service the CLI uses)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from onward.errors import OnwardError
from onward.model.roles import Role
from onward.security.passwords import STAFF_MIN_LENGTH
from onward.services.users import create_user, list_users
from onward.web import queries
from onward.web.deps import AdminUser, NowDep, SessionDep, verify_csrf_form
from onward.web.templating import render

router = APIRouter(prefix="/admin", tags=["pages"], include_in_schema=False)

_EMPTY_FORM = {"username": "", "display_name": "", "role": Role.CLINICIAN.value, "person_id": ""}


def _page(
    request: Request,
    user: AdminUser,
    session: SessionDep,
    *,
    form: dict[str, str],
    error: str | None = None,
    created: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "title": "Users",
        "users": list_users(session=session),
        "programs": queries.list_programs(session, None),
        "roles": list(Role),
        "staff_min": STAFF_MIN_LENGTH,
        "form": form,
        "error": error,
        "created": created,
    }
    return render(request, "admin_users.html", context, user=user, status_code=status_code)


@router.get("/users")
def users_page(request: Request, user: AdminUser, session: SessionDep) -> Response:
    return _page(request, user, session, form=_EMPTY_FORM)


@router.post("/users", dependencies=[Depends(verify_csrf_form)])
def add_user(
    request: Request,
    user: AdminUser,
    session: SessionDep,
    now: NowDep,
    username: Annotated[str, Form()],
    display_name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
    program_ids: Annotated[list[str] | None, Form()] = None,
    person_id: Annotated[str, Form()] = "",
) -> Response:
    form = {"username": username, "display_name": display_name, "role": role, "person_id": person_id}
    try:
        created = create_user(
            session=session,
            username=username,
            role=role,
            password=password,
            display_name=display_name,
            program_ids=program_ids or (),
            person_id=person_id.strip() or None,
            now=now,
            actor_id=user.user_id,
        )
    except OnwardError as error:
        return _page(request, user, session, form=form, error=str(error), status_code=error.http_status)
    return _page(request, user, session, form=_EMPTY_FORM, created=created.username, status_code=201)
