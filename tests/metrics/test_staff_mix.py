"""Service mix and caseload per clinician, and the waiting list at month ends: hand-computed values,
the same on every backend (DuckDB folder, live SQLite, PostgreSQL, PySpark)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from metrics_helpers import DEFAULT_PROGRAMS, episode, referral, service, write_log

from onward.interop.extracts import import_extract
from onward.metrics.backends import open_event_log
from onward.metrics.period import Period
from onward.metrics.staff_mix import as_rows, compute_staff_mix, waiting_counts
from onward.store.migrate import upgrade_database

D = date.fromisoformat
STAFF = [
    {"staff_id": "C1", "role": "clinician", "program_id": "P1", "hours_per_week": 40},
    {"staff_id": "M1", "role": "case_manager", "program_id": "P1", "hours_per_week": 20},
    {"staff_id": "C2", "role": "clinician", "program_id": "P2", "hours_per_week": 30},
]
DAYS = [D("2024-01-31"), D("2024-02-29"), D("2024-03-31")]


def _episode(episode_id: str, person: str, start: str, staff: str | None, **kw: Any) -> dict[str, Any]:
    row = episode(episode_id, person, start, **kw)
    row["primary_staff_id"] = staff
    return row


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    referrals = [
        referral("R1", "a", "2024-01-10"),  # admitted 2024-02-05 (E2)
        referral("R2", "b", "2024-01-20"),  # still waiting
        {**referral("R3", "c", "2024-02-01"), "outcome": "withdrawn", "outcome_date": D("2024-03-10")},
        referral("R4", "d", "2024-03-15", program_id="P2"),  # waiting in P2
    ]
    return write_log(
        tmp_path_factory.mktemp("mix"),
        programs=DEFAULT_PROGRAMS,
        staff=STAFF,
        referrals=referrals,
        episodes=[
            _episode("E1", "z", "2024-01-01", "C1"),
            _episode("E2", "a", "2024-02-05", "C1", referral_id="R1"),
            _episode("E3", "y", "2024-01-01", "C1", end="2024-02-15", end_reason="graduated"),
            _episode("E4", "x", "2024-01-01", "C2", program_id="P2"),
        ],
        services=[
            service("s1", "z", "E1", "2024-01-05", "treatment", 60, staff_id="C1"),
            service("s2", "z", "E1", "2024-02-05", "medication", 30, staff_id="C1"),
            service("s3", "z", "E1", "2024-02-06", "case_management", 45, staff_id="C1"),
            service("s4", "a", "E2", "2024-02-07", "case_management", 90, staff_id="M1"),
            service("s5", "a", "E2", "2024-02-08", "assessment", 60, staff_id="M1"),  # neither side
            service("s6", "x", "E4", "2024-03-31", "treatment", 50, staff_id="C2"),
            service("s7", "x", "E4", "2024-03-01", "treatment", 40),  # no staff: not anyone's
        ],
    )


EXPECTED = [
    {"staff_id": "C1", "program_id": "P1", "role": "clinician", "hours_per_week": 40, "treatment_minutes": 90,
     "cm_minutes": 45, "treatment_share": 90 / 135, "cm_per_treatment": 45 / 90, "caseload": 2},
    {"staff_id": "M1", "program_id": "P1", "role": "case_manager", "hours_per_week": 20,
     "treatment_minutes": 0, "cm_minutes": 90, "treatment_share": 0.0, "cm_per_treatment": None,
     "caseload": 0},
    {"staff_id": "C2", "program_id": "P2", "role": "clinician", "hours_per_week": 30,
     "treatment_minutes": 50, "cm_minutes": 0, "treatment_share": 1.0, "cm_per_treatment": 0.0,
     "caseload": 1},
]  # fmt: skip
WAITING = {"P1": {DAYS[0]: 2, DAYS[1]: 2, DAYS[2]: 1}, "P2": {DAYS[2]: 1}}


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: r["staff_id"])


def _check(log: Any) -> None:
    mix = compute_staff_mix(log, period=Period(D("2024-01-01"), D("2024-03-31")))
    got = _sorted(as_rows(mix))
    for g, w in zip(got, _sorted(EXPECTED), strict=True):
        assert g.keys() == w.keys()
        for key, value in w.items():
            assert g[key] == (pytest.approx(value) if isinstance(value, float) else value), (
                g["staff_id"],
                key,
            )
    assert waiting_counts(log, DAYS) == WAITING
    assert waiting_counts(log, DAYS, ["P2"]) == {"P2": WAITING["P2"]}
    only_p2 = compute_staff_mix(log, period=Period(D("2024-01-01"), D("2024-03-31")), program_ids=["P2"])
    assert [s.staff_id for s in only_p2.staff] == ["C2"]


def test_hand_computed_on_an_extract_folder(folder: Path) -> None:
    _check(open_event_log(data=folder))


def test_caseload_counts_open_episodes_at_the_period_end(folder: Path) -> None:
    mix = compute_staff_mix(open_event_log(data=folder), period=Period(D("2024-01-01"), D("2024-01-31")))
    c1 = next(s for s in mix.staff if s.staff_id == "C1")
    assert (c1.caseload, c1.treatment_minutes, c1.cm_minutes) == (2, 60, 0)  # E1 and E3 open on 31 January


def _live(url: str, folder: Path) -> str:
    upgrade_database(url)
    import_extract(folder, url, progress=False)
    return url


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_live_sqlite_gives_the_same_values(folder: Path, sqlite_url: str, backend: str) -> None:
    _check(open_event_log(db=_live(sqlite_url, folder), backend=backend))


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres", "duckdb"])
def test_postgres_gives_the_same_values(folder: Path, postgres_url: str, backend: str) -> None:
    _check(open_event_log(db=_live(postgres_url, folder), backend=backend))


@pytest.mark.spark
@pytest.mark.slow
def test_pyspark_gives_the_same_values(folder: Path) -> None:
    _check(open_event_log(data=folder, backend="pyspark"))
