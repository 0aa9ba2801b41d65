from __future__ import annotations

import numpy as np
import pytest

from onward.sim.engine import run
from onward.sim.parameters import load_parameters
from onward.sim.result import RunResult
from onward.sim.scenario import Scenario, load_scenario
from onward.sim.states import IN_TREATMENT, State

STATUS_QUO = Scenario(name="status-quo")
STOCKS = (
    "well",
    "unwell",
    "waiting",
    "in_treatment",
    "case_management_only",
    "recovered_in_service",
    "graduated",
    "left",
)


def test_same_seed_gives_identical_arrays() -> None:
    a = run(STATUS_QUO, people=5_000, years=2, seed=7, record_events=True)
    b = run(STATUS_QUO, people=5_000, years=2, seed=7, record_events=True)
    for key in a.series:
        np.testing.assert_array_equal(a.series[key], b.series[key])
    assert a.summary == pytest.approx(b.summary, nan_ok=True)
    assert a.events is not None and b.events is not None
    np.testing.assert_array_equal(a.events.svc_person, b.events.svc_person)
    np.testing.assert_array_equal(a.events.chg_to, b.events.chg_to)
    np.testing.assert_array_equal(a.final_state, b.final_state)


def test_different_seed_gives_different_run() -> None:
    a = run(STATUS_QUO, people=5_000, years=2, seed=1)
    b = run(STATUS_QUO, people=5_000, years=2, seed=2)
    assert not np.array_equal(a.series["new_cases"], b.series["new_cases"])


@pytest.mark.parametrize("step", ["month", "week"])
def test_everyone_is_in_exactly_one_state_each_step(step: str) -> None:
    result = run(STATUS_QUO, people=3_000, years=1, seed=3, step=step)  # type: ignore[arg-type]
    total = sum(result.series[k] for k in STOCKS if k != "left")
    np.testing.assert_array_equal(total, result.series["residents"])
    assert np.all(np.abs(result.series["residents"] / 3_000 - 1) < 0.05)  # births and moves in ≈ out
    parts = sum(
        result.series[k] for k in ("treatment_outpatient", "treatment_intensive", "treatment_residential")
    )
    np.testing.assert_array_equal(parts, result.series["in_treatment"])
    assert result.n_steps == (12 if step == "month" else 52)
    final = np.bincount(result.final_state, minlength=len(State))
    for key, state in (
        ("well", State.WELL),
        ("unwell", State.UNWELL),
        ("waiting", State.WAITING),
        ("case_management_only", State.CASE_MANAGEMENT_ONLY),
        ("graduated", State.GRADUATED),
        ("recovered_in_service", State.RECOVERED_IN_SERVICE),
    ):
        assert result.series[key][-1] == final[state], key
    gone = result.series["deaths"] + result.series["moves_out"]
    np.testing.assert_array_equal(np.cumsum(gone), result.series["left"])


@pytest.mark.parametrize("name", ["status-quo", "treatment-first", "built-to-be-left"])
def test_people_in_services_change_by_exactly_admissions_minus_exits(name: str) -> None:
    # Issue 9: leaving services by death or moving away is an exit like graduating or disengaging.
    result = run(load_scenario(name), people=20_000, years=5, seed=4)
    s = result.series
    np.testing.assert_array_equal(np.diff(s["in_services"]), (s["admissions"] - s["exits"])[1:])
    parts = s["in_treatment"] + s["case_management_only"] + s["recovered_in_service"]
    np.testing.assert_array_equal(parts, s["in_services"])
    assert result.summary["in_services"] == s["in_services"][-1]


def test_the_population_is_open_births_deaths_and_moves_at_public_rates() -> None:
    result = run(STATUS_QUO, people=100_000, years=5, seed=6, record_events=True)
    s, years = result.series, 5
    residents = s["residents"].mean()
    per_1000 = {
        k: s[k].sum() / years / residents * 1000 for k in ("births", "deaths", "moves_in", "moves_out")
    }
    assert 8.5 <= per_1000["births"] <= 12.5  # CDC NCHS 2023: 10.7 births per 1,000 residents a year
    assert 7.0 <= per_1000["deaths"] <= 13.0  # CDC NCHS 2023: about 9.2 deaths per 1,000 a year
    assert 30 <= per_1000["moves_out"] <= 42 and 30 <= per_1000["moves_in"] <= 42  # CPS ASEC: 3-4 %
    assert abs(s["residents"][-1] / s["residents"][0] - 1) < 0.03
    pop = result.population
    arrived = (pop.arrived >= 0) & (pop.arrived < result.n_steps)
    assert arrived.sum() == s["births"].sum() + s["moves_in"].sum()
    # births follow pregnancies: women aged 15-44 were due when their babies were born
    mothers = pop.due < result.n_steps
    assert mothers.sum() >= s["births"].sum() and pop.female[mothers].all()
    age_at_due = 2018 + (pop.due[mothers] + 60) // 12 - pop.birth_year[mothers]
    assert age_at_due.min() >= 15 and age_at_due.max() <= 45
    gone = (pop.left >= 0) & (pop.left < result.n_steps)
    assert gone.sum() == s["left"][-1] and pop.died[gone].sum() == s["deaths"].sum()


def _dropout_rate(result: RunResult) -> float:
    ev = result.events
    assert ev is not None
    treated = (ev.svc_state >= State.TREATMENT_OUTPATIENT) & (ev.svc_state <= State.TREATMENT_RESIDENTIAL)
    left = IN_TREATMENT[ev.chg_from] & (ev.chg_to == State.UNWELL)
    return float(left.sum() / treated.sum())


def test_case_management_lowers_dropout_so_cutting_it_costs_something() -> None:
    base = run(load_scenario("status-quo"), people=50_000, years=4, seed=9, record_events=True)
    first = run(load_scenario("treatment-first"), people=50_000, years=4, seed=9, record_events=True)
    assert first.series["cm_support"].mean() < 0.9 * base.series["cm_support"].mean()
    assert _dropout_rate(first) > 1.03 * _dropout_rate(base)  # the cost of fewer case managers
    no_effect = load_parameters().replace(cm_retention_effect=0.0)
    flat = run(
        load_scenario("status-quo"), people=50_000, years=4, seed=9, parameters=no_effect, record_events=True
    )
    assert _dropout_rate(flat) > 1.1 * _dropout_rate(base)
