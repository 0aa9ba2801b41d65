"""The manager's access dashboard (docs/access.md, "Dashboard"), as one view function and one template
partial (`_access_dashboard.html`) so any page can place it: `access_sections(...)` returns the partial's
context; `GET /programs/access` (routers/access.py) shows it alone.

Sections, for the manager's own programs and one calendar period (default: the latest complete quarter):
- access: days to first treatment (median, 90th percentile), treated within 14 days, within 6 and 18
  weeks, by program, with the months of the period as the trend: the published, suppressed figures of
  the metrics engine (`onward.web.metrics_cache`), the same as `onward metrics --suppress`;
- the waiting list now and at each of the last 12 month ends (`metrics.staff_mix.waiting_counts`);
- service mix by program (published) and by clinician, with caseloads against their target
  (`metrics.staff_mix.compute_staff_mix`, `services.capacity`);
- the stuck list: people of the manager's programs flagged `stuck` (`metrics.flags`; an audited read).
Beside each published figure: the target in force for the program (its own, else the system's; issue
13's `services.targets`) and its status in words (`model.targets.status_in_row`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.metrics.backends import EventLog, open_event_log
from onward.metrics.period import Period
from onward.metrics.registry import METRICS
from onward.metrics.staff_mix import compute_staff_mix, waiting_counts
from onward.metrics.thresholds import STUCK_MIN_OPEN_DAYS
from onward.model.flags import FlagRules
from onward.model.targets import Status, status_in_row
from onward.services.episode_summaries import summaries
from onward.services.targets import targets_in_force
from onward.store.tables import Episode, Program
from onward.web.metrics_cache import DataVersion, MetricsView, data_version
from onward.web.routers.dashboards import Shown, shown

#: The access figures of the dashboard, in order.
ACCESS_KEYS: tuple[str, ...] = (
    "admissions",
    "days_to_first_treatment_median",
    "days_to_first_treatment_p90",
    "share_treated_within_14_days",
    "share_treated_within_6_weeks",
    "share_treated_within_18_weeks",
)
MIX_KEYS: tuple[str, ...] = (
    "treatment_share",
    "cm_per_treatment",
    "active_census",
    "stuck_count",
    "stuck_share",
)
TREND_MONTHS = 12


@dataclass(frozen=True, slots=True)
class ProgramRow:
    program: Program
    cells: dict[str, Shown]
    targets: dict[str, tuple[str, Status]]  # key -> (target phrase, status) where a target is in force
    trend: list[tuple[str, dict[str, Shown]]]  # (month, cells) for the months of the period
    waiting: list[tuple[date, int]]  # month ends, oldest first
    staff: list[dict[str, Any]]


def _month_ends(last: date, count: int) -> list[date]:
    ends: list[date] = []
    day = last
    for _ in range(count):
        ends.append(day)
        day = day.replace(day=1) - timedelta(days=1)
    return list(reversed(ends))


def _rate(numerator: int, denominator: int) -> str:
    return "no data" if denominator == 0 else f"{100 * numerator / denominator:.0f} %"


def access_sections(
    *,
    session: Session,
    log: EventLog,
    view: MetricsView | None,
    program_ids: list[str],
    rules: FlagRules | None = None,
) -> dict[str, Any]:
    """The partial's context for these programs and the view's period (None: nothing published yet)."""
    programs = list(
        session.scalars(select(Program).where(Program.program_id.in_(program_ids)).order_by(Program.name))
    )
    if view is None or not programs:
        return {"access_rows": [], "access_view": view, "stuck": []}
    start = date.fromisoformat(view.period["from"])
    end = date.fromisoformat(view.period["to"])
    as_of = date.fromisoformat(view.period["as_of"])
    by_program = {str(g["program_id"]): g for g in view.by_program}
    by_month: dict[str, list[dict[str, Any]]] = {}
    for g in view.by_program_month:
        by_month.setdefault(str(g["program_id"]), []).append(g)
    targets = targets_in_force(session)
    ends = _month_ends(end, TREND_MONTHS)
    waiting = waiting_counts(log, ends, program_ids)
    mix = compute_staff_mix(log, period=Period(start, end, as_of), program_ids=program_ids)
    rows: list[ProgramRow] = []
    for program in programs:
        group = by_program.get(program.program_id, {})
        months = sorted(by_month.get(program.program_id, []), key=lambda g: str(g["month"]))
        staff = mix.of_program(program.program_id)
        clinical = sum(s.hours_per_week for s in staff if s.role in _CLINICAL)
        rows.append(
            ProgramRow(
                program=program,
                cells={key: shown(METRICS[key], group) for key in (*ACCESS_KEYS, *MIX_KEYS)},
                targets={
                    key: (t.phrase, status_in_row(METRICS[key], group, t.value, t.margin))
                    for key in (*ACCESS_KEYS, *MIX_KEYS)
                    if (t := targets.for_program(key, program.program_id)) is not None
                },
                trend=[(str(g["month"]), {k: shown(METRICS[k], g) for k in ACCESS_KEYS}) for g in months],
                waiting=[(d, waiting.get(program.program_id, {}).get(d, 0)) for d in ends],
                staff=[
                    {
                        "staff_id": s.staff_id,
                        "role": s.role,
                        "hours": s.hours_per_week,
                        "treatment_share": _rate(s.treatment_minutes, s.treatment_minutes + s.cm_minutes),
                        "cm_per_treatment": (
                            "no data"
                            if s.treatment_minutes == 0
                            else f"{s.cm_minutes / s.treatment_minutes:.2f}"
                        ),
                        "caseload": s.caseload,
                        "target": (
                            program.capacity_slots * s.hours_per_week / clinical
                            if s.role in _CLINICAL and clinical
                            else None
                        ),
                    }
                    for s in staff
                ],
            )
        )
    stuck = stuck_list(session, program_ids, min(end, as_of), rules)
    return {"access_rows": rows, "access_view": view, "stuck": stuck}


_CLINICAL = frozenset({"clinician", "prescriber", "case_manager", "peer_specialist"})


def stuck_list(
    session: Session, program_ids: list[str], day: date, rules: FlagRules | None = None
) -> list[dict[str, Any]]:
    """Open episodes of the programs flagged `stuck` on `day`, longest first (names people: audit it).
    The flags are the caseload's (`services.episode_summaries`: the pure rules over indexed reads, held
    equal to the metrics engine's by a test); only episodes open a year or more can be stuck."""
    episodes = list(
        session.scalars(
            select(Episode).where(
                Episode.program_id.in_(program_ids),
                Episode.start_date <= day - timedelta(days=STUCK_MIN_OPEN_DAYS),
                (Episode.end_date.is_(None)) | (Episode.end_date > day),
            )
        )
    )
    if not episodes:
        return []
    found = summaries(session, episodes, day=day, rules=rules or FlagRules())
    out = [
        {
            "episode_id": e.episode_id,
            "person_id": e.person_id,
            "program_id": e.program_id,
            "since": f.since,
            "reason": f.reason,
        }
        for e in episodes
        for f in found[e.episode_id].flags
        if f.flag == "stuck"
    ]
    return sorted(out, key=lambda r: (r["since"], r["episode_id"]))


_LOGS: dict[str, tuple[DataVersion, EventLog]] = {}
_LOGS_LOCK = threading.Lock()


def event_log_for(session: Session, url: str) -> EventLog:
    """The event log of the database, opened once per data version (opening copies it for DuckDB)."""
    version = data_version(session)
    with _LOGS_LOCK:
        known = _LOGS.get(url)
        if known is not None and known[0] == version:
            return known[1]
    log = open_event_log(db=url)
    with _LOGS_LOCK:
        _LOGS[url] = (version, log)
    return log
