"""Administration: accounts (add staff, deactivate, reactivate, change role, reset links, grants),
invitations for people, and the audit log. Administrators never see clinical records here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from onward.errors import OnwardError, ValidationError
from onward.model.roles import Role
from onward.security.passwords import STAFF_MIN_LENGTH
from onward.security.policy import GRANTABLE
from onward.services import accounts
from onward.services.audit_log import AuditQuery, search_audit
from onward.services.users import create_user, list_users
from onward.web import queries
from onward.web.deps import ActorDep, NowDep, SessionDep, SettingsDep
from onward.web.templating import render

router = APIRouter(prefix="/admin", tags=["pages"], include_in_schema=False)

_EMPTY_FORM = {"username": "", "display_name": "", "role": Role.CLINICIAN.value, "staff_id": ""}


@dataclass(frozen=True, slots=True)
class Notice:
    """What the last action did, shown above the list (a link is shown once, to copy)."""

    text: str
    link: str | None = None


def _page(
    request: Request,
    session: SessionDep,
    now: NowDep,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    notice: Notice | None = None,
    status_code: int = 200,
) -> Response:
    users = list_users(session=session, now=now)
    active = accounts.active_grants(session=session)
    grants = {u.user_id: active.get(u.user_id, []) for u in users}
    session.commit()
    context = {
        "title": "Users",
        "users": users,
        "grants": grants,
        "programs": queries.list_programs(session, None),
        "roles": [r for r in Role if r is not Role.PERSON],
        "grantable": list(GRANTABLE),
        "staff_min": STAFF_MIN_LENGTH,
        "form": form or _EMPTY_FORM,
        "error": error,
        "notice": notice,
    }
    return render(request, "admin_users.html", context, status_code=status_code)


@router.get("/users")
def users_page(request: Request, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    return _page(request, session, now)


@router.post("/users")
def add_user(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    username: Annotated[str, Form()],
    display_name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
    program_ids: Annotated[list[str] | None, Form()] = None,
    staff_id: Annotated[str, Form()] = "",
) -> Response:
    form = {"username": username, "display_name": display_name, "role": role, "staff_id": staff_id}
    try:
        created = create_user(
            session=session,
            username=username,
            role=role,
            password=password,
            display_name=display_name,
            program_ids=program_ids or (),
            staff_id=staff_id.strip() or None,
            now=now,
            actor=actor,
        )
    except OnwardError as error:
        return _page(request, session, now, form=form, error=str(error), status_code=error.http_status)
    return _page(request, session, now, notice=Notice(f"Created user {created.username}."), status_code=201)


def _act(request: Request, session: SessionDep, now: NowDep, action: object) -> Response:
    try:
        notice = action() if callable(action) else None
    except OnwardError as error:
        return _page(request, session, now, error=str(error), status_code=error.http_status)
    return _page(request, session, now, notice=notice if isinstance(notice, Notice) else None)


@router.post("/users/{user_id}/deactivate")
def deactivate(request: Request, user_id: str, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    def run() -> Notice:
        user = accounts.set_active(session=session, actor=actor, user_id=user_id, active=False, now=now)
        return Notice(f"Deactivated {user.username}; their sessions have ended.")

    return _act(request, session, now, run)


@router.post("/users/{user_id}/reactivate")
def reactivate(request: Request, user_id: str, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    def run() -> Notice:
        user = accounts.set_active(session=session, actor=actor, user_id=user_id, active=True, now=now)
        return Notice(f"Reactivated {user.username}.")

    return _act(request, session, now, run)


@router.post("/users/{user_id}/role")
def change_role(
    request: Request,
    user_id: str,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    role: Annotated[str, Form()],
    program_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    def run() -> Notice:
        user = accounts.change_role(
            session=session, actor=actor, user_id=user_id, role=role, program_ids=program_ids, now=now
        )
        return Notice(f"{user.username} is now a {user.role.replace('_', ' ')}; their sessions have ended.")

    return _act(request, session, now, run)


@router.post("/users/{user_id}/reset-link")
def reset_link(
    request: Request, user_id: str, session: SessionDep, settings: SettingsDep, actor: ActorDep, now: NowDep
) -> Response:
    def run() -> Notice:
        link = accounts.reset_link(
            session=session, actor=actor, secret_key=settings.secret_key, user_id=user_id, now=now
        )
        return Notice(
            f"Password reset link (works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC); give it to the "
            "account holder privately:",
            link=settings.base_url + link.path,
        )

    return _act(request, session, now, run)


@router.post("/users/{user_id}/grants")
def add_grant(
    request: Request,
    user_id: str,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    permission: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    def run() -> Notice:
        accounts.grant(
            session=session, actor=actor, user_id=user_id, permission=permission, reason=reason, now=now
        )
        return Notice(f"Granted {permission.replace('_', ' ')}.")

    return _act(request, session, now, run)


@router.post("/grants/{grant_id}/revoke")
def revoke_grant(
    request: Request, grant_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> Response:
    def run() -> Notice:
        accounts.revoke_grant(session=session, actor=actor, grant_id=grant_id, now=now)
        return Notice("Grant revoked.")

    return _act(request, session, now, run)


@router.post("/invitations")
def invite(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    actor: ActorDep,
    now: NowDep,
    person_id: Annotated[str, Form()],
) -> Response:
    def run() -> Notice:
        link = accounts.invite_person(
            session=session, actor=actor, secret_key=settings.secret_key, person_id=person_id.strip(), now=now
        )
        return Notice(
            f"Invitation for person {person_id.strip()} "
            f"(works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC); "
            "give it to the person privately:",
            link=settings.base_url + link.path,
        )

    return _act(request, session, now, run)


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{name} {value!r} is not a date", column=name, expected="YYYY-MM-DD") from None


@router.get("/audit")
def audit_page(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    user: Annotated[str | None, Query(description="username or user id")] = None,
    person: Annotated[str | None, Query()] = None,
    action: Annotated[str | None, Query()] = None,
    since: Annotated[str | None, Query(alias="from")] = None,
    until: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    start, end = _day(since, "from"), _day(until, "to")
    query = AuditQuery(
        user=user or None,
        person_id=person or None,
        action=action or None,
        since=datetime.combine(start, time.min, now.tzinfo) if start else None,
        until=datetime.combine(end, time.min, now.tzinfo) + timedelta(days=1) if end else None,
        limit=500,
    )
    entries = search_audit(session=session, actor=actor, query=query, now=now)
    form = {
        "user": user or "",
        "person": person or "",
        "action": action or "",
        "from": since or "",
        "to": until or "",
    }
    return render(
        request, "admin_audit.html", {"title": "Audit log", "entries": entries, "form": form, "query": query}
    )
