"""Published figures: every calendar month, quarter and year as of a month end, suppressed together.

Published outputs (the web pages, `GET /api/v1/metrics`, `onward report`, `onward metrics --suppress`)
answer only on calendar periods (`onward.metrics.period.CalendarPeriod`), read as the event log stood at
the end of a month. All of them come from one `PublishedCube`: the suite by program and month from
January of the first year of data to that month end, with quarters and years added up from the months,
every count tied to the others it can be combined with (a month with its quarter and year, census with
admissions and discharges, numerators with denominators and the rest, programs with the all-programs
total) and suppressed as one linked system (`onward.security.linked_suppression`). An answer for a period
is a slice of the cube, so no two answers can be combined into more than the cube shows.

Two kinds of figure are not sums of months and are computed per period (`period_extras`): the
Kaplan-Meier waits of a quarter or year (medians do not add up; their cohort, the admissions, does) and
the HEDIS DRR-E rates, whose index is a person's first qualifying score *in the period*. DRR-E counts are
suppressed per period (programs with their total, numerators with denominators); they are not given by
month, since months do not add up to their period.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from numpy.typing import NDArray

from onward.metrics.backends import EventLog
from onward.metrics.period import CalendarPeriod, Period, last_month_end, published_periods
from onward.metrics.registry import METRICS
from onward.metrics.scope import event_bounds
from onward.metrics.suite import MetricsResult, compute_metrics
from onward.security.linked_suppression import LinkedSystem
from onward.security.suppression import SMALL_CELL_MAX, SUPPRESSED

#: Counts that describe a moment (a month's last day): they add up over programs, not over months; a
#: quarter's or year's value is its last month's.
POINT_IN_TIME = frozenset({"active_census", "stuck_count", "stuck_share"})
#: Figures built on staff minutes, not on counts of people: the CMS rule on people counts does not apply.
MINUTE_BASED = frozenset({"treatment_share", "cm_per_treatment"})
#: HEDIS DRR-E: one index per person *in the period*, so months do not add up to quarters.
PER_PERIOD = ("remission_6m", "response_6m")
#: Kaplan-Meier waits: medians do not add up over months (their cohort does: the admissions).
WAITS = ("days_to_first_treatment_median", "days_to_first_treatment_p90")
#: Figures whose denominator *is* another figure's count (same items by definition): one variable each.
SAME_DENOMINATOR: dict[str, str] = {
    "graduation_rate": "discharges",
    "stuck_share": "active_census",
    "days_to_first_treatment_median": "admissions",
    "days_to_first_treatment_p90": "admissions",
    "reliable_recovery_rate": "recovery_rate",
    "reliable_deterioration_rate": "reliable_improvement_rate",
    "sud_engagement_34d": "sud_initiation_14d",
    "followup_30d": "followup_7d",
    "response_6m": "remission_6m",
}
SAME_NUMERATOR: dict[str, str] = {"stuck_share": "stuck_count"}
#: Label of the group of items that belong to no program (e.g. a service without episode or staff program).
NO_PROGRAM = "(no program)"
#: The all-programs row of the cube.
ALL = "__all__"
#: Complement costs: hiding an all-programs total, a quarter or a year hurts readers more than a cell.
_ROW_COST, _PERIOD_COST = 2.0, {"month": 1.0, "quarter": 2.0, "year": 3.0}


def denominator_series(key: str) -> str:
    """The count series a figure's denominator is (after SAME_DENOMINATOR)."""
    base = SAME_DENOMINATOR.get(key, key)
    return base if METRICS[base].kind == "count" else f"{base}.denominator"


def _protected_rates() -> list[str]:
    return [
        k for k, d in METRICS.items() if d.kind == "rate" and k not in MINUTE_BASED and k not in PER_PERIOD
    ]


def cube_series() -> dict[str, bool]:
    """Every protected count series of the cube -> whether it is point-in-time."""
    out: dict[str, bool] = {}
    for key, definition in METRICS.items():
        if definition.kind == "count":
            out[key] = key in POINT_IN_TIME
    for key in _protected_rates():
        pit = key in POINT_IN_TIME
        out.setdefault(SAME_NUMERATOR.get(key, f"{key}.numerator"), pit)
        out[f"{key}.rest"] = pit
        out.setdefault(denominator_series(key), pit)
    return out


