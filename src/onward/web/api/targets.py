"""GET /api/v1/targets: the targets in force beside the published figure of one calendar period, with
their status in words (docs/targets.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from onward.metrics.scorecard import Line, line
from onward.model.own_page_metrics import system_only
from onward.model.targets import STATUS_RULE
from onward.security.policy import Permission, is_allowed, require
from onward.services.targets import targets_in_force
from onward.services.users import program_ids_of
from onward.web.api.metrics import _ERRORS
from onward.web.deps import CurrentUser, SessionDep
from onward.web.direction_extras import extra_figures
from onward.web.metrics_cache import metrics_cache
from onward.web.routers.dashboards import PeriodDep

router = APIRouter(prefix="/targets", tags=["targets"])


@router.get("", responses={k: v for k, v in _ERRORS.items() if k != 404})
def get_targets(
    request: Request, user: CurrentUser, session: SessionDep, period: PeriodDep
) -> dict[str, Any]:
    """Every target in force (set here, or a public default) with the figure it applies to in one calendar
    period (`period`, default the latest complete quarter; `as_of` a month end) and its status: on_track,
    at_risk, off_track or none (no figure: suppressed or nothing to measure). Leaders, analysts and
    administrators see the system's and every program's targets; a manager sees the targets that apply to
    their own programs (a program's own, else the system's). `period` is null when nothing is recorded yet.

    `own_page` (leaders, analysts and administrators; empty for a manager) holds the two direction numbers
    published on their own pages, for the whole system: prevention coverage (`skills_coverage`, lessons
    delivered of lessons due, the calendar year to `as_of`) and ideas implemented
    (`voice_share_implemented`, accepted ideas decided in the period, implemented by its end), each with
    its own `period` (`from`, `to`, `basis`), its value (null when suppressed: a count from 1 to 10), its
    target in force and its status."""
    if is_allowed(user.role, Permission.AGGREGATES) or is_allowed(user.role, Permission.ALL_PROGRAMS):
        programs: list[str] | None = None
    else:
        require(user.role, Permission.OWN_PROGRAMS)
        programs = list(program_ids_of(session=session, user_id=user.user_id))
    targets = targets_in_force(session)
    view = metrics_cache(request).view(session, period)
    overall: dict[str, Any] = view.metrics if view is not None else {}
    rows = {str(g["program_id"]): g for g in view.by_program} if view is not None else {}
    out: list[Line] = []
    if programs is None:
        for target in targets:
            if system_only(target.metric_key):  # published on its own page: in `own_page` below
                continue
            row = overall if target.program_id is None else rows.get(target.program_id, {})
            out.append(line(target.metric_key, row, targets, target.program_id))
    else:
        keys = sorted({t.metric_key for t in targets if not system_only(t.metric_key)})
        out = [line(k, rows.get(p, {}), targets, p) for p in sorted(programs) for k in keys]
    return {
        "period": view.period if view is not None else None,
        "status_rule": STATUS_RULE,
        "targets": [item.to_json() for item in out],
        "own_page": [
            figure.to_json(targets)
            for figure in (extra_figures(request, view) if view is not None and programs is None else [])
        ],
    }
