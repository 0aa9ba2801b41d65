"""One home page per role, each showing only what the role may see (onward.security.policy).

The person's page `/me` and the clinician's `/caseload` live with the pathways (`routers/pathways.py`);
the council's `/council` with voice (`routers/voice_council.py`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from onward.model.targets import STATUS_RULE
from onward.security.policy import Permission, is_allowed
from onward.services.audit_log import accounting_for
from onward.services.targets import targets_in_force
from onward.services.users import program_ids_of
from onward.web import queries
from onward.web.deps import (
    ActorDep,
    AggregatesUser,
    NowDep,
    OwnProgramsUser,
    OwnRecordUser,
    SessionDep,
    SettingsDep,
)
from onward.web.direction_extras import direction_extras
from onward.web.metrics_cache import metrics_cache
from onward.web.scorecards import direction_cards, ship_tables
from onward.web.templating import render
from onward.web.voice_views import leader_voice_section
from onward.web.whatif_links import METRIC_LINKS

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/me/accounting")
def my_accounting(
    request: Request, user: OwnRecordUser, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    """Who else saw, changed or received the person's record in the last three years."""
    lines = (
        accounting_for(session=session, actor=actor, person_id=user.person_id, now=now)
        if user.person_id
        else []
    )
    return render(request, "accounting.html", {"title": "Who saw my record", "lines": lines}, user=user)


@router.get("/programs")
def manager_home(request: Request, user: OwnProgramsUser, session: SessionDep, now: NowDep) -> Response:
    program_ids = program_ids_of(session=session, user_id=user.user_id)
    day = queries.as_of(session, now.date())
    context = {
        "title": "Programs",
        "programs": queries.program_overview(session, program_ids, day),
        "today": day,
    }
    view = metrics_cache(request).view(session)  # the ship numbers (docs/targets.md)
    context |= {
        "ship_view": view,
        "ship": ship_tables(view, targets_in_force(session), sorted(program_ids)) if view else [],
        "status_rule": STATUS_RULE,
    }
    return render(request, "manager_home.html", context, user=user)


@router.get("/system")
def system_home(
    request: Request, user: AggregatesUser, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Response:
    day = queries.as_of(session, now.date())
    view = metrics_cache(request).view(session)  # the direction numbers (docs/targets.md)
    targets = targets_in_force(session)
    context = {
        "title": "System",
        "totals": queries.system_totals(session, day),
        "direction_view": view,
        "direction": direction_cards(view, targets) if view else [],
        "direction_extras": direction_extras(request, view, targets) if view else [],
        "status_rule": STATUS_RULE,
        "may_whatif": is_allowed(user.role, Permission.WHAT_IF),
        "whatif_metrics": METRIC_LINKS,  # which direction numbers open a pre-filled what-if
        "voice": leader_voice_section(session, settings.resolved_database_url, day),  # docs/voice.md
    }
    return render(request, "system_home.html", context, user=user)
