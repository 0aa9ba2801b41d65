"""Service mix and caseload per clinician, and the waiting list at month ends, on the metric backends
(DuckDB, SQLite, PostgreSQL, PySpark: the same Ibis expressions; docs/metrics.md, "Per clinician").

- Per staff member: minutes of treatment services (category treatment or medication) and of case
  management they delivered in the period (service_date in the period, the service's `staff_id`), the
  treatment share (treatment / (treatment + case management)) and case-management minutes per
  treatment minute, as the suite's service-mix metrics but by who delivered the service; and their
  caseload: open episodes at `to` whose primary clinician they are.
- The waiting list of a program at a day: referrals made by then that had not left the list by then
  (no episode started from them by then; no outcome other than waiting or offered dated by then).

Counts of minutes are not counts of people; caseloads and waiting counts are shown only to the
program's own manager and clinicians (docs/access.md), never published.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import ibis
import numpy as np
import pyarrow as pa

from onward.metrics.backends import EventLog, arrow_column, fetch_arrow, quiet_engine_warnings, small_table
from onward.metrics.period import Period, ResolvedPeriod
from onward.metrics.scope import CASE_MANAGEMENT, FAR_FUTURE, TREATMENT_CATEGORIES, Figure, make_scope
from onward.model.eventlog import OPEN_OUTCOMES

STAFF_KEYS: tuple[str, ...] = (
    "treatment_minutes",
    "cm_minutes",
    "treatment_share",
    "cm_per_treatment",
    "caseload",
)


@dataclass(frozen=True, slots=True)
class StaffFigures:
    staff_id: str
    program_id: str
    role: str
    hours_per_week: int
    treatment_minutes: int
    cm_minutes: int
    caseload: int

    @property
    def treatment_share(self) -> Figure:
        return Figure.rate(self.treatment_minutes, self.treatment_minutes + self.cm_minutes)

    @property
    def cm_per_treatment(self) -> Figure:
        return Figure.rate(self.cm_minutes, self.treatment_minutes)

    def values(self) -> dict[str, float | int | None]:
        return {
            "treatment_minutes": self.treatment_minutes,
            "cm_minutes": self.cm_minutes,
            "treatment_share": self.treatment_share.value,
            "cm_per_treatment": self.cm_per_treatment.value,
            "caseload": self.caseload,
        }


@dataclass(frozen=True, slots=True)
class StaffMix:
    period: ResolvedPeriod
    backend: str
    staff: list[StaffFigures]

    def of_program(self, program_id: str) -> list[StaffFigures]:
        return [s for s in self.staff if s.program_id == program_id]


def _ints(table: pa.Table, name: str) -> list[int]:
    return [int(v or 0) for v in table.column(name).to_pylist()]


def compute_staff_mix(
    log: EventLog, *, period: Period, program_ids: Collection[str] | None = None
) -> StaffMix:
    """Every staff member (of `program_ids`, or all) with their minutes and caseload in the period."""
    with quiet_engine_warnings():
        scope = make_scope(log, period, ())
        staff = scope.tables["staff"]
        if program_ids is not None:
            staff = staff.filter(staff.program_id.isin(list(program_ids)))
        services = scope.tables["services"]
        rows = services.filter(scope.in_period(services.service_date) & services.staff_id.notnull())
        minutes = rows.group_by(rows.staff_id.name("m_staff")).aggregate(
            treatment=rows.minutes.sum(where=rows.category.isin(TREATMENT_CATEGORIES)),
            cm=rows.minutes.sum(where=rows.category == CASE_MANAGEMENT),
        )
        episodes = scope.episodes()
        far = ibis.literal(FAR_FUTURE, type="date")
        open_at_end = episodes.filter(
            (episodes.start_date <= scope.end)
            & (episodes.end_date.fill_null(far) > scope.end)
            & episodes.primary_staff_id.notnull()
        )
        caseload = open_at_end.group_by(open_at_end.primary_staff_id.name("c_staff")).aggregate(
            caseload=open_at_end.count()
        )
        joined = staff.left_join(minutes, staff.staff_id == minutes.m_staff).left_join(
            caseload, staff.staff_id == caseload.c_staff
        )
        expr = joined.select(
            "staff_id", "program_id", "role", "hours_per_week", "treatment", "cm", "caseload"
        ).order_by(["program_id", "staff_id"])
        table = fetch_arrow(expr, log)
    out = [
        StaffFigures(str(s), str(p), str(r), int(h or 0), t, c, n)
        for s, p, r, h, t, c, n in zip(
            table.column("staff_id").to_pylist(),
            table.column("program_id").to_pylist(),
            table.column("role").to_pylist(),
            table.column("hours_per_week").to_pylist(),
            _ints(table, "treatment"),
            _ints(table, "cm"),
            _ints(table, "caseload"),
            strict=True,
        )
    ]
    return StaffMix(scope.period, log.backend, out)


def waiting_counts(
    log: EventLog, days: Sequence[date], program_ids: Collection[str] | None = None
) -> dict[str, dict[date, int]]:
    """The waiting list of each program at each of `days`: program_id -> {day: referrals waiting}."""
    if not days:
        return {}
    with quiet_engine_warnings():
        referrals = log.tables["referrals"]
        episodes = log.tables["episodes"]
        if program_ids is not None:
            referrals = referrals.filter(referrals.program_id.isin(list(program_ids)))
        admitted = (
            episodes.filter(episodes.referral_id.notnull())
            .group_by(episodes.referral_id.name("a_referral"))
            .aggregate(admitted_on=episodes.start_date.min())
        )
        open_values = [o.value for o in OPEN_OUTCOMES]
        far = ibis.literal(FAR_FUTURE, type="date")
        rows = referrals.left_join(admitted, referrals.referral_id == admitted.a_referral)
        closed_on = (
            rows.outcome.isin(open_values).fill_null(True).ifelse(far, rows.outcome_date.fill_null(far))
        )
        rows = rows.mutate(left_on=ibis.least(rows.admitted_on.fill_null(far), closed_on))
        ordinals = np.array([d.toordinal() - date(1970, 1, 1).toordinal() for d in days], dtype=np.int32)
        checkpoints = small_table(log, pa.table({"t": arrow_column(ordinals, pa.date32())}))
        crossed = rows.cross_join(checkpoints)
        waiting = crossed.filter((crossed.referral_date <= crossed.t) & (crossed.left_on > crossed.t))
        expr = waiting.group_by(["program_id", "t"]).aggregate(waiting=waiting.count())
        table = fetch_arrow(expr, log)
    out: dict[str, dict[date, int]] = {}
    for program, day, count in zip(
        table.column("program_id").to_pylist(),
        table.column("t").to_pylist(),
        _ints(table, "waiting"),
        strict=True,
    ):
        out.setdefault(str(program), {})[_day(day)] = count
    return out


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_rows(mix: StaffMix) -> list[dict[str, Any]]:
    """Plain rows (CLI JSON, tests): staff id, program, role, hours and every STAFF_KEYS value."""
    return [
        {
            "staff_id": s.staff_id,
            "program_id": s.program_id,
            "role": s.role,
            "hours_per_week": s.hours_per_week,
            **s.values(),
        }
        for s in mix.staff
    ]
