"""The default demo county against public anchors (issue 9, item 7; sources in docs/references.md).

`onward demo` builds 20,000 residents over 3 years with seed 2026; a leader reads its numbers as a
picture of a real system, so its headline figures must fall where real systems' do.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from onward.cli.demo import DEMO_PEOPLE, DEMO_SEED, DEMO_YEARS
from onward.metrics.backends import open_event_log
from onward.metrics.period import Period
from onward.metrics.suite import compute_metrics
from onward.sim.synth import write_synthetic_county

START = date(2023, 1, 1)


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    write_synthetic_county(folder, people=DEMO_PEOPLE, years=DEMO_YEARS, seed=DEMO_SEED, progress=False)
    return folder


@pytest.fixture(scope="module")
def metrics(county: Path) -> dict[str, object]:
    # the county's own years (records before START are the caseload already open when they began)
    figures = compute_metrics(open_event_log(data=county), period=Period(start=START)).metrics
    return dict(figures)


def _number(metrics: dict[str, object], key: str) -> float:
    value = metrics[key]
    assert isinstance(value, int | float), key
    return float(value)


def test_median_days_to_first_treatment_is_plausible(metrics: dict[str, object]) -> None:
    # Between a week (CCBHC: routine evaluation within 10 business days) and four months.
    assert 7 <= _number(metrics, "days_to_first_treatment_median") <= 120


def test_recovery_and_reliable_improvement_are_near_nhs_talking_therapies(metrics: dict[str, object]) -> None:
    # NHS Talking Therapies annual reports: recovery about 50 %, reliable improvement about 67 %.
    assert 0.40 <= _number(metrics, "recovery_rate") <= 0.60
    assert 0.55 <= _number(metrics, "reliable_improvement_rate") <= 0.75


def test_some_graduates_come_back_within_a_year(metrics: dict[str, object]) -> None:
    assert _number(metrics, "reentry_12m_rate") > 0


def test_clinician_caseloads_are_plausible(county: Path) -> None:
    # Community clinicians typically carry 15-80 open episodes (docs/references.md).
    episodes = pd.read_parquet(county / "episodes.parquet")
    staff = pd.read_parquet(county / "staff.parquet").set_index("staff_id")
    programs = pd.read_parquet(county / "programs.parquet").set_index("program_id")
    open_now = episodes[episodes["end_date"].isna()]
    caseload = open_now.groupby("primary_staff_id").size()
    kinds = programs.loc[staff.loc[caseload.index, "program_id"], "kind"].to_numpy()
    community = caseload[
        pd.Series(kinds, index=caseload.index).isin(["outpatient", "medication_for_oud", "case_management"])
    ]
    assert len(community) >= 5
    assert 15 <= community.median() <= 80 and community.max() <= 80
    assert set(staff.loc[caseload.index, "role"]) <= {"clinician", "case_manager"}


def test_the_status_quo_shows_people_stuck(metrics: dict[str, object]) -> None:
    stuck, census = _number(metrics, "stuck_count"), _number(metrics, "active_census")
    assert 0.05 <= stuck / census <= 0.4


def test_the_waiting_list_is_not_years_long(county: Path) -> None:
    referrals = pd.read_parquet(county / "referrals.parquet")
    waiting = referrals[referrals["outcome"].isin(["waiting", "offered"])]
    end = pd.Timestamp(date(START.year + int(DEMO_YEARS), 1, 1))
    waited = (end - pd.to_datetime(waiting["referral_date"])).dt.days
    assert len(waiting) > 0 and waited.median() < 180 and waited.max() < 730
    outcomes = set(referrals["outcome"])
    assert {"admitted", "waiting", "withdrawn", "declined", "not_reached"} <= outcomes


def test_no_program_shows_free_places_beside_a_waiting_list(county: Path) -> None:
    # Issue 10 depends on this county: the simulated queue exists only because treatment hours ran out.
    programs = pd.read_parquet(county / "programs.parquet").set_index("program_id")
    episodes = pd.read_parquet(county / "episodes.parquet")
    referrals = pd.read_parquet(county / "referrals.parquet")
    open_now = episodes[episodes["end_date"].isna()].groupby("program_id").size()
    waiting = referrals[referrals["outcome"] == "waiting"].groupby("program_id").size()
    assert len(waiting) > 0
    for program, count in waiting.items():
        assert count > 0 and programs.loc[program, "capacity_slots"] <= open_now.get(program, 0), program
