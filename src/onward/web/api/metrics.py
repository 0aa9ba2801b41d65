"""GET /api/v1/metrics: the suite as `onward metrics --json` prints it, with small-cell suppression applied.

Every breakdown comes from the same suppressed view as the web pages (overall, by month, by program, by
program and month suppressed together), so no two API answers can be subtracted to reveal a hidden cell.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from onward.errors import NotFoundError, ValidationError
from onward.metrics.report import NO_PROGRAM
from onward.security.suppression import SUPPRESSED
from onward.web.deps import AggregatesUser, SessionDep
from onward.web.errors import error_responses
from onward.web.metrics_cache import metrics_cache
from onward.web.routers.dashboards import PeriodDep

router = APIRouter(prefix="/metrics", tags=["metrics"])

_GROUP_KEYS = ("program", "month")


def parse_by(text: str | None) -> tuple[str, ...]:
    """'program,month' -> ('program', 'month'); order as the CLI gives it (program before month)."""
    if text is None or not text.strip():
        return ()
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if not keys or any(k not in _GROUP_KEYS for k in keys) or len(set(keys)) != len(keys):
        raise ValidationError(f"by {text!r}", expected="program, month or program,month")
    return tuple(k for k in _GROUP_KEYS if k in keys)


def _public(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """A row in the CLI's shape: group keys first, metric values, no numerator/denominator parts."""
    out: dict[str, Any] = {}
    if "program" in keys:
        program = row.get("program_id")
        out["program_id"] = None if program == NO_PROGRAM else program
    if "month" in keys:
        out["month"] = row.get("month")
    out.update({k: v for k, v in row.items() if "__" not in k and k not in ("program_id", "month")})
    return out


@router.get("", responses=error_responses(400, 401, 403, 404))
def get_metrics(
    request: Request,
    user: AggregatesUser,
    session: SessionDep,
    period: PeriodDep,
    by: Annotated[str | None, Query(description="program, month or program,month")] = None,
) -> dict[str, Any]:
    """Every metric of docs/metrics.md for the period (default: the last 12 months of data), overall and
    per group; hidden cells are null and listed under "suppressed" in their row (CMS cell-size policy)."""
    keys = parse_by(by)
    view = metrics_cache(request).view(session, period)
    if view is None:
        raise NotFoundError("no events recorded yet: nothing to measure")
    if keys == ("program", "month"):
        rows = view.by_program_month
    elif keys == ("program",):
        rows = view.by_program
    elif keys == ("month",):
        rows = view.by_month
    else:
        rows = []
    return {
        "period": view.period,
        "metrics": _public(view.metrics, ()),
        "groups": [_public(g, keys) for g in rows],
        "suppression": {**view.suppression, "marker": SUPPRESSED},
    }
