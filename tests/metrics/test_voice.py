"""Voice metrics: hand-computed values on a tiny set of ideas, the same on every backend."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from metrics_helpers import episode, write_log
from sqlalchemy import insert

from onward.interop.extracts import import_extract
from onward.metrics.backends import open_event_log
from onward.metrics.period import Period
from onward.metrics.voice import VOICE_COLUMNS, VOICE_METRICS, compute_voice_metrics, measure
from onward.store.engine import create_db_engine
from onward.store.migrate import upgrade_database
from onward.store.tables_voice import VoiceIdea

D = date.fromisoformat
PERIOD = Period(D("2025-01-01"), D("2025-06-30"), D("2025-12-31"))


def _idea(idea_id: str, role: str, status: str, submitted: str, *steps: str | None) -> dict[str, Any]:
    decided, implemented, evaluated = (D(s) if s else None for s in (*steps, None, None, None)[:3])
    return {
        "idea_id": idea_id,
        "author_role": role,
        "status": status,
        "submitted_on": D(submitted),
        "decided_on": decided,
        "implemented_on": implemented,
        "evaluated_on": evaluated,
    }


IDEAS = [
    _idea("I1", "person_in_services", "evaluated", "2025-01-10", "2025-01-20", "2025-03-01", "2025-09-01"),
    _idea("I2", "person_in_services", "implemented", "2025-02-01", "2025-02-15", "2025-05-01"),
    _idea("I3", "clinician", "declined", "2025-02-01", "2025-03-03"),
    _idea("I4", "clinician", "planned", "2025-03-01", "2025-03-31"),
    _idea("I5", "family_member", "submitted", "2025-06-30"),
    _idea("I6", "person_in_services", "under_review", "2024-12-31"),  # before the period
    _idea("I7", "other_staff", "accepted", "2024-11-01", "2025-07-01"),  # decided after it
]
# received in the period: I1-I5 (5), 2 from people in services; decided in it: I1 10 d, I2 14 d, I3 30 d,
# I4 30 d (median 22); accepted I1, I2, I4: 2 implemented by data_end; implemented in it: I1, I2, 1 evaluated.
EXPECTED = {
    "voice_ideas": (5, None),
    "voice_share_people_in_services": (2, 5),
    "voice_days_to_decision_median": (22.0, 4),
    "voice_share_implemented": (2, 3),
    "voice_share_evaluated": (1, 2),
}


def _figures(metrics: Any) -> dict[str, tuple[float, int | None]]:
    return {k: (f.numerator, f.denominator) for k, f in metrics.figures.items()}


def _log(folder: Path) -> Path:
    return write_log(folder, episodes=[episode("E1", "a", "2024-01-01"), episode("E2", "b", "2025-12-31")])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    log = _log(tmp_path / "log")
    kinds = {"string": pa.string(), "date": pa.date32()}
    table = pa.table({c: pa.array([r[c] for r in IDEAS], kinds[t]) for c, t in VOICE_COLUMNS.items()})
    pq.write_table(table, log / "voice_ideas.parquet")
    return log


def _load_live(url: str, folder: Path) -> None:
    upgrade_database(url)
    import_extract(folder, url, progress=False)
    engine = create_db_engine(url)
    at = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(VoiceIdea),
            [
                {
                    **i,
                    "title": i["idea_id"],
                    "problem": "p",
                    "proposal": "q",
                    "hidden": False,
                    "submitted_at": at,
                }
                for i in IDEAS
            ],
        )
    engine.dispose()


def test_hand_computed_values_on_an_extract_folder(folder: Path) -> None:
    metrics = compute_voice_metrics(open_event_log(data=folder), period=PERIOD, data=folder)
    assert _figures(metrics) == EXPECTED
    assert metrics.by_author_role == {"clinician": 2, "family_member": 1, "person_in_services": 2}
    assert metrics.figures["voice_days_to_decision_median"].value == 22.0
    assert metrics.figures["voice_share_implemented"].value == 2 / 3
    assert set(VOICE_METRICS) == set(EXPECTED)


def test_a_folder_without_ideas_has_none(tmp_path: Path) -> None:
    log = _log(tmp_path / "bare")
    metrics = compute_voice_metrics(open_event_log(data=log), period=PERIOD, data=log)
    assert metrics.figures["voice_ideas"].value == 0
    assert metrics.figures["voice_days_to_decision_median"].value is None


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_live_sqlite_gives_the_same_values(folder: Path, sqlite_url: str, backend: str) -> None:
    _load_live(sqlite_url, folder)
    metrics = compute_voice_metrics(
        open_event_log(db=sqlite_url, backend=backend), period=PERIOD, db=sqlite_url
    )
    assert _figures(metrics) == EXPECTED
    assert measure(sqlite_url, "admissions", D("2024-01-01"), D("2024-12-31")) == 1.0


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres", "duckdb"])
def test_postgres_gives_the_same_values(folder: Path, postgres_url: str, backend: str) -> None:
    _load_live(postgres_url, folder)
    metrics = compute_voice_metrics(
        open_event_log(db=postgres_url, backend=backend), period=PERIOD, db=postgres_url
    )
    assert _figures(metrics) == EXPECTED


@pytest.mark.spark
@pytest.mark.slow
def test_pyspark_gives_the_same_values(folder: Path) -> None:
    metrics = compute_voice_metrics(
        open_event_log(data=folder, backend="pyspark"), period=PERIOD, data=folder
    )
    assert _figures(metrics) == EXPECTED
