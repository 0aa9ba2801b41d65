from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from onward.errors import ValidationError
from onward.interop.files import write_table
from onward.metrics.backends import open_event_log
from onward.sim.calibrate import FITTED
from onward.sim.calibration_targets import _returns_rate, measure_targets, simulated_targets
from onward.sim.engine import run
from onward.sim.eventlog import to_event_log
from onward.sim.scenario import Scenario


def _county(tmp_path: Path, *, people: int, years: float, seed: int) -> Path:
    result = run(Scenario(name="quo"), people=people, years=years, seed=seed, record_events=True)
    folder = tmp_path / "county"
    for name, table in to_event_log(result).items():
        write_table(table, folder, name, "parquet")
    return folder


def test_simulated_targets_match_the_event_log_of_the_same_run(tmp_path: Path) -> None:
    """The engine-side targets are the event-log targets, computed without building the log."""
    result = run(Scenario(name="quo"), people=15_000, years=2, seed=4, record_events=True)
    folder = tmp_path / "log"
    for name, table in to_event_log(result).items():
        write_table(table, folder, name, "parquet")
    observed = measure_targets(open_event_log(data=folder), people=15_000).targets
    simulated = simulated_targets(result)
    assert observed["disengaged_ratio_with_case_manager"] == simulated["disengaged_ratio_with_case_manager"]
    assert observed.keys() == simulated.keys() == FITTED.keys()
    assert observed["referrals_per_1000_person_months"] == pytest.approx(
        simulated["referrals_per_1000_person_months"], rel=0.01
    )
    for key in ("disengaged_per_1000_person_months", "graduated_per_1000_person_months"):
        assert observed[key] == pytest.approx(simulated[key], rel=0.04), key
    assert observed["returns_per_1000_graduate_months"] == pytest.approx(
        simulated["returns_per_1000_graduate_months"], rel=0.1
    )


def test_returns_rate_by_hand() -> None:
    # person 0 graduates at month 1, referred at 4 (3 months, returned); person 1 graduates at 2 and is
    # never referred again before month 10 (8 months, censored); person 0's referral at 0.5 is before.
    rate = _returns_rate(
        grad_person=np.array([0, 1]),
        grad_time=np.array([1.0, 2.0]),
        ref_person=np.array([0, 0, 2]),
        ref_time=np.array([4.0, 0.5, 3.0]),
        end_time=10.0,
    )
    assert rate == pytest.approx(1000 * 1 / 11)


def test_too_short_a_log_is_refused(tmp_path: Path) -> None:
    folder = _county(tmp_path, people=2_000, years=0.5, seed=1)
    with pytest.raises(ValidationError, match="at least 13 months"):
        measure_targets(open_event_log(data=folder))
