"""The system's numbers in the browser: the leaders' dashboard, the managers' program metrics and one page
per metric with its definition and source (docs/metrics.md, docs/web.md).

Pages answer on one calendar period (a month, quarter or year; default the latest complete quarter) read
as of a month end, and say which. Every figure comes from the suppressed published cube
(`onward.web.metrics_cache`): a hidden cell reads "suppressed", an empty denominator "no data";
charts are drawn on the server as SVG by vl-convert, so pages need no script and meet the app's content
security policy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

import altair as alt
import vl_convert as vlc
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from onward.errors import NotFoundError, ValidationError
from onward.metrics.period import PERIOD_FORMS, CalendarPeriod, parse_as_of
from onward.metrics.registry import METRICS, PROGRAM_GROUPING, MetricDefinition
from onward.metrics.report import MINUTE_BASED, NO_PROGRAM, NOT_BY_MONTH, metric_chart
from onward.security.policy import Permission, is_allowed, require
from onward.security.suppression import SMALL_CELL_MAX, SUPPRESSED
from onward.services.users import program_ids_of
from onward.web import queries
from onward.web.deps import AggregatesUser, CurrentUser, SessionDep
from onward.web.metrics_cache import MetricsView, PeriodQuery, metrics_cache
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

#: The leaders' headline figures ("is the system going the right way?").
HEADLINES: tuple[str, ...] = (
    "recovery_rate",
    "reliable_improvement_rate",
    "graduation_rate",
    "stuck_share",
    "reentry_12m_rate",
    "days_to_first_treatment_median",
    "share_treated_within_14_days",
    "treatment_share",
)
#: What a headline figure is counted over, to label its denominator on the tile.
BASIS: dict[str, str] = {
    "recovery_rate": "episodes ended at caseness",
    "reliable_improvement_rate": "episodes ended with 2+ measures",
    "graduation_rate": "episodes ended",
    "stuck_share": "people in care",
    "reentry_12m_rate": "graduates followed 12 months",
    "days_to_first_treatment_median": "episodes started",
    "share_treated_within_14_days": "episodes started",
    "treatment_share": "staff minutes",
}
#: The managers' "is the ship running" columns, by program (program managers).
PROGRAM_COLUMNS: tuple[str, ...] = (
    "admissions",
    "active_census",
    "days_to_first_treatment_median",
    "days_to_first_treatment_p90",
    "share_treated_within_14_days",
    "treatment_share",
    "cm_per_treatment",
)
#: Column headings short enough for one table row; the full title is the heading's tooltip.
SHORT_TITLES: dict[str, str] = {
    "admissions": "Admissions",
    "active_census": "In care",
    "days_to_first_treatment_median": "Wait, median",
    "days_to_first_treatment_p90": "Wait, 90th pct",
    "share_treated_within_14_days": "Treated ≤14 days",
    "treatment_share": "Treatment share",
    "cm_per_treatment": "CM per treatment min",
}
_VL_VERSION = "_".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


@dataclass(frozen=True, slots=True)
class Shown:
    """A figure as a page shows it; `state` is "value", "suppressed" or "empty" (no denominator)."""

    text: str
    state: str
    n: str = ""  # the denominator behind a rate, when it may be shown


def shown(definition: MetricDefinition, row: dict[str, Any]) -> Shown:
    """A value for display: never the number of a hidden cell, and "no data" rather than 0 when empty."""
    key = definition.key
    if key in row.get(SUPPRESSED, ()):
        # Never "≤10": a complementary cell may hold more, and a bound is itself a clue.
        return Shown("suppressed", "suppressed")
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Shown("no data", "empty")
    denominator = row.get(f"{key}__denominator")
    hidden_n = f"{key}__denominator" in row.get(SUPPRESSED, ())
    n = "" if denominator is None or hidden_n else f"{int(denominator):,}"
    if definition.kind == "rate":
        return Shown(f"{100 * float(value):.1f} %", "value", n)
    if definition.kind == "ratio":
        return Shown(f"{float(value):.2f}", "value", n)
    if definition.kind == "days":
        return Shown(f"{int(value)} days", "value", n)
    return Shown(f"{int(value):,}", "value")


def period_from(
    period: Annotated[
        str | None,
        Query(
            description=(
                f"Calendar period: {PERIOD_FORMS}. Default: the latest complete quarter. Only complete "
                "periods (ended by `as_of`) are published."
            ),
            examples=["2025-03", "2025-Q1", "2025"],
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        Query(
            description=(
                "Read the data as they stood at this month end: YYYY-MM, or YYYY-MM-DD snapped to the last "
                "month end on or before it. Default: the last month end on or before the latest event."
            ),
        ),
    ] = None,
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            deprecated=True,
            description="Refused with 400: arbitrary date ranges can be differenced; use `period`.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(deprecated=True, description="Refused with 400: arbitrary date ranges can be differenced."),
    ] = None,
) -> PeriodQuery:
    """The calendar period a GET form or API call asks for; `from`/`to` ranges are refused by name."""
    for name, value in (("from", from_), ("to", to)):
        if value is not None:
            raise ValidationError(
                f"parameter {name!r} is not accepted: published figures answer only on calendar periods "
                "(two overlapping date ranges subtract to a smaller one)",
                expected=f"period={PERIOD_FORMS}",
            )
    chosen = CalendarPeriod.parse(period) if period is not None and period.strip() else None
    month_end = parse_as_of(as_of) if as_of is not None and as_of.strip() else None
    return PeriodQuery(chosen, month_end)


PeriodDep = Annotated[PeriodQuery, Depends(period_from)]


def _load(request: Request, session: SessionDep, period: PeriodQuery) -> MetricsView | None:
    return metrics_cache(request).view(session, period)


# --- charts -----------------------------------------------------------------------------------------------


def _month_points(definition: MetricDefinition, view: MetricsView) -> list[dict[str, Any]]:
    """Every month of the period, rates in percent; a hidden or empty month has value None (a gap)."""
    scale = 100.0 if definition.kind == "rate" else 1.0
    points: list[dict[str, Any]] = []
    for g in view.trend:
        value = g.get(definition.key)
        hidden = definition.key in g.get(SUPPRESSED, ())
        shown_value = None if hidden or value is None else scale * float(value)
        points.append({"month": f"{g['month']}-01", "value": shown_value})
    return points


def hidden_months(definition: MetricDefinition, view: MetricsView) -> int:
    """How many months of the trend are suppressed (said under the chart, so a gap is not read as 0)."""
    return sum(definition.key in g.get(SUPPRESSED, ()) for g in view.trend)


def _svg(spec: dict[str, Any]) -> str:
    return str(vlc.vegalite_to_svg(spec, vl_version=_VL_VERSION))


def sparkline(definition: MetricDefinition, view: MetricsView) -> str:
    """A small monthly trend as inline SVG (empty when fewer than two months can be shown)."""
    memo_key = f"spark:{definition.key}"
    if memo_key not in view.memo:
        points = _month_points(definition, view)
        if sum(p["value"] is not None for p in points) < 2:
            view.memo[memo_key] = ""
        else:
            unit = "%" if definition.kind == "rate" else ("days" if definition.kind == "days" else "")
            chart = (
                alt.Chart(alt.Data(values=points))  # type: ignore[no-untyped-call]
                .mark_line(
                    point=alt.OverlayMarkDef(size=18),
                    color="#0b5563",
                    strokeWidth=2,
                    invalid="break-paths-show-domains",  # a hidden month is a gap, not a line through it
                )
                .encode(
                    x=alt.X(
                        "month:T", timeUnit="yearmonth", title=None, axis=alt.Axis(format="%b", grid=False)
                    ),
                    y=alt.Y(
                        "value:Q", title=unit or None, scale=alt.Scale(zero=False), axis=alt.Axis(tickCount=3)
                    ),
                )
                .properties(width=230, height=70)
                .configure_view(stroke=None)
                .configure_axis(
                    labelFontSize=10, titleFontSize=10, labelColor="#4a5566", domainColor="#d8dde5"
                )
            )
            view.memo[memo_key] = _svg(chart.to_dict())
    return str(view.memo[memo_key])


def full_chart(definition: MetricDefinition, view: MetricsView) -> str:
    """The report's chart of one metric (trend beside the breakdown by program) as inline SVG."""
    memo_key = f"full:{definition.key}"
    if memo_key not in view.memo:
        chart = (
            metric_chart(definition, view.published, view.programs)
            .configure_view(stroke=None)
            .configure_axisTemporal(format="%b %y", labelOverlap="greedy")  # "Dec 24", never overlapping
        )
        view.memo[memo_key] = _svg(chart.to_dict())
    return str(view.memo[memo_key])


