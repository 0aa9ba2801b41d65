"""The engine against theory no one here wrote: Little's law, Markov-chain stationarity, and a Ciw queue.

Each test configures the engine only through Scenario overrides (no hooks): capacity is removed by
raising staff hours to their hard bound, and time-in-state rules are made memoryless with 1-month courses.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest

from onward.sim.engine import per_step, run
from onward.sim.parameters import Parameters
from onward.sim.scenario import Scenario
from onward.sim.states import IN_SERVICE, N_STATES, State


def _service_spells(
    result: object,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """(entry step, length in steps, closed?) of every spell in service that starts in the recorded run."""
    ev = result.events  # type: ignore[attr-defined]
    enter = ~IN_SERVICE[ev.chg_from] & IN_SERVICE[ev.chg_to]
    leave = IN_SERVICE[ev.chg_from] & ~IN_SERVICE[ev.chg_to]
    person = np.concatenate([ev.chg_person[enter], ev.chg_person[leave]]).astype(np.int64)
    step = np.concatenate([ev.chg_step[enter], ev.chg_step[leave]]).astype(np.int64)
    is_entry = np.concatenate([np.ones(enter.sum(), bool), np.zeros(leave.sum(), bool)])
    order = np.lexsort((step, person))  # a person has at most one service move per step
    person, step, is_entry = person[order], step[order], is_entry[order]
    closed = np.zeros(person.size, bool)
    closed[:-1] = (person[1:] == person[:-1]) & ~is_entry[1:]
    length = np.zeros(person.size, np.int64)
    length[:-1] = step[1:] - step[:-1]
    return step[is_entry], length[is_entry], closed[is_entry]


def test_littles_law_on_a_steady_state_run() -> None:
    """L = λW: mean census in service = service entries per month × mean months in service.

    Census is counted at the end of each step, so a spell entered in step t and left in step t' is
    counted t' - t times: the identity is exact for a stationary process apart from sampling error.
    The run is the built-to-be-left policy (spells are short, so spells started in the first half are
    all closed by the end: no censoring); the 5-year burn-in is discarded by the engine. Tolerance:
    4 standard errors of λ̂W (W's SE from the spread of spell lengths, λ's from Poisson counts) plus 0.5 %
    for the boundary (spells open at the window's start are in L but not in λW, and vice versa at its end).
    """
    scenario = Scenario(name="short-stays", levers={"graduate_after_months": 3, "cm_review_months": 6})
    result = run(scenario, people=100_000, years=10, seed=3, record_events=True)
    months = result.n_steps
    entry, length, closed = _service_spells(result)
    cohort = entry < months // 2
    assert closed[cohort].all(), "every spell started in the first half has ended"
    arrival_rate = entry.size / months
    stay = length[cohort].astype(float)
    census = (
        result.series["in_treatment"]
        + result.series["case_management_only"]
        + result.series["recovered_in_service"]
    ).mean()
    predicted = arrival_rate * stay.mean()
    rel_se = math.hypot(stay.std(ddof=1) / math.sqrt(stay.size) / stay.mean(), 1 / math.sqrt(entry.size))
    assert predicted == pytest.approx(census, rel=4 * rel_se + 0.005)
    assert 3 < stay.mean() < 24 and census > 1_000  # a real steady state, not a trivial one


_OPEN = {
    "staff_hours_per_1000": 100_000.0,  # the hard bound: treatment capacity never binds
    "leave": 0.0,  # no absorbing state: a closed population (no moves, deaths or births)
    "move_in": 0.0,
    "mortality_scale": 0.0,
    "fertility": 0.0,
    "cm_retention_effect": 0.0,  # one dropout rate for everyone (case managers would split the chain)
    "course_months": 1.0,  # every course is "past" after one month: transitions stop depending on time
    "intensive_course_months": 1.0,
    "residential_stay_months": 1.0,
    "relapse_sud": 0.0413,  # = relapse_after_discharge, so the SUD flag does not split the chain
}


def _transition_matrix(p: Parameters) -> npt.NDArray[np.float64]:
    """The monthly Markov chain implied by docs/simulation.md when capacity never binds (competing risks)."""
    P = np.zeros((N_STATES, N_STATES))
    S = State

    def row(state: State, moves: list[tuple[State, float]]) -> None:
        for to, prob in moves:
            P[state, to] += prob
        P[state, state] += 1.0 - sum(prob for _, prob in moves)

    routine = 1.0 - p.emergent_share - p.urgent_share
    recover, drop = p.treatment_recovery, p.dropout
    row(S.WELL, [(S.UNWELL, p.incidence)])
    row(
        S.UNWELL,
        [
            (S.TREATMENT_RESIDENTIAL, p.help_seeking * p.emergent_share),  # referred and admitted at once
            (S.TREATMENT_INTENSIVE, p.help_seeking * p.urgent_share),
            (S.TREATMENT_OUTPATIENT, p.help_seeking * routine),
            (S.WELL, p.remission_untreated),
        ],
    )
    row(
        S.TREATMENT_OUTPATIENT,
        [
            (S.RECOVERED_IN_SERVICE, recover),
            (S.UNWELL, drop),
            (S.CASE_MANAGEMENT_ONLY, p.to_case_management),
            (S.TREATMENT_INTENSIVE, p.step_up),
        ],
    )
    row(
        S.TREATMENT_INTENSIVE,
        [
            (S.RECOVERED_IN_SERVICE, recover),
            (S.UNWELL, drop),
            (S.TREATMENT_OUTPATIENT, p.step_down_intensive),
        ],
    )
    row(
        S.TREATMENT_RESIDENTIAL,
        [(S.RECOVERED_IN_SERVICE, recover), (S.UNWELL, drop), (S.TREATMENT_OUTPATIENT, 1.0 - recover - drop)],
    )
    row(
        S.CASE_MANAGEMENT_ONLY,
        [
            (S.RECOVERED_IN_SERVICE, p.cm_recovery),
            (S.UNWELL, p.cm_disengage),
            (S.TREATMENT_OUTPATIENT, p.cm_step_up),
        ],
    )
    row(
        S.RECOVERED_IN_SERVICE,
        [(S.TREATMENT_OUTPATIENT, p.relapse_in_service), (S.GRADUATED, p.maintenance_discharge)],
    )
    fast = p.fast_return_share
    relapse = p.relapse_after_discharge
    row(S.GRADUATED, [(S.TREATMENT_OUTPATIENT, relapse * fast), (S.UNWELL, relapse * (1.0 - fast))])
    return P


def _stationary(P: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Left eigenvector of P for eigenvalue 1, normalised to a distribution."""
    values, vectors = np.linalg.eig(P.T)
    pi = np.real(vectors[:, np.argmin(np.abs(values - 1.0))])
    distribution: npt.NDArray[np.float64] = pi / pi.sum()
    return distribution


@pytest.mark.slow
@pytest.mark.parametrize("levers", [{}, {"fast_return_share": 0.8, "cm_step_up": 0.1, "step_up": 0.15}])
def test_without_capacity_the_state_shares_reach_the_stationary_distribution(
    levers: dict[str, float],
) -> None:
    """With capacity removed everyone moves independently, so the shares after n months are multinomial
    around x0·Pⁿ; after 40 + 5 years x0·Pⁿ is within half a standard error of π (checked below), so each
    share is within
    a few binomial standard errors sqrt(π(1-π)/N) of π. Tolerance: every |z| < 4, and Σz² below the
    0.999 quantile of χ² with 7 degrees of freedom (24.3)."""
    scenario = Scenario(name="open", overrides=_OPEN, levers=levers)
    p = scenario.parameters()
    live = [
        s for s in State if s not in (State.WAITING, State.LEFT)
    ]  # waiting empties each step; nobody leaves
    P = _transition_matrix(p)[np.ix_(live, live)]
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    pi = _stationary(P)
    people = 200_000
    result = run(scenario, people=people, years=40, seed=5)
    x0 = np.zeros(len(live))
    x0[live.index(State.WELL)], x0[live.index(State.UNWELL)] = 1 - p.prevalence, p.prevalence
    se = np.sqrt(pi * (1 - pi) / people)
    expected = x0 @ np.linalg.matrix_power(P, result.n_steps + 60)  # 60 burn-in months
    assert (np.abs(expected - pi) / se).max() < 0.5, "the run is long enough to have converged"
    shares = np.bincount(result.final_state, minlength=N_STATES)[live] / people
    z = (shares - pi) / se
    assert np.abs(z).max() < 4, dict(zip([s.name for s in live], z.round(2), strict=True))
    assert float((z**2).sum()) < 24.3


@pytest.mark.slow
def test_a_capacity_limited_waiting_list_matches_a_ciw_queue() -> None:
    """A waiting list with c slots, FIFO admission, geometric treatment time and reneging (remission while
    waiting), run by the engine weekly, against the same queue in Ciw fed with the engine's own referral
    stream: Ciw starts from the engine's state after week 0 (places taken, queue), later arrivals are placed
    just before the end of their week (the engine admits at the end of the step), service Geometric(q)
    weeks, patience Geometric(r) weeks, c servers.

    Compared: mean queue length at the end of each week and mean whole weeks waited before admission,
    after a 30-week warm-up. Tolerance 10 %: the mean queue of one run varies by about 3 % (sd of Ciw
    replications on one arrival stream, and of the engine over seeds 1-3, whose differences from Ciw were
    +1, -1.4 and -4.5 %), so the engine minus the mean of 2 Ciw runs has an sd near 3.6 %: 10 % is ≈ 2.8 sd.
    """
    ciw = pytest.importorskip("ciw")
    spm = 52 / 12
    slots, hours = 320, 3.0
    people = 40_000
    overrides = {
        "emergent_share": 0.0,  # every referral is routine: one class, admitted to outpatient care
        "urgent_share": 0.0,
        "step_up": 0.0,
        "to_case_management": 0.0,
        "relapse_in_service": 0.0,  # nobody enters treatment without queueing
        "hours_maintenance": 0.0,  # only people in treatment use treatment hours
        "case_management_share": 0.0,
        "hours_outpatient": hours,
        "staff_hours_per_1000": slots * hours / (people / 1000),  # exactly `slots` outpatient places
    }
    scenario = Scenario(name="queue", overrides=overrides)
    p = scenario.parameters()
    result = run(scenario, people=people, years=12, seed=1, step="week")
    s, steps, warm = result.series, result.n_steps, 30
    assert s["in_treatment"].max() == slots
    q = per_step(p.treatment_recovery, spm) + per_step(p.dropout, spm) + per_step(p.leave, spm)
    r = per_step(p.remission_untreated, spm) + per_step(p.leave, spm)
    arrivals = s["referrals"].astype(int)
    assert arrivals[warm:].mean() > slots * q  # overloaded: a real waiting list that reneging balances
    # Ciw starts where the engine is after week 0 (places taken and queue), then gets each later week's
    # referrals just before that week ends (the engine admits at the end of the step).
    initial = int(s["in_treatment"][0] + s["waiting"][0])
    times = np.concatenate(
        [1e-4 * np.arange(1, initial + 1) / (initial + 1)]
        + [t + 1 - 1e-3 * np.arange(n, 0, -1) / (n + 1) for t, n in enumerate(arrivals) if t > 0]
    )
    gaps = [*np.diff(np.concatenate(([0.0], times))).tolist(), 1e9]
    grid = np.arange(warm, steps) + 1 + 1e-6  # end of each week, after admissions
    queues, waits = [], []
    for seed in (1, 2):
        network = ciw.create_network(
            arrival_distributions=[ciw.dists.Sequential(gaps)],
            service_distributions=[ciw.dists.Geometric(q)],
            number_of_servers=[slots],
            reneging_time_distributions=[ciw.dists.Geometric(r)],
        )
        ciw.seed(seed)
        sim = ciw.Simulation(network)
        sim.simulate_until_max_time(steps + 200)  # no arrivals after `steps`: everyone waiting is recorded
        records = sim.get_all_records()
        start = np.array([x.arrival_date for x in records])
        end = start + np.array([x.waiting_time for x in records])
        in_queue = (start[None, :] < grid[:, None]) & (end[None, :] > grid[:, None])
        queues.append(in_queue.sum(axis=1).mean())
        waits.append(
            np.mean(
                [
                    math.floor(x.waiting_time)
                    for x in records
                    if x.record_type == "service" and x.arrival_date > warm
                ]
            )
        )
    engine_queue = s["waiting"][warm:].mean()
    engine_wait = s["wait_steps"][warm:].sum() / s["admissions"][warm:].sum()
    assert engine_queue > 100
    measured = f"engine queue {engine_queue:.1f}, wait {engine_wait:.2f}; Ciw {queues}, {waits}"
    assert engine_queue == pytest.approx(np.mean(queues), rel=0.10), measured
    assert engine_wait == pytest.approx(np.mean(waits), rel=0.10), measured