@dataclass
class PublishedCube:
    """Every published count by row (each program, then ALL) and calendar period, with what is hidden."""

    as_of: date
    latest_event: date
    rows: list[str]  # program ids (text), NO_PROGRAM when items without a program exist, then ALL
    periods: list[CalendarPeriod]  # every published period (years, quarters, months), oldest first
    counts: dict[str, NDArray[np.int64]]  # series -> [row, period]
    hidden: dict[str, NDArray[np.bool_]]  # series -> [row, period]; all False when not suppressed
    minutes: dict[str, NDArray[np.float64]]  # "<key>.numerator"/".denominator" of minute-based figures
    waits: dict[str, NDArray[np.float64]]  # monthly Kaplan-Meier figures [row, period] (nan = none)
    suppressed: bool
    seconds: float = 0.0
    index: dict[CalendarPeriod, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {p: k for k, p in enumerate(self.periods)}

    @property
    def months(self) -> list[CalendarPeriod]:
        return [p for p in self.periods if p.kind == "month"]

    def check(self, period: CalendarPeriod) -> None:
        """Refuse a period this cube does not publish, saying which ones it does."""
        from onward.errors import ValidationError

        if period not in self.index:
            first, last = self.months[0], self.months[-1]
            raise ValidationError(
                f"period {period.label} is not published: figures are published for complete calendar "
                f"months, quarters and years from {first.label} to {last.label} (data up to "
                f"{self.as_of.isoformat()}, the last month end on or before the latest event "
                f"{self.latest_event.isoformat()})"
            )

    def default_period(self) -> CalendarPeriod:
        """The latest complete quarter (the web's, the report's and `onward metrics --suppress`'s default)."""
        quarters = [p for p in self.periods if p.kind == "quarter"]
        return quarters[-1] if quarters else self.months[-1]


def build_cube(
    result: MetricsResult,
    by_month: MetricsResult | None = None,
    *,
    as_of: date,
    latest_event: date,
    suppress: bool = True,
    limit: int = SMALL_CELL_MAX,
) -> PublishedCube:
    """The cube from the suite by program and month over [January of the first year, as_of], plus the
    waits by month alone (`by_month`: medians of all programs together do not add up from programs)."""
    first = result.period.start
    periods = published_periods(first, as_of)
    months = [p for p in periods if p.kind == "month"]
    month_at = {p.label: k for k, p in enumerate(months)}
    programs = sorted({g.key.get("program_id") for g in result.groups} - {None}, key=str)
    rows = [str(p) for p in programs] + [NO_PROGRAM, ALL]
    row_at = {r: k for k, r in enumerate(rows)}
    series = cube_series()
    monthly = {name: np.zeros((len(rows), len(months)), dtype=np.int64) for name in series}
    minute_parts = [f"{k}.{part}" for k in sorted(MINUTE_BASED) for part in ("numerator", "denominator")]
    minutes_monthly = {name: np.zeros((len(rows), len(months))) for name in minute_parts}
    waits_monthly = {k: np.full((len(rows), len(months)), np.nan) for k in WAITS}
    for group in result.groups:
        month = group.key.get("month")
        if month not in month_at:
            continue
        program = group.key.get("program_id")
        r, m = row_at[NO_PROGRAM if program is None else str(program)], month_at[month]
        for name, value in _series_values(group.figures).items():
            monthly[name][r, m] = value
        for key in MINUTE_BASED:
            figure = group.figures[key]
            minutes_monthly[f"{key}.numerator"][r, m] = figure.numerator or 0
            minutes_monthly[f"{key}.denominator"][r, m] = figure.denominator or 0
        for key in WAITS:
            wait = group.figures[key].value
            waits_monthly[key][r, m] = np.nan if wait is None else float(wait)
    inner = slice(0, len(rows) - 1)
    for name in series:  # the all-programs row is the sum of the programs
        monthly[name][-1] = monthly[name][inner].sum(axis=0)
    for name in minute_parts:
        minutes_monthly[name][-1] = minutes_monthly[name][inner].sum(axis=0)
    for group in by_month.groups if by_month is not None else ():
        # The all-programs wait of a month is not a sum of the programs': it comes from the run by month.
        month = group.key.get("month")
        if month in month_at:
            for key in WAITS:
                wait = group.figures[key].value
                waits_monthly[key][-1, month_at[month]] = np.nan if wait is None else float(wait)
    counts = {name: _roll_up(values, periods, months, pit=series[name]) for name, values in monthly.items()}
    minutes = {name: _roll_up(values, periods, months, pit=False) for name, values in minutes_monthly.items()}
    waits = {k: _place_months(v, periods, months) for k, v in waits_monthly.items()}
    cube = PublishedCube(
        as_of=as_of,
        latest_event=latest_event,
        rows=rows,
        periods=periods,
        counts=counts,
        hidden={name: np.zeros(values.shape, dtype=bool) for name, values in counts.items()},
        minutes=minutes,
        waits=waits,
        suppressed=suppress,
    )
    if suppress:
        _suppress_cube(cube, series, limit)
    return cube


def _series_values(figures: dict[str, Any]) -> dict[str, int]:
    """One group's value of every protected series, checking that aliased series agree."""
    out: dict[str, int] = {}

    def put(name: str, value: Any) -> None:
        number = int(value or 0)
        if name in out and out[name] != number:
            raise ValueError(f"series {name} has two values ({out[name]} and {number}): a definition changed")
        out[name] = number

    for key, definition in METRICS.items():
        if definition.kind == "count":
            put(key, figures[key].value)
    for key in _protected_rates():
        figure = figures[key]
        numerator, denominator = int(figure.numerator or 0), int(figure.denominator or 0)
        put(SAME_NUMERATOR.get(key, f"{key}.numerator"), numerator)
        put(denominator_series(key), denominator)
        put(f"{key}.rest", denominator - numerator)
    for key in WAITS:
        put(denominator_series(key), figures[key].denominator)
    return out


def _place_months(
    monthly: NDArray[Any], periods: Sequence[CalendarPeriod], months: Sequence[CalendarPeriod]
) -> NDArray[Any]:
    out = np.full((monthly.shape[0], len(periods)), np.nan if monthly.dtype.kind == "f" else 0, monthly.dtype)
    at = {p: k for k, p in enumerate(periods)}
    for m, month in enumerate(months):
        out[:, at[month]] = monthly[:, m]
    return out


def _roll_up(
    monthly: NDArray[Any], periods: Sequence[CalendarPeriod], months: Sequence[CalendarPeriod], *, pit: bool
) -> NDArray[Any]:
    """Every published period from the months: a sum, or for a point-in-time count its last month."""
    month_at = {p: k for k, p in enumerate(months)}
    out = np.zeros((monthly.shape[0], len(periods)), dtype=monthly.dtype)
    for k, period in enumerate(periods):
        inside = [month_at[m] for m in period.months()]
        out[:, k] = monthly[:, inside[-1]] if pit else monthly[:, inside].sum(axis=1)
    return out


def _suppress_cube(cube: PublishedCube, series: dict[str, bool], limit: int) -> None:
    """Build the linked system of every protected count and hide what it says."""
    system = LinkedSystem()
    ids: dict[str, NDArray[np.int64]] = {}
    n_rows = len(cube.rows)
    month_at = {p: cube.index[p] for p in cube.months}
    for name, pit in series.items():
        at = np.full((n_rows, len(cube.periods)), -1, dtype=np.int64)
        values = cube.counts[name]
        for k, period in enumerate(cube.periods):
            if pit and period.kind != "month":
                continue
            for r in range(n_rows):
                cost = _PERIOD_COST[period.kind] * (_ROW_COST if r == n_rows - 1 else 1.0)
                at[r, k] = system.variable(int(values[r, k]), cost=cost)
        if pit:  # a quarter's or year's census is its last month's: the same variable
            for k, period in enumerate(cube.periods):
                if period.kind != "month":
                    at[:, k] = at[:, month_at[period.months()[-1]]]
        ids[name] = at
    inner_rows = range(n_rows - 1)
    for name, pit in series.items():
        at = ids[name]
        if pit:
            for month in cube.months:
                k = cube.index[month]
                system.table([[int(at[r, k])] for r in inner_rows], column_totals=[int(at[-1, k])])
            continue
        for period in cube.periods:
            if period.kind == "month":
                continue
            parts = [p for p in cube.periods if p.kind == _CHILD[period.kind] and _within(p, period)]
            columns = [cube.index[p] for p in parts]
            k = cube.index[period]
            system.table(
                [[int(at[r, c]) for c in columns] for r in inner_rows],
                row_totals=[int(at[r, k]) for r in inner_rows],
                column_totals=[int(at[-1, c]) for c in columns],
                grand=int(at[-1, k]),
            )
    for key in _protected_rates():
        numerator, rest = ids[SAME_NUMERATOR.get(key, f"{key}.numerator")], ids[f"{key}.rest"]
        denominator = ids[denominator_series(key)]
        for period in cube.periods:
            if key in POINT_IN_TIME and period.kind != "month":
                continue
            k = cube.index[period]
            system.table(
                [[int(numerator[r, k]), int(rest[r, k])] for r in inner_rows],
                row_totals=[int(denominator[r, k]) for r in inner_rows],
                column_totals=[int(numerator[-1, k]), int(rest[-1, k])],
                grand=int(denominator[-1, k]),
            )
    # census(t) + discharges(t) = census(t-1) + admissions(t), per program and overall; zero before the data.
    census, admissions, discharges = ids["active_census"], ids["admissions"], ids["discharges"]
    for r in range(n_rows):
        before = system.variable(0)
        for month in cube.months:
            k = cube.index[month]
            system.balance([before, int(admissions[r, k])], [int(discharges[r, k]), int(census[r, k])])
            before = int(census[r, k])
    hidden = system.suppress(limit=limit)
    for name, at in ids.items():
        cube.hidden[name] = hidden[at]


_CHILD = {"quarter": "month", "year": "quarter"}


def _within(inner: CalendarPeriod, outer: CalendarPeriod) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


# --- building and answering ------------------------------------------------------------------------------


def publication_dates(log: EventLog, as_of: date | None = None) -> tuple[date, date, date]:
    """(first event, latest event, the month end figures are read as of): `as_of` (already a month end)
    when given and not later than the data allow, else the last month end on or before the latest event."""
    from onward.errors import ValidationError

    first, last = event_bounds(log)
    if first is None or last is None:
        raise ValidationError("the event log has no dated events; nothing to measure")
    latest_end = last_month_end(last)
    if latest_end < first.replace(day=1):
        raise ValidationError(
            f"no complete month yet: the data run from {first} to {last}; figures are published once a "
            "calendar month is over"
        )
    chosen = latest_end if as_of is None or as_of > latest_end else last_month_end(as_of)
    if chosen < first.replace(month=1, day=1):
        raise ValidationError(f"as_of {as_of} is before the first recorded event ({first})")
    return first, last, chosen


def publish(
    log: EventLog,
    *,
    as_of: date | None = None,
    suppress: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> PublishedCube:
    """The cube of `log` as of the month end `as_of` (default: the latest complete month)."""
    import time

    started = time.perf_counter()
    first, last, month_end = publication_dates(log, as_of)
    keys = [k for k in METRICS if k not in PER_PERIOD]
    result = compute_metrics(
        log,
        period=Period(date(first.year, 1, 1), month_end, month_end),
        by=("program", "month"),
        metrics=keys,
        progress=progress,
    )
    by_month = compute_metrics(
        log, period=Period(date(first.year, 1, 1), month_end, month_end), by=("month",), metrics=list(WAITS)
    )
    cube = build_cube(result, by_month, as_of=month_end, latest_event=last, suppress=suppress)
    cube.seconds = time.perf_counter() - started
    return cube


@dataclass
class PeriodExtras:
    """A period's figures that are not sums of months: waits of a quarter or year, DRR-E (suppressed)."""

    rows: dict[str, dict[str, Any]]  # row label (program id, NO_PROGRAM or ALL) -> {key: value, parts...}


def period_extras(log: EventLog, cube: PublishedCube, period: CalendarPeriod) -> PeriodExtras:
    """Compute the per-period figures of `period` as of the cube's month end, and suppress DRR-E."""
    cube.check(period)
    result = compute_metrics(
        log, period=period.to_period(cube.as_of), by=("program",), metrics=[*WAITS, *PER_PERIOD]
    )
    rows: dict[str, dict[str, Any]] = {}
    for group in result.groups:
        program = group.key.get("program_id")
        rows[NO_PROGRAM if program is None else str(program)] = _extra_row(group.figures)
    rows[ALL] = _extra_row(result.figures)
    if cube.suppressed:
        _suppress_drr(rows)
    return PeriodExtras(rows)


def _extra_row(figures: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key in (*WAITS, *PER_PERIOD):
        figure = figures[key]
        row[key] = figure.value
        row[f"{key}__numerator"] = int(figure.numerator or 0)
        row[f"{key}__denominator"] = int(figure.denominator or 0)
    row[SUPPRESSED] = []
    return row


def _suppress_drr(rows: dict[str, dict[str, Any]]) -> None:
    """DRR-E of one period: programs with their total, numerators with denominators and the rest."""
    labels = [r for r in rows if r != ALL]
    system = LinkedSystem()
    denominator_key = f"{PER_PERIOD[0]}__denominator"
    ids: dict[tuple[str, str], int] = {}
    for label in [*labels, ALL]:
        cost = _ROW_COST if label == ALL else 1.0
        row = rows[label]
        ids[(label, "den")] = system.variable(row[denominator_key], cost=cost)
        for key in PER_PERIOD:
            numerator = row[f"{key}__numerator"]
            ids[(label, f"{key}.num")] = system.variable(numerator, cost=cost)
            ids[(label, f"{key}.rest")] = system.variable(row[denominator_key] - numerator, cost=cost)
    for key in PER_PERIOD:
        system.table(
            [[ids[(r, f"{key}.num")], ids[(r, f"{key}.rest")]] for r in labels],
            row_totals=[ids[(r, "den")] for r in labels],
            column_totals=[ids[(ALL, f"{key}.num")], ids[(ALL, f"{key}.rest")]],
            grand=ids[(ALL, "den")],
        )
    hidden = system.suppress()
    for label in [*labels, ALL]:
        row = rows[label]
        for key in PER_PERIOD:
            parts = (ids[(label, "den")], ids[(label, f"{key}.num")], ids[(label, f"{key}.rest")])
            if any(hidden[i] for i in parts):
                row[SUPPRESSED].append(key)
            if hidden[parts[0]]:
                row[SUPPRESSED].append(f"{key}__denominator")


def answer(cube: PublishedCube, period: CalendarPeriod, extras: PeriodExtras) -> dict[str, Any]:
    """One period as published: overall, by program, by month and by program and month.

    Rows hold each metric's value, `<key>__numerator` / `<key>__denominator` for rates, ratios and waits,
    and under SUPPRESSED the keys hidden in that row (a hidden value is None). DRR-E figures appear in
    the period's rows and, for a month, in its one month row; not by month within a quarter or year.
    """
    cube.check(period)
    k = cube.index[period]
    all_row = len(cube.rows) - 1
    programs = list(enumerate(cube.rows[:-1]))
    months = [(m, cube.index[m]) for m in period.months()]
    single = period.kind == "month"
    return {
        "period": period_json(cube, period),
        "metrics": _row(cube, all_row, k, extras.rows.get(ALL, {})),
        "by_program": [
            {"program_id": label, **_row(cube, r, k, extras.rows.get(label, {}))} for r, label in programs
        ],
        "by_month": [
            {"month": m.label, **_row(cube, all_row, mk, extras.rows.get(ALL) if single else None)}
            for m, mk in months
        ],
        "by_program_month": [
            {
                "program_id": label,
                "month": m.label,
                **_row(cube, r, mk, extras.rows.get(label) if single else None),
            }
            for r, label in programs
            for m, mk in months
        ],
        "suppression": suppression_note(cube),
    }


def trend(
    cube: PublishedCube, period: CalendarPeriod, months: int = 12, program: str | None = None
) -> list[dict[str, Any]]:
    """All-programs rows (or one program's, by its row label) of the `months` months ending with `period`
    (each a published month): the monthly trend pages draw beside a period's figures."""
    cube.check(period)
    inside = [m for m in cube.months if m.end <= period.end][-months:]
    row = len(cube.rows) - 1 if program is None else cube.rows.index(program)
    return [{"month": m.label, **_row(cube, row, cube.index[m], None)} for m in inside]


def program_names(log: EventLog) -> dict[str, str]:
    """program_id -> name, from the log's programs table."""
    rows = log.table("programs").select("program_id", "name").to_pyarrow().to_pylist()
    return {str(r["program_id"]): str(r["name"]) for r in rows}


def period_json(cube: PublishedCube, period: CalendarPeriod) -> dict[str, Any]:
    """What every published answer says about its period (issue: state the period and the data end)."""
    return {
        "period": period.label,
        "kind": period.kind,
        "title": period.title,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "as_of": cube.as_of.isoformat(),
        "data_end": cube.as_of.isoformat(),
        "latest_event": cube.latest_event.isoformat(),
    }


def suppression_note(cube: PublishedCube) -> dict[str, Any]:
    if not cube.suppressed:
        return {"rule": "none: internal use only (small cells are shown)"}
    return {
        "rule": (
            f"CMS cell-size suppression: counts 1-{SMALL_CELL_MAX} hidden, and every figure from which one "
            "could be derived, across all months, quarters and years, programs and the total, census with "
            "admissions and discharges, numerators with denominators"
        ),
        "marker": SUPPRESSED,
    }


def _row(cube: PublishedCube, r: int, k: int, extra: dict[str, Any] | None) -> dict[str, Any]:
    """Every metric of one cube cell; `extra` holds the per-period figures (None: not given here)."""
    row: dict[str, Any] = {}
    hidden: list[str] = []

    def count(name: str) -> tuple[int, bool]:
        return int(cube.counts[name][r, k]), bool(cube.hidden[name][r, k])

    for key, definition in METRICS.items():
        if definition.kind == "count":
            row[key], secret = count(key)
            if secret:
                hidden.append(key)
        elif key in MINUTE_BASED:
            numerator = float(cube.minutes[f"{key}.numerator"][r, k])
            denominator = float(cube.minutes[f"{key}.denominator"][r, k])
            row[key] = None if denominator == 0 else numerator / denominator
            row[f"{key}__numerator"], row[f"{key}__denominator"] = numerator, denominator
        elif key in PER_PERIOD:
            if extra is None:
                continue
            row[key] = extra.get(key)
            row[f"{key}__numerator"] = extra.get(f"{key}__numerator")
            row[f"{key}__denominator"] = extra.get(f"{key}__denominator")
            hidden += [name for name in extra.get(SUPPRESSED, []) if name.startswith(key)]
        elif key in WAITS:
            denominator, secret = count(denominator_series(key))
            value = extra.get(key) if extra else cube.waits[key][r, k]
            row[key] = None if is_missing(value) else int(value)  # type: ignore[arg-type]
            row[f"{key}__denominator"] = denominator
            if secret:
                hidden += [key, f"{key}__denominator"]
        else:
            numerator, secret_n = count(SAME_NUMERATOR.get(key, f"{key}.numerator"))
            denominator, secret_d = count(denominator_series(key))
            _, secret_r = count(f"{key}.rest")
            row[key] = None if denominator == 0 else numerator / denominator
            row[f"{key}__numerator"], row[f"{key}__denominator"] = numerator, denominator
            if secret_n or secret_d or secret_r:
                hidden.append(key)
            if secret_n:
                hidden.append(f"{key}__numerator")
            if secret_d:
                hidden.append(f"{key}__denominator")
    for name in hidden:
        row[name] = None
    row[SUPPRESSED] = sorted(set(hidden))
    return row


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