# --- pages ------------------------------------------------------------------------------------------------


def _period_context(view: MetricsView | None, query: PeriodQuery) -> dict[str, Any]:
    """The period picker (every published period, newest first) and what the page says about its period."""
    shown_period = view.period if view is not None else {}
    periods = list(reversed(view.periods)) if view is not None else []
    return {
        "period": shown_period,
        "form": {
            "period": shown_period.get("period", ""),
            "as_of": query.as_of.strftime("%Y-%m") if query.as_of else "",
        },
        "choices": [{"label": p.label, "title": p.title, "kind": p.kind} for p in periods],
        "query": _query_string(query, shown_period),
        "legend": (
            f"“suppressed”: a count from 1 to {SMALL_CELL_MAX}, or a figure from which one could be worked "
            "out through any other published figure, is hidden (CMS cell-size suppression policy). "
            "“no data”: nothing to measure in the period (an empty denominator)."
        ),
    }


def _query_string(query: PeriodQuery, shown_period: dict[str, Any]) -> str:
    """`period=...&as_of=...` for links that keep the page's period."""
    parts = [f"period={shown_period['period']}"] if shown_period.get("period") else []
    if query.as_of is not None:
        parts.append(f"as_of={query.as_of.isoformat()}")
    return "&".join(parts)


