from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from onward.interop.files import write_table
from onward.metrics.backends import open_event_log
from onward.sim.calibrate import (
    _with,
    calibrate_event_log,
    measure_targets,
    write_calibrated_scenario,
)
from onward.sim.engine import run
from onward.sim.eventlog import to_event_log
from onward.sim.parameters import load_parameters
from onward.sim.scenario import Scenario, load_scenario

TRUTH = {
    "help_seeking": 0.022,
    "dropout": 0.09,
    "treatment_recovery": 0.13,
    "relapse_after_discharge": 0.03,
    "cm_retention_effect": 0.5,
}
#: Relative tolerances of the round trip (truth seed 7). A 20,000-resident, 3-year log holds ≈ 2,300
#: referrals, ≈ 650 disengagements, ≈ 1,000 graduations and ≈ 150 returns after graduation, and a
#: county of that size swings as a whole (its waiting list and caseloads are autocorrelated): over
#: truth seeds 7, 8, 11 and 99 the largest errors were 3 % (help-seeking), 12 % (dropout), 21 %
#: (treatment response), 52 % (relapse: seed 99's county had 24 % more returns than the model's mean)
#: and 24 % (the case managers' effect). With seed 7 the errors are 2, 4, 6, 10 and 11 %; each
#: tolerance below excludes the default value, so the test fails if nothing is fitted.
TOLERANCE = {
    "help_seeking": 0.1,
    "dropout": 0.15,
    "treatment_recovery": 0.2,
    "relapse_after_discharge": 0.3,
    "cm_retention_effect": 0.3,
}


def _county(tmp_path: Path, overrides: dict[str, float], *, people: int, years: float, seed: int) -> Path:
    result = run(
        Scenario(name="truth", overrides=overrides), people=people, years=years, seed=seed, record_events=True
    )
    folder = tmp_path / "county"
    for name, table in to_event_log(result).items():
        write_table(table, folder, name, "parquet")
    return folder


@pytest.mark.slow
def test_round_trip_recovers_known_parameters(tmp_path: Path) -> None:
    base = load_parameters()
    truth = _with(base, TRUTH)  # incidence follows help-seeking through the prevalence balance
    folder = _county(tmp_path, truth, people=20_000, years=3, seed=7)
    log = open_event_log(data=folder)
    observed = measure_targets(log, people=20_000)  # the people table also lists who moved or died
    assert observed.people == 20_000 and 35 < observed.months < 37
    calls: list[int] = []
    fit = calibrate_event_log(log, people=20_000, seed=1, progress=lambda done, total: calls.append(done))
    values = {p.name: p.value for p in fit.parameters}
    for name, tol in TOLERANCE.items():
        assert values[name] == pytest.approx(TRUTH[name], rel=tol), name
        assert getattr(base, name) != pytest.approx(TRUTH[name], rel=tol), "the default would pass"
    assert values["incidence"] == pytest.approx(truth["incidence"], rel=0.12)
    assert fit.max_relative_error < 0.1  # reproduces the targets (returns: ≈ 6 % simulation noise)
    assert calls == list(range(1, fit.evaluations + 1))
    # the written scenario is a valid scenario that simulates with the fitted values
    path = write_calibrated_scenario(fit, tmp_path / "calibrated.toml", source=str(folder))
    scenario = load_scenario(path)
    assert scenario.overrides["dropout"] == pytest.approx(values["dropout"], rel=1e-5)
    assert "observed" in path.read_text() and tomllib.loads(path.read_text())["name"] == "calibrated"
