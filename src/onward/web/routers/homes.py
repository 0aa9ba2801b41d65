"""One home page per role, each showing only what the role may see (onward.security.policy)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from onward.model.roles import COUNCIL_ROLE_TEXT, ROLE_DESCRIPTIONS, Role
from onward.security.audit import append_audit
from onward.services.users import program_ids_of
from onward.web import queries
from onward.web.deps import (
    AggregatesUser,
    CaseloadUser,
    CouncilUser,
    NowDep,
    OwnProgramsUser,
    OwnRecordUser,
    SessionDep,
)
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/me")
def person_home(request: Request, user: OwnRecordUser, session: SessionDep, now: NowDep) -> Response:
    """A person's own episodes; every view is written to the audit log (docs/web.md)."""
    episodes = queries.person_episodes(session, user.person_id) if user.person_id else []
    if user.person_id:
        append_audit(
            session=session,
            at=now,
            user_id=user.user_id,
            action="read",
            entity="person",
            entity_id=user.person_id,
            detail="own record: episodes page",
        )
    session.commit()
    context = {"title": "My care", "episodes": episodes, "person_linked": user.person_id is not None}
    return render(request, "person_home.html", context, user=user)


@router.get("/caseload")
def clinician_home(request: Request, user: CaseloadUser, session: SessionDep, now: NowDep) -> Response:
    """Open episodes in the clinician's programs; the view of identified records is audited."""
    program_ids = program_ids_of(session=session, user_id=user.user_id)
    day = queries.as_of(session, now.date())
    episodes = queries.caseload(session, program_ids, day)
    if program_ids:
        append_audit(
            session=session,
            at=now,
            user_id=user.user_id,
            action="read",
            entity="caseload",
            entity_id=",".join(program_ids)[:128],
            detail=f"{len(episodes)} open episodes as of {day.isoformat()}",
        )
    session.commit()
    context = {
        "title": "Caseload",
        "programs": queries.list_programs(session, program_ids),
        "caseload": episodes,
        "today": day,
        "past_planned": sum(e.past_planned for e in episodes),
        "open_year": sum(e.days_open >= queries.LONG_OPEN_DAYS for e in episodes),
        "no_recent_measure": sum(e.measure_overdue for e in episodes),
    }
    return render(request, "clinician_home.html", context, user=user)


@router.get("/programs")
def manager_home(request: Request, user: OwnProgramsUser, session: SessionDep, now: NowDep) -> Response:
    program_ids = program_ids_of(session=session, user_id=user.user_id)
    day = queries.as_of(session, now.date())
    context = {
        "title": "Programs",
        "programs": queries.program_overview(session, program_ids, day),
        "today": day,
    }
    return render(request, "manager_home.html", context, user=user)


@router.get("/system")
def system_home(request: Request, user: AggregatesUser, session: SessionDep, now: NowDep) -> Response:
    day = queries.as_of(session, now.date())
    context = {"title": "System", "totals": queries.system_totals(session, day)}
    return render(request, "system_home.html", context, user=user)


@router.get("/council")
def council_home(request: Request, user: CouncilUser, session: SessionDep) -> Response:
    counts = queries.active_users_per_role(session)
    rows = [
        {"label": role.value.replace("_", " "), "description": ROLE_DESCRIPTIONS[role], "count": counts[role]}
        for role in Role
    ]
    context = {"title": "Council", "council_text": COUNCIL_ROLE_TEXT, "role_counts": rows}
    return render(request, "council_home.html", context, user=user)
