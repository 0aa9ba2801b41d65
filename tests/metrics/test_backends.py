"""Opening the event log: folders (Parquet, CSV, missing files), live databases, and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from metrics_helpers import compute, episode, referral, write_log

from onward.errors import NotFoundError, ValidationError
from onward.metrics.backends import open_event_log


def test_csv_keeps_ids_as_text_and_dates_as_dates(tmp_path: Path) -> None:
    folder = write_log(
        tmp_path / "x",
        fmt="csv",
        referrals=[referral("007", "0042", "2024-01-01")],
        episodes=[episode("0001", "0042", "2024-01-05", referral_id="007")],
    )
    log = open_event_log(data=folder)
    episodes = log.table("episodes").to_pyarrow().to_pylist()
    assert episodes[0]["episode_id"] == "0001" and episodes[0]["referral_id"] == "007"
    assert compute(folder).metrics["admissions"] == 1


def test_missing_optional_tables_count_as_empty(tmp_path: Path) -> None:
    folder = write_log(tmp_path / "x", episodes=[episode("E1", "a", "2024-01-05")])
    for name in ("services", "measurements", "referrals", "staff"):
        (folder / f"{name}.parquet").unlink()
    m = compute(folder).metrics
    assert m["admissions"] == 1 and m["treatment_share"] is None


def test_refusals(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        open_event_log(data=tmp_path / "nowhere")
    with pytest.raises(ValidationError, match="exactly one"):
        open_event_log()
    with pytest.raises(ValidationError, match="unknown backend"):
        open_event_log(data=tmp_path, backend="oracle")
    with pytest.raises(ValidationError, match="reads a database"):
        open_event_log(data=tmp_path, backend="sqlite")
    with pytest.raises(NotFoundError, match="no SQLite database"):
        open_event_log(db=f"sqlite:///{tmp_path / 'missing.sqlite'}")
    with pytest.raises(ValidationError, match="unsupported database"):
        open_event_log(db="mysql://u@h/db")
    with pytest.raises(ValidationError, match="cannot read a sqlite URL"):
        open_event_log(db=f"sqlite:///{tmp_path / 'missing.sqlite'}", backend="postgres")


def test_uninitialised_database_is_named(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "empty.sqlite"
    sqlite3.connect(path).close()
    with pytest.raises(NotFoundError, match="run `onward init`"):
        open_event_log(db=f"sqlite:///{path}")
    with pytest.raises(NotFoundError, match="run `onward init`"):
        open_event_log(db=f"sqlite:///{path}", backend="sqlite")
