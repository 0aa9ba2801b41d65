"""The vectorised engine: everyone's state in NumPy arrays, every step drawn at once from one Generator.

A step (a month by default) does, in order: (1) skills exposure, (2) each person's transition out of
their current state (one uniform draw per person, competing risks in a fixed order), (3) admission
from the waiting list into the treatment hours left free, by priority then time waited. No Python
loop runs over people, so Numba is not used (docs/simulation.md, "Performance").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np

from onward.sim._model import BURN_IN_MONTHS, DAYS_PER_MONTH, Model, per_step
from onward.sim.parameters import Parameters
from onward.sim.perinatal import perinatal_summary
from onward.sim.result import SERIES_KEYS, RunResult
from onward.sim.scenario import Scenario
from onward.sim.states import IN_SERVICE, State

__all__ = ["BURN_IN_MONTHS", "DAYS_PER_MONTH", "Progress", "StepKind", "per_step", "run"]

StepKind = Literal["month", "week"]
Progress = Callable[[int, int], None]


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
        model.rec.start(model)
    model.departed = 0
    series = {key: np.zeros(n_steps) for key in (*SERIES_KEYS, "wait_steps", "queue_admissions")}
    for t in range(n_steps):
        model.step(series, t)
        model.t_global += 1
        if progress is not None:
            progress(t + 1, n_steps)
    days_per_step = DAYS_PER_MONTH / spm
    admissions = float(series["admissions"].sum())
    from_queue = float(series["queue_admissions"].sum())
    treat, cm = float(series["treatment_hours"].sum()), float(series["case_management_hours"].sum())
    final = model.state
    summary = {
        "waiting": float(np.count_nonzero(final == State.WAITING)),
        "mean_wait_days": float(series["wait_steps"].sum() / from_queue * days_per_step)
        if from_queue
        else math.nan,
        "in_services": float(np.count_nonzero(IN_SERVICE[final])),
        "stuck": float(series["stuck"][-1]),
        "graduations": float(series["graduations"].sum()),
        "recoveries": float(series["recoveries"].sum()),
        "relapses": float(series["relapses"].sum()),
        "dropouts": float(series["dropouts"].sum()),
        "dropout_rate": float(100 * series["dropouts"].sum() / series["in_treatment"].sum() * spm)
        if series["in_treatment"].sum()
        else math.nan,
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
        population=model.rec.population(model.start_year),
        events=model.rec.events() if record_events else None,
        final_state=final,
    )
