"""What a run returns: per-step series, an end-of-run summary, and (optionally) the raw events.

Summary keys (the contract the Monte Carlo runner and reports rely on):

- end-of-run snapshots: ``waiting`` (people on the waiting list), ``in_services`` (people with an
  open episode: in treatment, case management only, or recovered in service), ``stuck`` (open
  episodes of at least 12 months whose PHQ-9 is not reliably better than at admission, i.e. fell by
  fewer than 6 points, the NHS Talking Therapies reliable-change threshold);
- totals over the recorded run (burn-in excluded): ``graduations`` (moves to graduated),
  ``recoveries`` (recoveries while in service, from treatment or case management), ``relapses``
  (recovered-in-service people back into treatment plus graduates who become unwell again),
  ``new_cases`` (well residents who become unwell), ``dropouts`` (people in treatment who
  disengage, back to unwell), ``admissions`` (moves into services) and ``referrals``;
- ``dropout_rate``: dropouts per 100 person-months in treatment (the cost of fewer case managers);
- means over the run: ``mean_wait_days`` (days from referral to admission, over admissions from the
  waiting list: whole steps waited × days per step; NaN when nobody was admitted) and
  ``treatment_share`` (treatment staff hours delivered / treatment + case-management hours delivered,
  the simulated counterpart of the metric of docs/metrics.md). Treatment hours are those of the
  people in treatment and maintenance; case-management hours fill the case-management share of staff
  time, up to 3x the basic hours of the people in case management or maintenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from onward.sim.parameters import Parameters
from onward.sim.perinatal import PERINATAL_KEYS

IntArray = npt.NDArray[Any]  # int32
SmallArray = npt.NDArray[Any]  # uint8
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[Any]  # bool

SUMMARY_KEYS: tuple[str, ...] = (
    "waiting",
    "mean_wait_days",
    "in_services",
    "stuck",
    "graduations",
    "recoveries",
    "relapses",
    "dropouts",
    "dropout_rate",
    "new_cases",
    "new_cases_school_age",
    "treatment_share",
    "admissions",
    "referrals",
    *PERINATAL_KEYS,
)

SERIES_KEYS: tuple[str, ...] = (
    "month",
    "well",
    "unwell",
    "waiting",
    "in_treatment",
    "treatment_outpatient",
    "treatment_intensive",
    "treatment_residential",
    "case_management_only",
    "recovered_in_service",
    "graduated",
    "left",
    "in_services",
    "residents",
    "admissions",
    "exits",
    "referrals",
    "new_cases",
    "new_cases_school_age",
    "recoveries",
    "graduations",
    "relapses",
    "dropouts",
    "stuck",
    "treatment_hours",
    "case_management_hours",
    "skills_protected",
    "births",
    "deaths",
    "moves_in",
    "moves_out",
    "pregnancies",
    "cm_support",
)
"""Stocks (well … graduated, in_services, residents, stuck, skills_protected) are counted at the end of
each step; ``left`` counts the people who died or moved away since the recorded run started. Flows
(admissions … relapses, births … pregnancies) and hours are totals within the step: ``admissions``
are moves into services from outside them and ``exits`` moves out of them (graduating, disengaging,
dying, moving away), so ``in_services`` changes by exactly admissions − exits every step.
``cm_support`` is the share of people in treatment with a case manager that step. ``month`` is the
end of the step in months since the start (1, 2, … for monthly steps)."""


class ReferralReason:
    """Why a referral happened (codes in EventRecord.ref_reason)."""

    NEW = 0  # an unwell person asks for help
    STEP_UP = 1  # from case management only back to treatment
    FAST_RETURN = 2  # a relapsing graduate comes straight back


@dataclass(slots=True)
class EventRecord:
    """Raw events of a recorded run, as parallel arrays; `onward.sim.eventlog` turns them into tables.

    Steps are 0-based indices of the recorded run; people are person numbers (Population's index).
    Service rows list every person with an open episode at the end of each step.
    """

    ref_step: IntArray
    ref_person: IntArray
    ref_priority: SmallArray  # 0 emergent, 1 urgent, 2 routine
    ref_reason: SmallArray
    ref_sud: BoolArray
    chg_step: IntArray
    chg_person: IntArray
    chg_from: SmallArray
    chg_to: SmallArray
    svc_step: IntArray
    svc_person: IntArray
    svc_state: SmallArray
    svc_phq: SmallArray
    svc_sud: BoolArray
    svc_base: SmallArray  # PHQ-9 at admission of the open episode
    svc_cm: BoolArray  # in treatment with a case manager's support this step
    gone_step: IntArray  # deaths and moves away
    gone_person: IntArray
    gone_died: BoolArray
    # People waiting or in services when recording started, with their (negative) steps of referral,
    # admission and start of the current episode's program; -1 - start when it never happened.
    pre_person: IntArray
    pre_state: SmallArray
    pre_referred: IntArray
    pre_admitted: IntArray
    pre_episode: IntArray
    pre_priority: SmallArray
    pre_reason: SmallArray
    pre_sud: BoolArray
    pre_base: SmallArray


@dataclass(slots=True)
class Population:
    """Everyone who lived in the county during the run (index = person number, in order of arrival).

    Steps are counted from the start of the recorded run (negative: during the burn-in); `left` and
    `due` hold 2**31 - 1 for "never" (still here; no pregnancy). `due` is the latest pregnancy's due step.
    """

    birth_year: npt.NDArray[np.int16]
    female: BoolArray
    start_year: int  # the calendar year the burn-in started
    arrived: IntArray
    left: IntArray
    died: BoolArray
    due: IntArray
    record_start: int  # steps of burn-in before the recorded run


@dataclass(slots=True)
class RunResult:
    """One simulation run; see the module docstring for the meaning of every summary key."""

    scenario: str
    parameters: Parameters
    people: int
    years: float
    seed: int
    step: str
    steps_per_month: float
    days_per_step: float
    n_steps: int
    series: dict[str, FloatArray]
    summary: dict[str, float]
    population: Population
    events: EventRecord | None = None
    final_state: SmallArray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
