"""Skills metrics: hand-computed values on a tiny county, the same on every backend."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from metrics_helpers import DEFAULT_PROGRAMS, episode, measure, referral, service, write_log
from sqlalchemy import insert

from onward.interop.extracts import import_extract
from onward.metrics.backends import open_event_log
from onward.metrics.period import Period
from onward.metrics.skills import SKILLS_SCHEMAS, compute_skills_metrics
from onward.store.engine import create_db_engine
from onward.store.migrate import upgrade_database
from onward.store.tables_skills import Cohort, CohortMember, PerinatalScreen, SkillsAttendance, SkillsSession

D = date.fromisoformat
PROGRAMS = [
    *DEFAULT_PROGRAMS,
    {"program_id": "P3", "name": "Perinatal", "kind": "perinatal", "level_of_care": 1, "capacity_slots": 0},
    {"program_id": "P4", "name": "School", "kind": "school", "level_of_care": 1, "capacity_slots": 0},
]
COHORTS: list[dict[str, Any]] = [
    {
        "cohort_id": "C1",
        "kind": "parent",
        "program_id": "P3",
        "person_id": "m1",
        "birth_date": D("2024-07-01"),
    },
    {
        "cohort_id": "C2",
        "kind": "parent",
        "program_id": "P3",
        "person_id": "m2",
        "birth_date": D("2024-07-15"),
    },
    {"cohort_id": "C3", "kind": "class", "program_id": "P4", "person_id": None, "birth_date": None},
]
MEMBERS = [("M1", "C1", "m1"), ("M2", "C2", "m2"), ("S1", "C3", None), ("S2", "C3", None), ("S3", "C3", None)]


def _sessions() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    sessions, attendance = [], []
    for cohort, member, given in (("C1", "M1", 6), ("C2", "M2", 2)):
        for n in range(6):  # six prenatal lessons, one a month
            sid = f"{cohort}-{n}"
            day = D(f"2024-0{n + 1}-10")
            sessions.append(
                {
                    "session_id": sid,
                    "cohort_id": cohort,
                    "lesson_id": f"prenatal-er-{n + 1}",
                    "planned_on": day,
                    "delivered_on": day if n < given else None,
                }
            )
            if n < given:
                attendance.append({"session_id": sid, "member_id": member, "present": True})
    for n, present in enumerate(((True, True, True), (True, False, True), (True, True, True), None)):
        sid = f"C3-{n}"
        day = D(f"2024-09-{n + 10}")
        sessions.append(
            {
                "session_id": sid,
                "cohort_id": "C3",
                "lesson_id": "grade-3-er-1",
                "planned_on": day,
                "delivered_on": day if present else None,
            }
        )
        for member, here in zip(("S1", "S2", "S3"), present or (), strict=False):
            attendance.append({"session_id": sid, "member_id": member, "present": here})
    return sessions, attendance


SCREENS: list[dict[str, Any]] = [
    {
        "screen_id": "SC1",
        "person_id": "m1",
        "cohort_id": "C1",
        "screened_on": D("2024-08-01"),
        "positive": True,
    },
    {
        "screen_id": "SC2",
        "person_id": "m2",
        "cohort_id": "C2",
        "screened_on": D("2024-08-10"),
        "positive": False,
    },
    {
        "screen_id": "SC3",
        "person_id": "m2",
        "cohort_id": "C2",
        "screened_on": D("2025-07-20"),
        "positive": True,
    },
]


def _event_log(folder: Path) -> Path:
    return write_log(
        folder,
        programs=PROGRAMS,
        episodes=[
            episode("E1", "m1", "2024-01-01", program_id="P3"),
            episode("E2", "m2", "2024-01-01", program_id="P3"),
        ],
        measurements=[
            measure("X1", "m1", "E1", "epds", "2024-03-01", 5),
            measure("X2", "m1", "E1", "epds", "2024-08-01", 15),
            measure("X3", "m2", "E2", "epds", "2024-08-10", 8),
            measure("X4", "m2", "E2", "epds", "2025-07-20", 14),  # 370 days after the birth: outside
        ],
        referrals=[referral("R1", "m1", "2024-08-05")],
        services=[service("S1", "m1", "E1", "2025-07-31")],  # data_end
    )


def _skills_rows() -> dict[str, list[dict[str, Any]]]:
    sessions, attendance = _sessions()
    return {
        "cohorts": COHORTS,
        "skills_sessions": sessions,
        "skills_attendance": attendance,
        "perinatal_screens": SCREENS,
    }


def _write_skills_files(folder: Path) -> None:
    for name, rows in _skills_rows().items():
        columns = SKILLS_SCHEMAS[name]
        kinds = {"string": pa.string(), "date": pa.date32(), "boolean": pa.bool_()}
        table = pa.table({c: pa.array([r.get(c) for r in rows], kinds[t]) for c, t in columns.items()})
        pq.write_table(table, folder / f"{name}.parquet")


def _load_live(url: str, folder: Path) -> None:
    upgrade_database(url)
    import_extract(folder, url, progress=False)
    now = D("2025-08-01")
    rows = _skills_rows()
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(Cohort), [{**c, "track": "x", "name": c["cohort_id"], "created_at": now} for c in COHORTS]
        )
        connection.execute(
            insert(CohortMember),
            [
                {"member_id": m, "cohort_id": c, "person_id": p, "name": m, "joined_on": D("2024-01-01")}
                for m, c, p in MEMBERS
            ],
        )
        connection.execute(
            insert(SkillsSession), [{**s, "skill": "emotion_regulation"} for s in rows["skills_sessions"]]
        )
        connection.execute(insert(SkillsAttendance), rows["skills_attendance"])
        connection.execute(
            insert(PerinatalScreen),
            [{**s, "measurement_id": "X", "total": 14, "self_harm": False} for s in SCREENS],
        )
    engine.dispose()


EXPECTED = {
    "skills_lessons_due": (16, None),
    "skills_lessons_delivered": (11, None),
    "skills_coverage": (11, 16),
    "skills_sessions_delivered": (11, None),
    "skills_attendance": (16, 17),
    "perinatal_screening_rate": (2, 2),
    "perinatal_followup_14d": (1, 1),  # SC3 has only 11 days observed
    "perinatal_depression_course": (1, 1),
    "perinatal_depression_no_course": (0, 1),
}


def _figures(metrics: Any) -> dict[str, tuple[int, int | None]]:
    return {k: (f.numerator, f.denominator) for k, f in metrics.overall.items()}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    log = _event_log(tmp_path / "log")
    _write_skills_files(log)
    return log


def test_hand_computed_values_on_an_extract_folder(folder: Path) -> None:
    metrics = compute_skills_metrics(open_event_log(data=folder), period=Period(), data=folder)
    assert metrics.data_end == D("2025-07-31")
    assert _figures(metrics) == EXPECTED
    assert metrics.by_program["P4"]["skills_coverage"].value == 3 / 4
    assert metrics.by_program["P3"]["skills_coverage"].value == 8 / 12


def test_a_folder_without_skills_files_has_no_skills_activity(tmp_path: Path) -> None:
    log = _event_log(tmp_path / "bare")
    metrics = compute_skills_metrics(open_event_log(data=log), period=Period(), data=log)
    assert metrics.overall["skills_lessons_due"].numerator == 0
    assert metrics.overall["skills_coverage"].value is None


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_live_sqlite_gives_the_same_values(folder: Path, sqlite_url: str, backend: str) -> None:
    _load_live(sqlite_url, folder)
    metrics = compute_skills_metrics(
        open_event_log(db=sqlite_url, backend=backend), period=Period(), db=sqlite_url
    )
    assert _figures(metrics) == EXPECTED


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres", "duckdb"])
def test_postgres_gives_the_same_values(folder: Path, postgres_url: str, backend: str) -> None:
    _load_live(postgres_url, folder)
    metrics = compute_skills_metrics(
        open_event_log(db=postgres_url, backend=backend), period=Period(), db=postgres_url
    )
    assert _figures(metrics) == EXPECTED


@pytest.mark.spark
@pytest.mark.slow
def test_pyspark_gives_the_same_values(folder: Path) -> None:
    metrics = compute_skills_metrics(
        open_event_log(data=folder, backend="pyspark"), period=Period(), data=folder
    )
    assert _figures(metrics) == EXPECTED