@router.get("/dashboard")
def dashboard(request: Request, user: AggregatesUser, session: SessionDep, period: PeriodDep) -> Response:
    """Leaders and analysts: is the system going the right way? Headline tiles, trends, every metric."""
    view = _load(request, session, period)
    tiles: list[dict[str, Any]] = []
    table: list[dict[str, Any]] = []
    if view is not None:
        for key in HEADLINES:
            definition = METRICS[key]
            tile = {"definition": definition, "value": shown(definition, view.metrics), "basis": BASIS[key]}
            tile["chart"] = sparkline(definition, view)
            tile["hidden_months"] = hidden_months(definition, view)
            if key == "stuck_share":
                tile["extra"] = ("people stuck", shown(METRICS["stuck_count"], view.metrics).text)
            tiles.append(tile)
        table = [{"definition": d, "value": shown(d, view.metrics)} for d in METRICS.values()]
    context = {
        "title": "Dashboard",
        "view": view,
        "tiles": tiles,
        "table": table,
        "minute_based": MINUTE_BASED,
        **_period_context(view, period),
    }
    return render(request, "dashboard_system.html", context, user=user)


def _program_scope(session: SessionDep, user: CurrentUser) -> list[str] | None:
    """None (every program) for roles that see all programs; a manager's own programs otherwise."""
    if is_allowed(user.role, Permission.ALL_PROGRAMS):
        return None
    require(user.role, Permission.OWN_PROGRAMS)
    return list(program_ids_of(session=session, user_id=user.user_id))


def _occupancy(census: Shown, count: Any, capacity: int) -> Shown:
    """Census over capacity; hidden with the census (capacity is public, so it would give it back)."""
    if census.state == "suppressed":
        return Shown("suppressed", "suppressed")
    if census.state != "value" or count is None or not capacity:
        return Shown("—", "empty")
    return Shown(f"{round(100 * int(count) / capacity)} %", "value")


@router.get("/programs/metrics")
def program_metrics(request: Request, user: CurrentUser, session: SessionDep, period: PeriodDep) -> Response:
    """Managers: access and service mix of their own programs; leaders, analysts and admins: all programs."""
    scope = _program_scope(session, user)
    view = _load(request, session, period)
    rows: list[dict[str, Any]] = []
    programs = queries.list_programs(session, scope)
    by_program = {str(g["program_id"]): g for g in view.by_program} if view is not None else {}
    for program in programs:
        group = by_program.get(program.program_id, {})
        cells = {key: shown(METRICS[key], group) for key in PROGRAM_COLUMNS}
        rows.append(
            {
                "program": program,
                "cells": cells,
                "occupancy": _occupancy(
                    cells["active_census"], group.get("active_census"), program.capacity_slots
                ),
            }
        )
    total = None
    if scope is None and view is not None:
        total = {key: shown(METRICS[key], view.metrics) for key in PROGRAM_COLUMNS}
        capacity = sum(p.capacity_slots for p in programs)
        total["capacity"] = Shown(f"{capacity:,}", "value")
        total["occupancy"] = _occupancy(total["active_census"], view.metrics.get("active_census"), capacity)
    context = {
        "title": "Program metrics",
        "view": view,
        "rows": rows,
        "total": total,
        "columns": [METRICS[key] for key in PROGRAM_COLUMNS],
        "short_titles": SHORT_TITLES,
        "all_programs": scope is None,
        **_period_context(view, period),
    }
    return render(request, "dashboard_programs.html", context, user=user)


@router.get("/metrics/{key}")
def metric_page(
    request: Request, key: str, user: AggregatesUser, session: SessionDep, period: PeriodDep
) -> Response:
    """One metric: what it counts, its source, its value, trend and breakdown by program."""
    definition = METRICS.get(key)
    if definition is None:
        raise NotFoundError(f"there is no metric {key!r}")
    view = _load(request, session, period)
    by_program: list[dict[str, Any]] = []
    by_month: list[dict[str, Any]] = []
    if view is not None:
        by_program = [
            {
                "name": view.programs.get(str(g["program_id"]), str(g["program_id"])),
                "value": shown(definition, g),
            }
            for g in view.by_program
            if g["program_id"] != NO_PROGRAM or g.get(key) is not None or key in g.get(SUPPRESSED, ())
        ]
        by_month = [{"month": g["month"], "value": shown(definition, g)} for g in view.by_month if key in g]
    context = {
        "title": definition.title,
        "definition": definition,
        "view": view,
        "value": shown(definition, view.metrics) if view is not None else None,
        "chart": full_chart(definition, view) if view is not None else "",
        "by_program": by_program,
        "by_month": by_month,
        "program_grouping": PROGRAM_GROUPING,
        "minute_based": definition.key in MINUTE_BASED,
        "not_by_month": NOT_BY_MONTH if view is not None and not by_month else "",
        **_period_context(view, period),
    }
    return render(request, "metric_definition.html", context, user=user)
