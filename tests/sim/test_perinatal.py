"""The prenatal lever's outcome: perinatal depression within 12 months of birth, with its interval."""

from __future__ import annotations

import math

import numpy as np

from onward.sim.perinatal import (
    CRUDE_BIRTH_RATE,
    PerinatalEffect,
    births_per_month,
    coverage_by_month,
    perinatal_outcome,
    perinatal_summary,
)


def test_no_course_prevents_nothing_and_follows_only_births_with_a_whole_year_observed() -> None:
    births = np.full(60, 100)
    out = perinatal_outcome(births=births, coverage=np.zeros(60), rng=np.random.default_rng(1))
    assert out["perinatal_births"] == 48 * 100  # the last 12 months' births are not followed up yet
    assert out["perinatal_cases_prevented"] == 0
    assert abs(out["perinatal_depression_rate"] - 0.13) < 0.015


def test_full_coverage_multiplies_the_risk_by_the_cited_risk_ratio() -> None:
    births = np.full(120, 2_000)
    effect = PerinatalEffect(risk_ratio_low=0.61, risk_ratio_high=0.61)  # no effect-size spread here
    out = perinatal_outcome(births=births, coverage=np.ones(120), rng=np.random.default_rng(2), effect=effect)
    assert abs(out["perinatal_depression_rate"] - 0.13 * 0.61) < 0.003
    assert math.isclose(PerinatalEffect().log_sd, (math.log(0.78) - math.log(0.47)) / 3.919928)


def test_coverage_phases_in_from_the_first_month() -> None:
    ramp = coverage_by_month(0.7, 36, 48)
    assert math.isclose(ramp[0], 0.7 / 36) and math.isclose(ramp[35], 0.7) and math.isclose(ramp[-1], 0.7)


def test_births_come_from_the_run_when_it_simulates_them_else_from_the_birth_rate() -> None:
    rng = np.random.default_rng(3)
    weekly = {"month": np.arange(52), "births": np.ones(52)}
    assert births_per_month(weekly, 1_000, 52 / 12, rng).sum() == 52
    monthly = births_per_month({"month": np.arange(600)}, 100_000, 1.0, rng)
    assert abs(monthly.mean() - 100_000 * CRUDE_BIRTH_RATE / 12) < 5


def test_at_100000_people_over_5_years_the_prenatal_lever_shows_an_effect_beyond_its_interval() -> None:
    series = {"month": np.arange(60)}
    prevented = [
        perinatal_summary(
            series=series,
            people=100_000,
            steps_per_month=1.0,
            prenatal_coverage=0.7,
            phase_in_months=36,
            seed=s,
        )["perinatal_cases_prevented"]
        for s in range(20)
    ]
    low, high = np.percentile(prevented, [2.5, 97.5])
    assert low > 0 and 50 < np.mean(prevented) < 160
