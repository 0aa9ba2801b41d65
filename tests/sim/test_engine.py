from __future__ import annotations

import numpy as np
import pytest

from onward.sim._model import Model
from onward.sim.engine import per_step, run
from onward.sim.parameters import load_parameters
from onward.sim.scenario import Scenario, builtin_scenarios, load_scenario
from onward.sim.states import State

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
    total = sum(result.series[k] for k in STOCKS)
    np.testing.assert_array_equal(total, np.full(result.n_steps, 3_000.0))
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
        ("left", State.LEFT),
    ):
        assert result.series[key][-1] == final[state], key


def test_admissions_never_exceed_free_treatment_hours() -> None:
    # Without emergent referrals (always admitted), admission stops when treatment hours are used up.
    params = load_parameters().replace(emergent_share=0.0, staff_hours_per_1000=60.0)
    result = run(STATUS_QUO, people=20_000, years=3, seed=5, parameters=params)
    capacity = 60.0 * 20 * (1 - params.case_management_share)
    admitted = result.series["admissions"] > 0
    assert admitted.any() and (result.series["waiting"] > 0).any()
    assert np.all(result.series["treatment_hours"][admitted] <= capacity + 1e-6)


def _tiny_model(capacity_hours: float) -> Model:
    params = load_parameters()
    model = Model(params, people=8, seed=0, spm=1.0, start_year=2020)
    model.treatment_capacity = capacity_hours
    model.state[:] = State.WELL
    return model


def test_admission_order_is_priority_then_longest_wait() -> None:
    model = _tiny_model(capacity_hours=3 * load_parameters().hours_outpatient)
    new = model.state.copy()
    waiting = np.array([0, 1, 2, 3, 4, 5])
    new[waiting] = State.WAITING
    model.priority[waiting] = [2, 2, 1, 2, 1, 2]  # urgent: 2 and 4
    model.admit_level[waiting] = State.TREATMENT_OUTPATIENT
    model.t_global = 10
    model.entered[waiting] = 10 - np.array([5, 9, 1, 3, 2, 0])  # waited 5, 9, 1, 3, 2, 0 steps
    counts = np.bincount(new, minlength=len(State))
    admitted, waited, _ = model._admit(new, np.arange(8), counts)
    assert admitted.tolist() == [
        4,
        2,
        1,
    ]  # both urgent (longest wait first), then the routine one who waited 9
    assert set(np.flatnonzero(new == State.TREATMENT_OUTPATIENT).tolist()) == {4, 2, 1}
    assert waited == 2 + 1 + 9
    assert counts[State.WAITING] == 3 and counts[State.TREATMENT_OUTPATIENT] == 3
    np.testing.assert_array_equal(counts, np.bincount(new, minlength=len(State)))


def test_emergent_referrals_are_admitted_even_without_free_hours() -> None:
    model = _tiny_model(capacity_hours=0.0)
    new = model.state.copy()
    new[[0, 1]] = State.WAITING
    model.priority[[0, 1]] = [0, 2]
    model.admit_level[[0, 1]] = [State.TREATMENT_RESIDENTIAL, State.TREATMENT_OUTPATIENT]
    admitted, _, _ = model._admit(new, np.arange(8), np.bincount(new, minlength=len(State)))
    assert admitted.tolist() == [0] and new[0] == State.TREATMENT_RESIDENTIAL and new[1] == State.WAITING


def test_per_step_conversion_compounds_back_to_the_monthly_probability() -> None:
    weekly = per_step(0.2, 52 / 12)
    assert 1 - (1 - weekly) ** (52 / 12) == pytest.approx(0.2)
    assert per_step(0.2, 1.0) == pytest.approx(0.2)


@pytest.mark.parametrize("name", builtin_scenarios())
def test_builtin_scenarios_smoke_run(name: str) -> None:
    result = run(load_scenario(name), people=4_000, years=2, seed=11)
    assert result.scenario == name
    assert set(result.summary) >= {
        "waiting",
        "mean_wait_days",
        "in_services",
        "stuck",
        "graduations",
        "recoveries",
        "relapses",
        "new_cases",
        "treatment_share",
    }
    assert result.summary["new_cases"] > 0 and 0 < result.summary["treatment_share"] <= 1


def test_built_to_be_left_graduates_more_and_leaves_fewer_stuck() -> None:
    base = run(load_scenario("status-quo"), people=30_000, years=4, seed=21)
    left = run(load_scenario("built-to-be-left"), people=30_000, years=4, seed=21)
    assert left.summary["graduations"] > 1.5 * base.summary["graduations"]
    assert left.summary["stuck"] < 0.6 * base.summary["stuck"]


def test_treatment_first_shortens_waits() -> None:
    base = run(load_scenario("status-quo"), people=30_000, years=4, seed=22)
    first = run(load_scenario("treatment-first"), people=30_000, years=4, seed=22)
    assert first.summary["mean_wait_days"] < 0.5 * base.summary["mean_wait_days"]
    assert first.summary["treatment_share"] > base.summary["treatment_share"]


def test_school_skills_reduce_new_cases() -> None:
    base = run(load_scenario("status-quo"), people=100_000, years=5, seed=23)
    schools = run(load_scenario("skills-schools"), people=100_000, years=5, seed=23)
    assert schools.series["skills_protected"][-1] > 0
    assert schools.summary["new_cases"] < base.summary["new_cases"]


def test_rejects_nonsense_arguments() -> None:
    with pytest.raises(ValueError, match="people"):
        run(STATUS_QUO, people=0, years=1, seed=1)
    with pytest.raises(ValueError, match="step"):
        run(STATUS_QUO, people=10, years=1, seed=1, step="day")  # type: ignore[arg-type]
