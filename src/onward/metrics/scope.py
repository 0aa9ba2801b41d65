"""What every metric module shares: the period as literals, the event log as known at data_end, and
grouping keys; plus the small records (`Tally`, `Figure`) the backends hand back.

Metric modules build *tallies*: ibis expressions aggregated on the backend to a few rows per
(program, month) group. Python only finishes them (sums, ratios, the Kaplan-Meier product).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import ibis
import numpy as np
import pyarrow as pa

from onward.errors import ValidationError
from onward.metrics.backends import EventLog, arrow_column, fetch_arrow, small_table
from onward.metrics.period import Period, ResolvedPeriod
from onward.metrics.thresholds import STUCK_MEASURE_RECENT_DAYS, STUCK_MIN_OPEN_DAYS
from onward.model import eventlog
from onward.model.eventlog import EndReason, ProgramKind

GroupKey = Literal["program", "month"]
GROUP_KEYS: tuple[GroupKey, ...] = ("program", "month")
GROUP_COLUMNS: dict[GroupKey, str] = {"program": "program_id", "month": "month"}

#: Stand-ins that turn "no end date" / "no planned end" into plain comparisons that range joins can use.
FAR_FUTURE = date(9999, 12, 31)
FAR_PAST = date(1, 1, 1)

#: docs/metrics.md: "Treatment service" means category treatment or medication (defined in the model).
TREATMENT_CATEGORIES = eventlog.TREATMENT_CATEGORIES
CASE_MANAGEMENT = eventlog.CASE_MANAGEMENT
GRADUATED: str = EndReason.GRADUATED.value
INPATIENT: str = ProgramKind.INPATIENT.value

Records = list[dict[str, Any]]
Bag = Mapping[str, Records]


@dataclass(frozen=True, slots=True)
class Tally:
    """One aggregate query: group columns plus count columns. A point-in-time tally (census, stuck)
    is evaluated at checkpoints; its row with month None is the value at `to`."""

    name: str
    expr: Any
    point_in_time: bool = False
    #: Reduces the engine's rows to one row per group in Python (vectorised): called with the group
    #: columns for the breakdown and with none for the overall figure.
    summarise: Callable[[pa.Table, Sequence[str]], pa.Table] | None = None


@dataclass(frozen=True, slots=True)
class Figure:
    """A metric's value with the counts behind it (numerator / denominator; None for plain counts)."""

    value: float | int | None
    numerator: float | int | None = None
    denominator: float | int | None = None

    @staticmethod
    def count(n: int) -> Figure:
        return Figure(n, n, None)

    @staticmethod
    def rate(numerator: float | int, denominator: float | int) -> Figure:
        """An empty denominator gives None, never 0 (docs/metrics.md)."""
        value = None if denominator == 0 else numerator / denominator
        return Figure(value, numerator, denominator)


def total(bag: Bag, tally: str, column: str) -> int:
    """Sum of one count column over a group's records of one tally."""
    return int(sum(r[column] or 0 for r in bag.get(tally, ())))


def days(later: Any, earlier: Any) -> Any:
    """Whole days from `earlier` to `later` (windows as differences: SQLite 3.40 refuses date + interval)."""
    return later.delta(earlier, unit="day")


def flag(condition: Any) -> Any:
    """1 where the condition holds, 0 otherwise or when unknown (engines refuse bool * number)."""
    return condition.fill_null(False).ifelse(1, 0)


@dataclass(frozen=True)
class Scope:
    """The period, grouping and event-log tables (as known at data_end) a suite is computed over."""

    period: ResolvedPeriod
    by: tuple[GroupKey, ...]
    tables: dict[str, Any]
    checkpoints: Any  # ibis table: t, cp_month (null: the overall value at `to`), t_open, t_recent
    backend: str

    @property
    def start(self) -> Any:
        return ibis.literal(self.period.start, type="date")

    @property
    def end(self) -> Any:
        return ibis.literal(self.period.end, type="date")

    @property
    def data_end(self) -> Any:
        return ibis.literal(self.period.data_end, type="date")

    def in_period(self, column: Any) -> Any:
        return (column >= self.start) & (column <= self.end)

    def keys(self, *, program: Any, when: Any) -> dict[str, Any]:
        """Group columns for the grouping asked: the item's program and the month of `when`."""
        out: dict[str, Any] = {}
        if "program" in self.by:
            out["program_id"] = program
        if "month" in self.by:
            out["month"] = when.truncate("M")
        return out

    def keys_at_checkpoint(self, *, program: Any, checkpoints: Any) -> dict[str, Any]:
        """Group columns of a point-in-time tally: the checkpoint's month (None = the value at `to`)."""
        out: dict[str, Any] = {}
        if "program" in self.by:
            out["program_id"] = program
        if "month" in self.by:
            out["month"] = checkpoints.cp_month
        return out

    @property
    def group_columns(self) -> list[str]:
        return [GROUP_COLUMNS[k] for k in self.by]

    def aggregate(self, rows: Any, **measures: Any) -> Any:
        """Aggregate `rows` by the group columns asked (or to one row when ungrouped)."""
        columns = self.group_columns
        return rows.group_by(columns).aggregate(**measures) if columns else rows.aggregate(**measures)

    def episodes(self) -> Any:
        return self.tables["episodes"]

    def treatment_services(self) -> Any:
        services = self.tables["services"]
        return services.filter(services.category.isin(TREATMENT_CATEGORIES))

    def services_with_program(self) -> Any:
        """Services with the program they count for: their episode's, else their staff member's."""
        services = self.tables["services"]
        episodes = self.episodes().select(ep_id=_col("episode_id"), ep_program=_col("program_id"))
        staff = self.tables["staff"].select(st_id=_col("staff_id"), st_program=_col("program_id"))
        joined = services.left_join(episodes, services.episode_id == episodes.ep_id).left_join(
            staff, services.staff_id == staff.st_id
        )
        return joined.mutate(program_id=joined.ep_program.coalesce(joined.st_program)).drop(
            "ep_id", "ep_program", "st_id", "st_program"
        )


