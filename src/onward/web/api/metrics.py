"""GET /api/v1/metrics: the published figures of one calendar period, with small-cell suppression applied.

Answers come only on calendar periods (`period=2025-03`, `2025-Q1` or `2025`) read as of a month end;
`from`/`to` date ranges are refused, because two overlapping ranges subtract to a smaller one. Every
answer is a slice of one published cube (`onward.metrics.publish`): all months, quarters and years,
programs and the total, census with admissions and discharges, rates with their counts, suppressed as one
linked system, the same cube the web pages and `onward report` show. So combining any number of answers
as of the same month end (by subtraction or any other linear combination) pins no count from 1 to 10:
`tests/web/test_api_differencing.py` tries it. Answers as of different month ends are separate
releases; docs/metrics.md ("Published figures") says what that leaves open.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from onward.errors import NotFoundError, ValidationError
from onward.metrics.publish import NO_PROGRAM
from onward.security.suppression import SUPPRESSED
from onward.web.deps import AggregatesUser, SessionDep
from onward.web.metrics_cache import metrics_cache
from onward.web.routers.dashboards import PeriodDep

router = APIRouter(prefix="/metrics", tags=["metrics"])

_GROUP_KEYS = ("program", "month")


class ErrorOut(BaseModel):
    """An error answer: the error's kind and a message that says what to change."""

    error: str
    detail: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": ErrorOut,
        "description": (
            "Bad parameter, named in `detail`: a `from`/`to` date range (refused: ask for `period`), "
            "a period not in YYYY-MM / YYYY-Qn / YYYY form, a period not yet complete or before the "
            "data, a bad `as_of` or `by`."
        ),
    },
    401: {"model": ErrorOut, "description": "Not signed in."},
    403: {"model": ErrorOut, "description": "The role may not read aggregates."},
    404: {"model": ErrorOut, "description": "No events recorded yet: nothing to measure."},
}


def parse_by(text: str | None) -> tuple[str, ...]:
    """'program,month' -> ('program', 'month'); order as the CLI gives it (program before month)."""
    if text is None or not text.strip():
        return ()
    keys = [k.strip() for k in text.split(",") if k.strip()]
    if not keys or any(k not in _GROUP_KEYS for k in keys) or len(set(keys)) != len(keys):
        raise ValidationError(f"by {text!r}", expected="program, month or program,month")
    return tuple(k for k in _GROUP_KEYS if k in keys)


def public_row(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """A row in the CLI's shape: group keys first, metric values, no numerator/denominator parts."""
    out: dict[str, Any] = {}
    if "program" in keys:
        program = row.get("program_id")
        out["program_id"] = None if program == NO_PROGRAM else program
    if "month" in keys:
        out["month"] = row.get("month")
    out.update(
        {k: v for k, v in row.items() if "__" not in k and k not in ("program_id", "month", SUPPRESSED)}
    )
    out[SUPPRESSED] = [k for k in row.get(SUPPRESSED, []) if "__" not in k]
    return out


@router.get("", responses=_ERRORS)
def get_metrics(
    request: Request,
    user: AggregatesUser,
    session: SessionDep,
    period: PeriodDep,
    by: Annotated[str | None, Query(description="program, month or program,month")] = None,
) -> dict[str, Any]:
    """Every metric (docs/metrics.md) for one calendar period, overall and per group. `period` is a month
    (2025-03), quarter (2025-Q1) or year (2025), default the latest complete quarter; figures are read as
    of a month end (`as_of`, default the last one on or before the latest event). The answer's `period`
    object states both, and when the figures were computed (`computed_at`: new records are folded in by
    a background refresh, an import at once). Hidden cells are null and listed under "suppressed" in
    their row (CMS cell-size policy); DRR-E rates are not given by month within a quarter or year (not
    additive)."""
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
        "metrics": public_row(view.metrics, ()),
        "groups": [public_row(g, keys) for g in rows],
        "suppression": view.suppression,
    }
