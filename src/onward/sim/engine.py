"""The vectorised engine: everyone's state in NumPy arrays, every step drawn at once from one Generator.

A step (a month by default) does, in order: (1) skills exposure, (2) each person's transition out of
their current state (one uniform draw per person, competing risks in a fixed order), (3) admission
from the waiting list into the treatment hours left free, by priority then time waited. No Python
loop runs over people, so Numba is not used (docs/simulation.md, "Performance").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from onward.sim._model import BURN_IN_MONTHS, DAYS_PER_MONTH, Model, per_step
from onward.sim.parameters import Parameters
from onward.sim.perinatal import perinatal_summary
from onward.sim.result import SERIES_KEYS, EventRecord, RunResult
from onward.sim.scenario import Scenario
from onward.sim.states import IN_SERVICE, State

__all__ = ["BURN_IN_MONTHS", "DAYS_PER_MONTH", "Progress", "StepKind", "per_step", "run"]

StepKind = Literal["month", "week"]
Progress = Callable[[int, int], None]


def _events(rec: dict[str, list[tuple[npt.NDArray[Any], ...]]]) -> EventRecord:
    """Concatenate the per-step event chunks into one array per field."""

    def cat(name: str, i: int, dtype: type[np.generic]) -> npt.NDArray[Any]:
        parts = [row[i] for row in rec[name]]
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)

    ref, chg, svc = "ref", "chg", "svc"
    return EventRecord(
        ref_step=cat(ref, 0, np.int32),
        ref_person=cat(ref, 1, np.int32),
        ref_priority=cat(ref, 2, np.uint8),
        ref_reason=cat(ref, 3, np.uint8),
        ref_sud=cat(ref, 4, np.bool_),
        chg_step=cat(chg, 0, np.int32),
        chg_person=cat(chg, 1, np.int32),
        chg_from=cat(chg, 2, np.uint8),
        chg_to=cat(chg, 3, np.uint8),
        svc_step=cat(svc, 0, np.int32),
        svc_person=cat(svc, 1, np.int32),
        svc_state=cat(svc, 2, np.uint8),
        svc_phq=cat(svc, 3, np.uint8),
        svc_sud=cat(svc, 4, np.bool_),
        svc_base=cat(svc, 5, np.uint8),
    )


def run(
    scenario: Scenario,
    *,
    people: int,
    years: float,
    seed: int,
    step: StepKind = "month",
    record_events: bool = False,
    parameters: Parameters | None = None,
    burn_in_months: int = BURN_IN_MONTHS,
    start_year: int = 2023,
    progress: Progress | None = None,
) -> RunResult:
    """Simulate `people` residents for `years` under `scenario`; same arguments, same result.

    `parameters` replaces the defaults the scenario starts from (e.g. calibrated values). The run
    starts after `burn_in_months` unrecorded months that fill waiting lists and caseloads.
    `progress(done, total)` is called after each recorded step.
    """
    if people < 1:
        raise ValueError("people must be at least 1")
    if years <= 0:
        raise ValueError("years must be positive")
    if step not in ("month", "week"):
        raise ValueError(f"step must be 'month' or 'week', not {step!r}")
    params = scenario.parameters(parameters)
    spm = 1.0 if step == "month" else 52.0 / 12.0
    n_steps = max(1, round(years * 12 * spm))
    model = Model(
        params, people=people, seed=seed, spm=spm, start_year=start_year - math.ceil(burn_in_months / 12)
    )
    for _ in range(round(burn_in_months * spm)):
        model.step(None, 0)
        model.t_global += 1
    if record_events:
        model.rec = {"ref": [], "chg": [], "svc": []}
    series = {key: np.zeros(n_steps) for key in (*SERIES_KEYS, "wait_steps")}
    for t in range(n_steps):
        model.step(series, t)
        model.t_global += 1
        if progress is not None:
            progress(t + 1, n_steps)
    days_per_step = DAYS_PER_MONTH / spm
    admissions = float(series["admissions"].sum())
    treat, cm = float(series["treatment_hours"].sum()), float(series["case_management_hours"].sum())
    final = model.state
    summary = {
        "waiting": float(np.count_nonzero(final == State.WAITING)),
        "mean_wait_days": float(series["wait_steps"].sum() / admissions * days_per_step)
        if admissions
        else math.nan,
        "in_services": float(np.count_nonzero(IN_SERVICE[final])),
        "stuck": float(series["stuck"][-1]),
        "graduations": float(series["graduations"].sum()),
        "recoveries": float(series["recoveries"].sum()),
        "relapses": float(series["relapses"].sum()),
        "new_cases": float(series["new_cases"].sum()),
        "new_cases_school_age": float(series["new_cases_school_age"].sum()),
        "treatment_share": treat / (treat + cm) if treat + cm > 0 else math.nan,
        "admissions": admissions,
        "referrals": float(series["referrals"].sum()),
    }
    summary |= perinatal_summary(  # docs/whatif.md, "Skills levers"
        series=series,
        people=people,
        steps_per_month=spm,
        prenatal_coverage=params.prenatal_coverage,
        phase_in_months=params.skills_phase_in_months,
        seed=seed,
    )
    return RunResult(
        scenario=scenario.name,
        parameters=params,
        people=people,
        years=years,
        seed=seed,
        step=step,
        steps_per_month=spm,
        days_per_step=days_per_step,
        n_steps=n_steps,
        series=series,
        summary=summary,
        population=model.population,
        events=_events(model.rec) if model.rec is not None else None,
        final_state=final,
    )
