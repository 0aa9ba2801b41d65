"""Turn a recorded run into the event log of docs/extracts.md (the same tables the live system keeps).

The engine records who changed state, who was referred, and who had an open episode at the end of
each step; this module turns those arrays into people, programs, staff, referrals, episodes,
services and measurements with the exact columns and Arrow types of `onward.model.eventlog`.
Every random choice here comes from one Generator seeded from the run's seed, so the same run
always gives the same tables.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from onward.interop.files import arrow_schema
from onward.model.eventlog import EndReason, Priority, ProgramKind, ReferralSource, StaffRole
from onward.sim._arrow import Calendar, dates, day_number, ids, labels, take
from onward.sim._contacts import measurements_table, services_table
from onward.sim._county import (
    build_county,
    build_staff,
    capacity_slots,
    people_table,
    program_hours,
    programs_table,
)
from onward.sim._episodes import build_episodes, l1_program
from onward.sim._referrals import _OUTCOMES, gather, outcomes
from onward.sim._rows import Rows
from onward.sim.result import EventRecord, ReferralReason, RunResult

K = ProgramKind
_PRIORITIES = [p.value for p in Priority]  # emergent, urgent, routine (engine codes 0, 1, 2)
_SOURCES = [s.value for s in ReferralSource]
_SRC = {s: i for i, s in enumerate(ReferralSource)}
# Referral sources by priority (assumption: crisis lines and hospitals refer emergencies; self and
# primary care most routine referrals).
_SOURCE_MIX: dict[int, dict[ReferralSource, float]] = {
    0: {ReferralSource.CRISIS_LINE: 0.45, ReferralSource.HOSPITAL: 0.4, ReferralSource.JUSTICE: 0.15},
    1: {
        ReferralSource.PRIMARY_CARE: 0.4,
        ReferralSource.HOSPITAL: 0.2,
        ReferralSource.FAMILY: 0.2,
        ReferralSource.SOCIAL_SERVICES: 0.1,
        ReferralSource.JUSTICE: 0.1,
    },
    2: {
        ReferralSource.SELF: 0.35,
        ReferralSource.PRIMARY_CARE: 0.3,
        ReferralSource.FAMILY: 0.12,
        ReferralSource.SCHOOL: 0.08,
        ReferralSource.PERINATAL: 0.05,
        ReferralSource.SOCIAL_SERVICES: 0.07,
        ReferralSource.OTHER: 0.03,
    },
}
_END_REASONS = [r.value for r in EndReason]
_CASE_MANAGER_ROLE = [r.value for r in StaffRole].index(StaffRole.CASE_MANAGER.value)


def _in_rows(result: RunResult) -> tuple[npt.NDArray[np.bool_], EventRecord]:
    """Who lived in the county during the recorded years, and the events with people as row numbers."""
    ev, pop = result.events, result.population
    assert ev is not None
    here = (pop.arrived < result.n_steps) & (pop.left >= 0)
    row_of = np.full(here.size, -1, dtype=np.int64)
    row_of[here] = np.arange(int(here.sum()))
    mapped = {
        name: row_of[getattr(ev, name)]
        for name in ("ref_person", "chg_person", "svc_person", "gone_person", "pre_person")
    }
    return here, dataclasses.replace(ev, **mapped)


def to_event_log(result: RunResult, *, start: date = date(2023, 1, 1)) -> dict[str, pa.Table]:
    """The full event log of a run made with record_events=True.

    Services fall in [start, start + years); episodes, referrals and measurements still open when the
    recorded years begin keep their true, earlier dates (modules _referrals and _episodes).
    """
    if result.events is None:
        raise ValueError("the run has no events: call engine.run(..., record_events=True)")
    here, ev = _in_rows(result)
    rng = np.random.default_rng([result.seed, 4])
    cal = Calendar(day_number(start), result.days_per_step, result.n_steps)
    county = build_county(result.people)
    people = people_table(result, rng, cal, here, start_year=start.year)
    T = result.n_steps
    birth_year = np.asarray(people["birth_year"]).astype(np.int64)
    female = result.population.female[here]

    # -- referrals, ordered by (step, person); steps before the run for those still open at its start
    refs = gather(ev, rng, cal)
    r_step, r_person, r_prio, r_reason, r_sud = refs.step, refs.person, refs.priority, refs.reason, refs.sud
    r_day = refs.day
    l1_ref = l1_program(county, r_person, r_sud)
    new = r_reason == ReferralReason.NEW
    r_prog = np.where(
        new & (r_prio == 0),
        np.where(r_sud, county.index(K.RESIDENTIAL), county.index(K.INPATIENT)),
        np.where(new & (r_prio == 1), county.index(K.INTENSIVE_OUTPATIENT), l1_ref),
    )
    r_source = _sources(rng, r_prio, r_reason)
    r_age = start.year - birth_year[r_person]
    r_source[(r_source == _SRC[ReferralSource.SCHOOL]) & ((r_age < 5) | (r_age > 18))] = _SRC[
        ReferralSource.FAMILY
    ]
    not_perinatal = ~female[r_person] | (r_age < 15) | (r_age > 44)
    r_source[(r_source == _SRC[ReferralSource.PERINATAL]) & not_perinatal] = _SRC[ReferralSource.SELF]

    # -- service rows → episodes (module _episodes) ------------------------------------------------
    rows = Rows.from_events(ev)
    eps = build_episodes(ev, rows, refs, county=county, cal=cal, rng=rng, n_steps=T)
    e_person, e_prog, e_start = eps.person, eps.program, eps.start
    ref_ok, safe_ref = eps.has_referral, eps.referral
    n_ep = e_person.size

    # ids in order of start date, then person
    e_order = np.lexsort((e_person, e_start))
    e_rank = np.empty(n_ep, dtype=np.int64)
    e_rank[e_order] = np.arange(n_ep)
    episode_ids = ids("EPI", n_ep, 8)
    referral_ids = ids("REF", r_step.size, 8)
    program_ids = county.ids
    planned = e_start + county.planned_days[e_prog]
    end_reasons = np.asarray(_END_REASONS, dtype=object)[eps.reason]
    episodes = pa.table(
        {
            "episode_id": episode_ids,
            "person_id": take(people["person_id"], e_person[e_order]),
            "program_id": take(program_ids, e_prog[e_order]),
            "referral_id": take(referral_ids, safe_ref[e_order], null=~ref_ok[e_order]),
            "start_date": dates(e_start[e_order]),
            "planned_end_date": dates(planned[e_order]),
            "end_date": dates(eps.end[e_order], null=eps.is_open[e_order]),
            "end_reason": pa.array(end_reasons[e_order], pa.string(), mask=eps.is_open[e_order]),
            "is_sud": pa.array(eps.sud[e_order], pa.bool_()),
        }
    )
    # a referral is admitted when an episode starts from it (dated by that episode); otherwise its
    # outcome is the person's next move off the waiting list (module _referrals)
    admitted_on = np.full(r_step.size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(admitted_on, safe_ref[ref_ok], e_start[ref_ok])
    outcome, outcome_day, outcome_reason = outcomes(refs, ev, rng, cal, admitted_on)
    referrals = pa.table(
        {
            "referral_id": referral_ids,
            "person_id": take(people["person_id"], r_person),
            "program_id": take(program_ids, r_prog),
            "referral_date": dates(r_day),
            "source": labels(_SOURCES, r_source),
            "priority": labels(_PRIORITIES, r_prio),
            "outcome": labels(_OUTCOMES, outcome),
            "outcome_date": dates(np.maximum(outcome_day, 0), null=outcome_day < 0),
            "outcome_reason": pa.array(outcome_reason, pa.string()),
        }
    )

    # -- staff, services, measurements -----------------------------------------------------------
    prog = eps.row_program
    e_of_row = np.cumsum(eps.first_row) - 1
    hours = program_hours(result, county, rows, prog)
    end_age = start.year + int(T // round(12 * result.steps_per_month)) - 1 - birth_year
    school_age = int(((end_age >= 5) & (end_age <= 18)).sum())
    due_days = np.asarray(people["pregnancy_due_date"].cast(pa.int32()).fill_null(-1)).astype(np.int64)
    recorded = rows.step >= 0
    open_episodes = np.bincount(prog[recorded], minlength=len(county.kinds)) / max(1, T)
    staff = build_staff(county, hours, open_episodes, teachers=max(1, round(school_age / 400)))
    # the primary member of staff: a case manager in case-management programs, else a clinician
    managed = np.isin(
        np.asarray([k_.value for k_ in county.kinds]), [K.CASE_MANAGEMENT.value, K.ACT_TEAM.value]
    )
    role = np.where(managed[e_prog[e_order]], _CASE_MANAGER_ROLE, 0)
    clinician = staff.pick(e_prog[e_order], role, e_person[e_order])
    episodes = episodes.add_column(
        3, "primary_staff_id", take(staff.table["staff_id"].combine_chunks(), clinician)
    )
    episode_info = _EpisodeInfo(
        row_episode=e_rank[e_of_row],
        row_program=prog,
        first_row=eps.first_row,
        spell_start=eps.spell_start,
        start_day=e_start[e_of_row],
        intake=(eps.spell & ~eps.golive)[e_of_row],
        clinic=eps.clinic[e_of_row],
    )
    crisis = (r_prio == 0) & (r_step >= 0)
    services = services_table(
        rng,
        rows,
        episode_info.as_kwargs(),
        cal=cal,
        county=county,
        staff=staff,
        people_ids=people["person_id"],
        episode_ids=episode_ids,
        cm_coverage=_cm_coverage(result),
        params=result.parameters,
        crisis=(r_person[crisis], r_day[crisis]),
        pregnancy_due=due_days,
    )
    measurements = measurements_table(
        rng,
        rows,
        episode_info.as_kwargs(),
        cal=cal,
        people_ids=people["person_id"],
        episode_ids=episode_ids,
        pregnancy_due=due_days,
    )
    ages_now = start.year - birth_year
    still_waiting = np.bincount(r_prog[outcome == 0], minlength=len(county.kinds))  # outcome 0: waiting
    capacity = capacity_slots(
        county, rows, prog, result, r_prio[r_step >= 0], ages=ages_now, female=female, waiting=still_waiting
    )
    tables = {
        "people": people,
        "programs": programs_table(county, capacity),
        "staff": staff.table,
        "referrals": referrals,
        "episodes": episodes,
        "services": services,
        "measurements": measurements,
    }
    return {name: t.select(arrow_schema(name).names).cast(arrow_schema(name)) for name, t in tables.items()}


@dataclass(frozen=True, slots=True)
class _EpisodeInfo:
    row_episode: npt.NDArray[Any]
    row_program: npt.NDArray[Any]
    first_row: npt.NDArray[Any]
    spell_start: npt.NDArray[Any]
    start_day: npt.NDArray[Any]
    intake: npt.NDArray[Any]
    clinic: npt.NDArray[Any]  # in a clinic program (weekday contacts), not crisis, inpatient or residential

    def as_kwargs(self) -> dict[str, npt.NDArray[Any]]:
        return {name: getattr(self, name) for name in self.__slots__}


def _sources(
    rng: np.random.Generator, prio: npt.NDArray[Any], reason: npt.NDArray[Any]
) -> npt.NDArray[np.int64]:
    out = np.full(prio.size, _SRC[ReferralSource.OTHER], dtype=np.int64)
    for level, mix in _SOURCE_MIX.items():
        sel = np.flatnonzero((prio == level) & (reason == ReferralReason.NEW))
        codes = np.array([_SRC[s] for s in mix])
        out[sel] = codes[rng.choice(codes.size, size=sel.size, p=np.array(list(mix.values())))]
    out[reason == ReferralReason.FAST_RETURN] = _SRC[ReferralSource.SELF]
    return out


def _cm_coverage(result: RunResult) -> npt.NDArray[np.float64]:
    """Per step, delivered / basic case-management hours (scales case-management contacts; 0 to 3)."""
    p, s = result.parameters, result.series
    demand = (
        s["case_management_only"] * p.hours_case_management
        + s["recovered_in_service"] * p.hours_maintenance_case_management
        + s["in_treatment"] * s["cm_support"] * p.hours_treatment_case_management
    ) / result.steps_per_month
    delivered = s["case_management_hours"]
    return np.where(demand > 0, delivered / np.maximum(demand, 1e-9), 1.0)


__all__ = ["Calendar", "EventRecord", "to_event_log"]
