"""Event-log contract v2: referral outcomes and primary clinicians, and extracts written before them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from onward.errors import ValidationError
from onward.interop.extracts import import_extract
from onward.interop.files import FORMATS, ExtractFormat, write_table
from onward.metrics.backends import open_event_log
from onward.store.engine import create_db_engine

D = dt.date
V2_COLUMNS = {
    "referrals": ("outcome", "outcome_date", "outcome_reason"),
    "episodes": ("primary_staff_id",),
}


def _tables() -> dict[str, list[dict[str, Any]]]:
    """Three referrals: r1 admitted (episode e1 names it), r2 and r3 never admitted."""
    return {
        "people": [
            {"person_id": p, "birth_year": 1980, "sex": "female", "postcode_prefix": "981"}
            for p in ("p1", "p2", "p3")
        ],
        "programs": [
            {
                "program_id": "op",
                "name": "Clinic",
                "kind": "outpatient",
                "level_of_care": 1,
                "capacity_slots": 9,
            }
        ],
        "staff": [{"staff_id": "s1", "role": "clinician", "program_id": "op", "hours_per_week": 40}],
        "referrals": [
            {
                "referral_id": r,
                "person_id": p,
                "program_id": "op",
                "referral_date": D(2024, 1, day),
                "source": "self",
                "priority": "routine",
            }
            for r, p, day in (("r1", "p1", 2), ("r2", "p2", 3), ("r3", "p3", 4))
        ],  # fmt: skip
        "episodes": [
            {
                "episode_id": "e1",
                "person_id": "p1",
                "program_id": "op",
                "referral_id": "r1",
                "start_date": D(2024, 1, 15),
                "is_sud": False,
            }
        ],  # fmt: skip
    }


def _write_v1(folder: Path, fmt: ExtractFormat, tables: dict[str, list[dict[str, Any]]]) -> Path:
    """An extract as a version-1 producer writes it: without the version-2 columns at all."""
    from onward.interop.files import arrow_schema

    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        schema = arrow_schema(name)
        keep = [f for f in schema if f.name not in V2_COLUMNS.get(name, ())]
        table = pa.Table.from_pylist(rows, schema=pa.schema(keep))
        if fmt == "parquet":
            pq.write_table(table, folder / f"{name}.parquet")
        else:
            pa_csv.write_csv(table, folder / f"{name}.csv")
    return folder


def _write_v2(folder: Path, tables: dict[str, list[dict[str, Any]]]) -> Path:
    from onward.interop.files import arrow_schema

    for name, rows in tables.items():
        write_table(pa.Table.from_pylist(rows, schema=arrow_schema(name)), folder, name, "csv")
    return folder


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql)).all()]
    finally:
        engine.dispose()


def _outcomes(url: str) -> list[tuple[str, str, str | None]]:
    rows = _rows(url, "SELECT referral_id, outcome, outcome_date FROM referrals ORDER BY referral_id")
    return [(r, o, None if d is None else str(d)) for r, o, d in rows]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_version_1_extract_imports_with_derived_outcomes(
    database_url: str, tmp_path: Path, fmt: ExtractFormat
) -> None:
    folder = _write_v1(tmp_path / "v1", fmt, _tables())
    import_extract(folder, database_url, progress=False)
    assert _outcomes(database_url) == [
        ("r1", "admitted", "2024-01-15"),  # an episode names it: admitted on the episode's start
        ("r2", "waiting", None),
        ("r3", "waiting", None),
    ]
    assert _rows(database_url, "SELECT primary_staff_id FROM episodes") == [(None,)]


def test_an_older_extract_does_not_undo_a_stored_outcome(database_url: str, tmp_path: Path) -> None:
    folder = _write_v1(tmp_path / "v1", "parquet", _tables())
    import_extract(folder, database_url, progress=False)
    engine = create_db_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE referrals SET outcome = 'withdrawn', outcome_date = '2024-02-01', "
                    "outcome_reason = 'moved away' WHERE referral_id = 'r2'"
                )
            )
    finally:
        engine.dispose()
    tables = _tables()
    tables["episodes"].append(
        {"episode_id": "e3", "person_id": "p3", "program_id": "op", "referral_id": "r3",
         "start_date": D(2024, 3, 1), "is_sud": False}
    )  # fmt: skip
    result = import_extract(_write_v1(tmp_path / "later", "parquet", tables), database_url, progress=False)
    assert _outcomes(database_url) == [
        ("r1", "admitted", "2024-01-15"),
        ("r2", "withdrawn", "2024-02-01"),  # kept: the older extract says nothing about it
        ("r3", "admitted", "2024-03-01"),  # a new episode names it
    ]
    assert result.tables["referrals"].updated == 1


def test_a_version_2_extract_keeps_its_outcomes_and_clinicians(database_url: str, tmp_path: Path) -> None:
    tables = _tables()
    tables["referrals"][1] |= {
        "outcome": "not_reached",
        "outcome_date": D(2024, 2, 10),
        "outcome_reason": "no answer to 3 calls and a letter",
    }
    tables["referrals"][2] |= {"outcome": "offered", "outcome_date": D(2024, 2, 12)}
    tables["episodes"][0]["primary_staff_id"] = "s1"
    import_extract(_write_v2(tmp_path / "v2", tables), database_url, progress=False)
    assert _outcomes(database_url) == [
        ("r1", "admitted", "2024-01-15"),  # left empty in the file: derived
        ("r2", "not_reached", "2024-02-10"),
        ("r3", "offered", "2024-02-12"),
    ]
    assert _rows(database_url, "SELECT primary_staff_id FROM episodes") == [("s1",)]
    reasons = _rows(database_url, "SELECT outcome_reason FROM referrals WHERE referral_id = 'r2'")
    assert reasons == [("no answer to 3 calls and a letter",)]


@pytest.mark.parametrize(
    ("change", "row", "column", "message"),
    [
        ({"outcome": "lost"}, 2, "outcome", "'lost' is not allowed"),
        ({"outcome": "withdrawn"}, 2, "outcome_date", "empty value"),
        ({"outcome": "waiting", "outcome_date": D(2024, 2, 1)}, 2, "outcome_date", "waiting referral"),
        ({"outcome": "declined", "outcome_date": D(2023, 12, 1)}, 2, "outcome_date", "before the referral"),
        ({"outcome_reason": "no answer"}, 2, "outcome", "an outcome_date or outcome_reason"),
        ({"outcome_reason": "x" * 201}, 2, "outcome_reason", "too long"),
    ],
)
def test_inconsistent_outcomes_are_refused_naming_file_row_and_column(
    sqlite_url: str, tmp_path: Path, change: dict[str, Any], row: int, column: str, message: str
) -> None:
    tables = _tables()
    tables["referrals"][1] |= change
    folder = _write_v2(tmp_path / "bad", tables)
    with pytest.raises(ValidationError, match=message) as caught:
        import_extract(folder, sqlite_url, progress=False)
    error = caught.value
    assert (Path(str(error.file)).name, error.row, error.column) == ("referrals.csv", row, column)
    assert _rows(sqlite_url, "SELECT count(*) FROM referrals") == [(0,)]  # nothing written


def test_an_unknown_primary_clinician_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    tables = _tables()
    tables["episodes"][0]["primary_staff_id"] = "nobody"
    with pytest.raises(ValidationError, match="unknown staff id 'nobody'") as caught:
        import_extract(_write_v2(tmp_path / "bad", tables), sqlite_url, progress=False)
    assert (caught.value.row, caught.value.column) == (1, "primary_staff_id")


@pytest.mark.parametrize("fmt", FORMATS)
def test_metrics_over_a_version_1_folder_see_the_same_outcomes(tmp_path: Path, fmt: ExtractFormat) -> None:
    log = open_event_log(data=_write_v1(tmp_path / "v1", fmt, _tables()))
    referrals = log.table("referrals").order_by("referral_id").to_pyarrow()
    assert referrals.column_names[-3:] == ["outcome", "outcome_date", "outcome_reason"]
    assert referrals.column("outcome").to_pylist() == ["admitted", "waiting", "waiting"]
    assert referrals.column("outcome_date").to_pylist() == [D(2024, 1, 15), None, None]
    episodes = log.table("episodes").to_pyarrow()
    assert episodes.column("primary_staff_id").to_pylist() == [None]


def test_an_upgraded_database_derives_outcomes_of_stored_referrals(sqlite_url: str) -> None:
    from alembic import command

    from onward.store.migrate import alembic_config, upgrade_database

    command.upgrade(alembic_config(sqlite_url), "0001")
    engine = create_db_engine(sqlite_url)
    try:
        with engine.begin() as connection:
            for sql in (
                "INSERT INTO people VALUES ('p1', 1980, 'female', '981', NULL, NULL)",
                "INSERT INTO programs VALUES ('op', 'Clinic', 'outpatient', 1, 9)",
                "INSERT INTO referrals VALUES ('r1', 'p1', 'op', '2024-01-02', 'self', 'routine')",
                "INSERT INTO referrals VALUES ('r2', 'p1', 'op', '2024-01-03', 'self', 'routine')",
                "INSERT INTO episodes (episode_id, person_id, program_id, referral_id, start_date, is_sud)"
                " VALUES ('e1', 'p1', 'op', 'r1', '2024-01-15', 0)",
            ):
                connection.execute(text(sql))
    finally:
        engine.dispose()
    upgrade_database(sqlite_url)
    assert _outcomes(sqlite_url) == [("r1", "admitted", "2024-01-15"), ("r2", "waiting", None)]
