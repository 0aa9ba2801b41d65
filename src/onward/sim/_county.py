"""The synthetic county's fixed structure: programs (by kind and level of care) and their staff."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from onward.model.eventlog import ProgramKind, Sex, StaffRole
from onward.sim._arrow import Calendar, dates, ids, labels
from onward.sim._rows import Rows
from onward.sim.result import RunResult
from onward.sim.states import State

K = ProgramKind
_AREAS = (
    "North",
    "South",
    "East",
    "West",
    "Central",
    "Riverside",
    "Hillside",
    "Lakeside",
    "Valley",
    "Harbor",
)
LEVEL_OF_CARE: dict[ProgramKind, int] = {
    K.SCHOOL: 1,
    K.PERINATAL: 1,
    K.OUTPATIENT: 1,
    K.CASE_MANAGEMENT: 1,
    K.MEDICATION_FOR_OUD: 1,
    K.INTENSIVE_OUTPATIENT: 2,
    K.ACT_TEAM: 2,
    K.RESIDENTIAL: 3,
    K.CRISIS: 4,
    K.INPATIENT: 5,
}
# Planned length of an episode, set at its start (assumptions except outpatient; a site sets its own).
PLANNED_DAYS: dict[ProgramKind, int] = {
    K.OUTPATIENT: 120,  # NHS Talking Therapies: mean 6.9 sessions, weekly to fortnightly ≈ 4 months
    K.INTENSIVE_OUTPATIENT: 90,
    K.MEDICATION_FOR_OUD: 365,
    K.CASE_MANAGEMENT: 180,
    K.ACT_TEAM: 365,
    K.RESIDENTIAL: 28,
    K.INPATIENT: 21,
    K.CRISIS: 7,
    K.SCHOOL: 270,
    K.PERINATAL: 270,
}
ROLES = tuple(StaffRole)
# Staff mix by kind of program (assumption; a site's own staff table replaces it).
_TREATMENT_MIX = {"clinician": 0.6, "prescriber": 0.12, "case_manager": 0.13, "peer_specialist": 0.1}
_CM_MIX = {"case_manager": 0.65, "peer_specialist": 0.15, "clinician": 0.1, "prescriber": 0.05}
HOURS_PER_FTE_MONTH = 40 * 52 / 12


@dataclass(frozen=True, slots=True)
class County:
    """Programs as parallel arrays (index = program) plus where each kind of care happens."""

    kinds: tuple[ProgramKind, ...]
    names: tuple[str, ...]
    clinics: npt.NDArray[np.int64]  # outpatient clinic program indices (people spread over them)

    def index(self, kind: ProgramKind) -> int:
        return self.kinds.index(kind)

    @property
    def levels(self) -> npt.NDArray[np.int64]:
        return np.array([LEVEL_OF_CARE[k] for k in self.kinds])

    @property
    def planned_days(self) -> npt.NDArray[np.int64]:
        return np.array([PLANNED_DAYS[k] for k in self.kinds])

    @property
    def ids(self) -> pa.Array:
        return ids("PRG", len(self.kinds), 3)


def build_county(people: int) -> County:
    """One outpatient clinic per 50,000 residents (at least one, at most ten), one of every other kind."""
    n_clinics = min(len(_AREAS), max(1, round(people / 50_000)))
    kinds: list[ProgramKind] = [K.OUTPATIENT] * n_clinics
    names = [f"{_AREAS[i]} outpatient clinic" for i in range(n_clinics)]
    others = (
        (K.INTENSIVE_OUTPATIENT, "Intensive outpatient program"),
        (K.ACT_TEAM, "Assertive community treatment team"),
        (K.CASE_MANAGEMENT, "Community case management"),
        (K.MEDICATION_FOR_OUD, "Substance-use outpatient and opioid treatment program"),
        (K.RESIDENTIAL, "Residential substance-use treatment"),
        (K.INPATIENT, "Acute psychiatric inpatient unit"),
        (K.CRISIS, "Mobile crisis and stabilization"),
        (K.SCHOOL, "School skills program"),
        (K.PERINATAL, "Perinatal skills and screening"),
    )
    for kind, name in others:
        kinds.append(kind)
        names.append(name)
    return County(tuple(kinds), tuple(names), np.arange(n_clinics))


def programs_table(county: County, capacity: npt.NDArray[Any]) -> pa.Table:
    return pa.table(
        {
            "program_id": county.ids,
            "name": pa.array(county.names, pa.string()),
            "kind": pa.array([k.value for k in county.kinds], pa.string()),
            "level_of_care": pa.array(county.levels, pa.int64()),
            "capacity_slots": pa.array(np.asarray(capacity, dtype=np.int64), pa.int64()),
        }
    )


@dataclass(frozen=True, slots=True)
class Staff:
    table: pa.Table
    offset: npt.NDArray[np.int64]  # [program, role] → first staff index
    count: npt.NDArray[np.int64]  # [program, role] → number of staff (falls back to clinicians)

    def pick(
        self, program: npt.NDArray[Any], role: npt.NDArray[Any], person: npt.NDArray[Any]
    ) -> npt.NDArray[Any]:
        """A stable member of staff per person, program and role (people keep their clinician)."""
        off, cnt = self.offset[program, role], self.count[program, role]
        picked: npt.NDArray[Any] = off + (person * 7919 + role) % cnt
        return picked


#: Open episodes per primary clinician (case manager in case-management programs) a program staffs
#: for: ACT teams 1 to 10 (SAMHSA ACT evidence-based practices kit), intensive case management under
#: 20 (Dieterich et al. 2017), the rest assumptions within the 15-80 open episodes that community
#: clinicians typically carry (docs/references.md).
CASELOAD: dict[ProgramKind, int] = {
    K.OUTPATIENT: 50,
    K.MEDICATION_FOR_OUD: 50,
    K.CASE_MANAGEMENT: 35,
    K.ACT_TEAM: 10,
    K.INTENSIVE_OUTPATIENT: 15,
    K.RESIDENTIAL: 8,
    K.INPATIENT: 6,
    K.CRISIS: 10,
    K.SCHOOL: 50,
    K.PERINATAL: 50,
}


def build_staff(
    county: County, monthly_hours: npt.NDArray[Any], open_episodes: npt.NDArray[Any], *, teachers: int
) -> Staff:
    """Staff per program in proportion to the hours of care it delivers, and enough primary clinicians
    (case managers in case-management programs) for its mean open episodes at CASELOAD each."""
    n_prog, n_role = len(county.kinds), len(ROLES)
    counts = np.zeros((n_prog, n_role), dtype=np.int64)
    role_index = {r.value: i for i, r in enumerate(ROLES)}
    for p, kind in enumerate(county.kinds):
        fte = float(monthly_hours[p]) / HOURS_PER_FTE_MONTH
        managed = kind in (K.CASE_MANAGEMENT, K.ACT_TEAM)
        mix = _CM_MIX if managed else _TREATMENT_MIX
        for role, share in mix.items():
            counts[p, role_index[role]] = max(1, math.ceil(fte * share))
        primary = role_index["case_manager" if managed else "clinician"]
        counts[p, primary] = max(counts[p, primary], math.ceil(float(open_episodes[p]) / CASELOAD[kind]))
        counts[p, role_index["manager"]] = 1
        if kind == K.SCHOOL:
            counts[p, role_index["teacher"]] = max(1, teachers)
    counts[0, role_index["leader"]] = 2  # system leaders sit with the first program
    flat = counts.ravel()
    n = int(flat.sum())
    program = np.repeat(np.repeat(np.arange(n_prog), n_role), flat)
    role_of = np.repeat(np.tile(np.arange(n_role), n_prog), flat)
    hours = np.full(n, 40)
    hours[np.arange(n) % 4 == 3] = 32
    hours[np.arange(n) % 7 == 6] = 20
    table = pa.table(
        {
            "staff_id": ids("STF", n, 5),
            "role": labels([r.value for r in ROLES], role_of),
            "program_id": county.ids.take(pa.array(program)),
            "hours_per_week": pa.array(hours, pa.int64()),
        }
    )
    offset = (np.cumsum(flat) - flat).reshape(n_prog, n_role)
    clinician = role_index["clinician"]
    fallback = counts == 0
    offset = np.where(fallback, offset[:, [clinician]], offset)
    count = np.where(fallback, counts[:, [clinician]], counts)
    return Staff(table, offset, count)


def people_table(
    result: RunResult, rng: np.random.Generator, cal: Calendar, here: npt.NDArray[Any], *, start_year: int
) -> pa.Table:
    """Everyone who lived in the county during the recorded years (born, moved in, died or moved away
    included), in order of arrival. School grade and pregnancy are as of the end of the extract."""
    pop = result.population
    n = int(here.sum())
    steps_per_year = round(12 * result.steps_per_month)
    # the engine's calendar moved to the extract's: the recorded years start in start_year
    birth = (
        pop.birth_year[here].astype(np.int64)
        + start_year
        - (pop.start_year + pop.record_start // steps_per_year)
    )
    end_year = start_year + result.n_steps // steps_per_year
    age = end_year - 1 - birth  # age at the last day of the extract (birthdays spread over the year)
    still_here = pop.left[here] >= result.n_steps
    u = rng.random(n)
    sex = np.where(pop.female[here], 0, 1)  # Sex order: female, male, other, unknown
    sex = np.where(u < 0.003, 2, np.where(u < 0.01, 3, sex))
    n_prefix = max(2, min(10, n // 40_000))
    prefix = np.array([f"97{i}" for i in range(n_prefix)], dtype=object)[rng.integers(0, n_prefix, n)]
    grade = np.clip(age - 5, 0, 12)
    in_school = (age >= 5) & (age <= 17) & still_here
    # the latest pregnancy: due during the extract, or still pregnant at its end
    due_step = pop.due[here].astype(np.int64)
    pregnancy_steps = round(9 * result.steps_per_month)
    expecting = (due_step >= 0) & (due_step < result.n_steps + pregnancy_steps)
    due = cal.within(np.where(expecting, due_step, 0), rng.random(n))
    return pa.table(
        {
            "person_id": ids("PER", n, 7),
            "birth_year": pa.array(birth, pa.int64()),
            "sex": labels([s.value for s in Sex], sex),
            "postcode_prefix": pa.array(prefix, pa.string()),
            "school_grade": pa.array(grade, pa.int64(), mask=~in_school),
            "pregnancy_due_date": dates(due, null=~expecting),
        }
    )


def program_hours(
    result: RunResult, county: County, rows: Rows, prog: npt.NDArray[Any]
) -> npt.NDArray[np.float64]:
    """Mean monthly staff hours each program delivers (sizes its staff)."""
    p = result.parameters
    per_state = np.zeros(len(State))
    per_state[[State.TREATMENT_OUTPATIENT, State.TREATMENT_INTENSIVE, State.TREATMENT_RESIDENTIAL]] = (
        p.hours_outpatient,
        p.hours_intensive,
        p.hours_residential,
    )
    per_state[State.CASE_MANAGEMENT_ONLY] = p.hours_case_management
    per_state[State.RECOVERED_IN_SERVICE] = p.hours_maintenance + p.hours_maintenance_case_management
    months = max(1.0, result.n_steps / result.steps_per_month)
    recorded = (rows.step >= 0).astype(np.float64)
    hours = (
        np.bincount(prog, weights=per_state[rows.state] * recorded, minlength=len(county.kinds))
        / result.steps_per_month
    )
    hours = hours / months
    for kind in (K.CRISIS, K.SCHOOL, K.PERINATAL):
        hours[county.index(kind)] = max(hours[county.index(kind)], HOURS_SMALL_PROGRAM)
    return hours


HOURS_SMALL_PROGRAM = 4 * 173.0  # programs without episodes get a small team (assumption)


def capacity_slots(
    county: County,
    rows: Rows,
    prog: npt.NDArray[Any],
    result: RunResult,
    r_prio: npt.NDArray[Any],
    *,
    ages: npt.NDArray[Any],
    female: npt.NDArray[Any],
    waiting: npt.NDArray[Any],
) -> npt.NDArray[Any]:
    """Slots: 10 % above each program's busiest step, but a program with people still waiting at the
    end is full then (its slots = its open episodes): the simulated queue exists only because treatment
    hours ran out, so the log never shows free places beside a waiting list. Skills programs are sized
    to their population. `waiting` counts the referrals still waiting per program."""
    n_prog, T = len(county.kinds), result.n_steps
    rec = rows.step >= 0
    occupancy = np.bincount(prog[rec] * T + rows.step[rec], minlength=n_prog * T).reshape(n_prog, T)
    slots = np.ceil(occupancy.max(axis=1) * 1.1).astype(np.int64)
    full = np.asarray(waiting)[:n_prog] > 0
    slots = np.where(full, np.maximum(occupancy[:, T - 1], 1), slots).astype(np.int64)
    slots[county.index(K.SCHOOL)] = max(1, int(((ages >= 5) & (ages <= 18)).sum() * 0.25))
    women = int((female & (ages >= 15) & (ages <= 44)).sum())
    slots[county.index(K.PERINATAL)] = max(1, math.ceil(women * 0.0545 / 2))
    emergent_per_step = float((r_prio == 0).sum()) / max(1, T)
    slots[county.index(K.CRISIS)] = max(1, math.ceil(emergent_per_step * 1.5))
    out: npt.NDArray[Any] = slots
    return out
