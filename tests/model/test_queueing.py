"""The M/M/c estimate: Erlang C against known values, and against the county simulator (onward.sim) as
staff time moves from case management to treatment."""

from __future__ import annotations

import math

import pytest

from onward.model.queueing import QueueEstimate, erlang_c, mmc_wait_days
from onward.sim.engine import run
from onward.sim.parameters import load_parameters
from onward.sim.scenario import Scenario


def test_erlang_c_known_values() -> None:
    # One server: P(wait) = ρ; M/M/1 mean wait in queue = ρ / (μ - λ).
    assert erlang_c(1, 0.5) == pytest.approx(0.5)
    assert mmc_wait_days(0.5, 1.0, 1) == pytest.approx(0.5 / (1 - 0.5))
    # Two servers, a = 1 (ρ = 0.5): C = a^2/2 / ((1 - ρ)(1 + a) + a^2/2) = 0.5 / 1.5 = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(3, 3.5) == 1.0 and mmc_wait_days(1.0, 3.5, 3) is None  # ρ >= 1: grows without limit
    big = QueueEstimate(arrivals_per_day=2.0, service_days=120.0, servers=300)
    assert big.utilisation == pytest.approx(0.8) and big.wait_days is not None and big.wait_days < 0.01
    assert math.isinf(QueueEstimate(1.0, 10.0, 0).utilisation)


@pytest.mark.slow
def test_mmc_agrees_with_the_simulator_on_either_side_of_the_tipping_point() -> None:
    """The county simulator admits people from its waiting list into free treatment hours. From one run
    with ample treatment hours we read what M/M/c needs: referrals a day (λ), months in treatment per
    admission (Little's law on the treatment stage: 1/μ) and treatment hours a person uses per month;
    then for each case-management share the servers are the treatment hours over the hours per person.
    Both must put each staffing on the same side of the tipping point and order the waits alike."""
    people, years, seed = 20_000, 3, 1
    params = load_parameters()
    staff_hours = params.staff_hours_per_1000 * people / 1000  # a month
    free = run(
        Scenario("ample", levers={"case_management_share": 0.25}), people=people, years=years, seed=seed
    )
    s = free.series
    months = free.n_steps
    arrivals = float(s["referrals"].sum()) / months / 30.4375
    # admissions from the waiting list (the series `admissions` counts every move into services)
    service_days = float(s["in_treatment"].mean()) / (float(s["queue_admissions"].sum()) / months) * 30.4375
    hours_per_person = float(s["treatment_hours"].mean()) / float(s["in_treatment"].mean())
    sim_waits: dict[float, float] = {}
    mmc_waits: dict[float, float] = {}
    for share in (0.6, 0.55, 0.48, 0.35):
        result = run(
            Scenario("x", levers={"case_management_share": share}), people=people, years=years, seed=seed
        )
        sim_waits[share] = result.summary["mean_wait_days"]
        servers = math.floor(staff_hours * (1 - share) / hours_per_person)
        estimate = mmc_wait_days(arrivals, service_days, servers)
        mmc_waits[share] = math.inf if estimate is None else estimate
    # Short of treatment hours (55-60 % in case management): M/M/c says the queue grows without limit
    # (or waits for weeks); the simulator's waits are weeks to months.
    for share in (0.6, 0.55):
        assert mmc_waits[share] > 14 and sim_waits[share] > 14, (share, mmc_waits, sim_waits)
    # Just past it (48 %): days in both, within a factor of two (measured: 13.6 and 10.6 days).
    assert 0.5 < mmc_waits[0.48] / sim_waits[0.48] < 2, (mmc_waits, sim_waits)
    # Ample (35 %): both say next to no wait.
    assert mmc_waits[0.35] < 1 and sim_waits[0.35] < 1, (mmc_waits, sim_waits)
    # Moving hours to treatment never lengthens the wait, in either.
    shares = sorted(sim_waits, reverse=True)
    assert all(mmc_waits[a] >= mmc_waits[b] for a, b in zip(shares, shares[1:], strict=False))
    assert all(sim_waits[a] >= sim_waits[b] - 0.5 for a, b in zip(shares, shares[1:], strict=False))
