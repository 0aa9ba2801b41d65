"""`GET /programs/access`: the manager's access dashboard on its own page (the sections are
`web/access_dashboard.py` and the partial `_access_dashboard.html`; docs/access.md, "Dashboard")."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from onward.metrics.flags import rules_from_settings
from onward.services.users import program_ids_of
from onward.web.access_dashboard import access_sections, event_log_for
from onward.web.deps import ActorDep, NowDep, OwnProgramsUser, SessionDep, SettingsDep, audit_read
from onward.web.metrics_cache import metrics_cache
from onward.web.routers.dashboards import PeriodDep, _period_context
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/programs/access")
def access_dashboard(
    request: Request,
    user: OwnProgramsUser,
    actor: ActorDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    period: PeriodDep,
) -> Response:
    cache = metrics_cache(request)
    view = cache.view(session, period)
    program_ids = sorted(program_ids_of(session=session, user_id=user.user_id))
    sections = access_sections(
        session=session,
        log=event_log_for(session, cache.url),
        view=view,
        program_ids=program_ids,
        rules=rules_from_settings(settings),
    )
    if sections["stuck"]:
        audit_read(
            request,
            actor,
            now=now,
            entity="stuck_list",
            entity_id=",".join(program_ids),
            person_id=None,
            detail=f"stuck list: {len(sections['stuck'])} episodes",
        )
    context = {"title": "Access", "view": view, **_period_context(view, period), **sections}
    return render(request, "access_dashboard.html", context, user=user)