def _col(name: str) -> Any:
    return ibis._[name]


def event_bounds(log: EventLog) -> tuple[date | None, date | None]:
    """Earliest and latest recorded event date (planned dates do not count), in one query."""
    return _bounds(log)


def _bounds(log: EventLog) -> tuple[date | None, date | None]:
    """Earliest and latest recorded event date (planned dates do not count), in one query."""
    t = log.tables
    columns = [
        (t["referrals"], "referral_date"),
        (t["episodes"], "start_date"),
        (t["episodes"], "end_date"),
        (t["services"], "service_date"),
        (t["measurements"], "measured_on"),
    ]
    parts = [
        table.aggregate(**{f"first{i}": table[c].min(), f"last{i}": table[c].max()})
        for i, (table, c) in enumerate(columns)
    ]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.cross_join(part)
    row = fetch_arrow(joined, log).to_pylist()[0]
    firsts = [_as_date(row[f"first{i}"]) for i in range(len(columns))]
    lasts = [_as_date(row[f"last{i}"]) for i in range(len(columns))]
    known_firsts = [d for d in firsts if d is not None]
    known_lasts = [d for d in lasts if d is not None]
    return (min(known_firsts) if known_firsts else None, max(known_lasts) if known_lasts else None)


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if hasattr(value, "date") and callable(value.date):
        return value.date()  # type: ignore[no-any-return]
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_known_at(tables: dict[str, Any], data_end: date) -> dict[str, Any]:
    """The event log as it stood at data_end: later events vanish, later ends are still open."""
    d = ibis.literal(data_end, type="date")
    out = dict(tables)
    referrals, episodes = tables["referrals"], tables["episodes"]
    services, measurements = tables["services"], tables["measurements"]
    out["referrals"] = referrals.filter(referrals.referral_date <= d)
    ended = episodes.end_date.notnull() & (episodes.end_date <= d)
    out["episodes"] = episodes.filter(episodes.start_date <= d).mutate(
        end_date=ended.ifelse(episodes.end_date, ibis.null("date")),
        end_reason=ended.ifelse(episodes.end_reason, ibis.null("string")),
    )
    out["services"] = services.filter(services.service_date <= d)
    out["measurements"] = measurements.filter(measurements.measured_on <= d)
    return out


def make_scope(log: EventLog, period: Period, by: Sequence[str]) -> Scope:
    """Resolve the period against the data and build the checkpoints for point-in-time metrics."""
    unknown = [k for k in by if k not in GROUP_KEYS]
    if unknown:
        raise ValidationError(f"cannot group by {', '.join(unknown)}", expected="program, month or both")
    keys: tuple[GroupKey, ...] = tuple(k for k in GROUP_KEYS if k in by)
    first, last = _bounds(log)
    resolved = period.resolve(first_event=first, last_event=last)
    tables = _as_known_at(log.tables, resolved.data_end) if period.as_of is not None else dict(log.tables)
    rows: list[tuple[date, date | None]] = [(resolved.end, None)]
    if "month" in keys:
        rows += [(checkpoint, month) for month, checkpoint in resolved.month_ends()]
    # Window edges as plain dates, so joins compare columns (range joins; no date arithmetic, which
    # SQLite 3.40 refuses): opened on or before t_open, measured on or after t_recent.
    t = np.array([_epoch_day(r[0]) for r in rows], dtype=np.int32)
    month = np.array([0 if r[1] is None else _epoch_day(r[1]) for r in rows], dtype=np.int32)
    columns = {
        "t": arrow_column(t, pa.date32()),
        "cp_month": arrow_column(month, pa.date32(), valid=np.array([r[1] is not None for r in rows])),
        "t_open": arrow_column(t - STUCK_MIN_OPEN_DAYS, pa.date32()),
        "t_recent": arrow_column(t - (STUCK_MEASURE_RECENT_DAYS - 1), pa.date32()),
    }
    checkpoints = small_table(log, pa.Table.from_arrays(list(columns.values()), names=list(columns)))
    return Scope(resolved, keys, tables, checkpoints, log.backend)


def _epoch_day(d: date) -> int:
    return d.toordinal() - _EPOCH_ORDINAL


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def month_label(value: Any) -> str | None:
    """'YYYY-MM' for whatever date-like value a backend returned."""
    d = _as_date(value)
    return None if d is None else f"{d.year:04d}-{d.month:02d}"


def build_tallies(
    builders: Mapping[str, Callable[[Scope], Tally]], scope: Scope, needed: Collection[str] | None
) -> list[Tally]:
    """An area's aggregate queries, only those `needed` (building an expression costs time too)."""
    return [build(scope) for name, build in builders.items() if needed is None or name in needed]
