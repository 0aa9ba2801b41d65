from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from onward.interop import bulk
from onward.interop.bulk import TableCounts, read_sorted, upsert
from onward.interop.files import arrow_schema
from onward.model.eventlog import TABLES
from onward.store.engine import create_db_engine
from onward.store.migrate import upgrade_database
from onward.store.tables import Base
from onward.store.tables_voice import SEARCH_OBJECTS


def _programs(*rows: tuple[str, str, int]) -> pa.Table:
    return pa.table(
        {
            "program_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "kind": ["outpatient"] * len(rows),
            "level_of_care": [1] * len(rows),
            "capacity_slots": [r[2] for r in rows],
        },
        schema=arrow_schema("programs"),
    )


def _staff(program_id: str) -> pa.Table:
    return pa.table(
        {"staff_id": ["s1"], "role": ["clinician"], "program_id": [program_id], "hours_per_week": [40]},
        schema=arrow_schema("staff"),
    )


def test_upsert_counts_and_reads_back_sorted(database_url: str) -> None:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    spec = TABLES["programs"]
    try:
        with engine.begin() as connection:
            first = upsert(connection, spec, _programs(("b", "B", 1), ("a", "A", 2)), lambda _n: None)
            second = upsert(
                connection, spec, _programs(("a", "A", 2), ("b", "B", 5), ("c", "C", 3)), lambda _n: None
            )
            stored = read_sorted(connection, spec, lambda _n: None)
    finally:
        engine.dispose()
    assert first == TableCounts(inserted=2)
    assert second == TableCounts(inserted=1, updated=1, unchanged=1)
    assert stored.column("program_id").to_pylist() == ["a", "b", "c"]
    assert stored.column("capacity_slots").to_pylist() == [2, 5, 3]


def test_loading_an_empty_table_keeps_schema_and_constraints(database_url: str) -> None:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    try:
        with engine.begin() as connection:
            upsert(connection, TABLES["programs"], _programs(("a", "A", 1)), lambda _n: None)
            upsert(connection, TABLES["staff"], _staff("a"), lambda _n: None)
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            # Full-text search objects are made by the migration outside the ORM (store/tables_voice.py).
            assert [d for d in differences if not any(name in repr(d) for name in SEARCH_OBJECTS)] == []
        with pytest.raises(IntegrityError), engine.begin() as connection:  # foreign keys are back
            connection.execute(text("INSERT INTO staff VALUES ('s2', 'clinician', 'nowhere', 10)"))
    finally:
        engine.dispose()


def test_a_failed_load_leaves_no_rows_and_every_index(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    real_load = bulk._load

    def load_then_fail(*args: object) -> None:
        real_load(*args)  # type: ignore[arg-type]
        raise RuntimeError("disk full")

    try:
        with engine.begin() as connection:
            upsert(connection, TABLES["programs"], _programs(("a", "A", 1)), lambda _n: None)
        monkeypatch.setattr(bulk, "_load", load_then_fail)
        with pytest.raises(RuntimeError), engine.begin() as connection:
            upsert(connection, TABLES["staff"], _staff("a"), lambda _n: None)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM staff")).scalar_one() == 0
            assert {i["name"] for i in inspect(connection).get_indexes("staff")} == {"ix_staff_program_id"}
            assert len(inspect(connection).get_foreign_keys("staff")) == 1
    finally:
        engine.dispose()


def test_dates_and_booleans_survive_both_directions(database_url: str) -> None:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    people = pa.table(
        {
            "person_id": ["p1"],
            "birth_year": [1980],
            "sex": ["female"],
            "postcode_prefix": ["NA"],
            "school_grade": [None],
            "pregnancy_due_date": [dt.date(2025, 12, 31)],
        },
        schema=arrow_schema("people"),
    )
    episodes = pa.table(
        {
            "episode_id": ["e1", "e2"],
            "person_id": ["p1", "p1"],
            "program_id": ["a", "a"],
            "referral_id": [None, None],
            "primary_staff_id": [None, None],
            "start_date": [dt.date(2024, 1, 1), dt.date(2024, 2, 29)],
            "planned_end_date": [None, None],
            "end_date": [None, dt.date(2024, 3, 1)],
            "end_reason": [None, "graduated"],
            "is_sud": [True, False],
        },
        schema=arrow_schema("episodes"),
    )
    try:
        with engine.begin() as connection:
            upsert(connection, TABLES["people"], people, lambda _n: None)
            upsert(connection, TABLES["programs"], _programs(("a", "A", 1)), lambda _n: None)
            upsert(connection, TABLES["episodes"], episodes, lambda _n: None)
        with engine.begin() as connection:
            assert read_sorted(connection, TABLES["people"], lambda _n: None).equals(people)
            assert read_sorted(connection, TABLES["episodes"], lambda _n: None).equals(episodes)
            again = upsert(connection, TABLES["episodes"], episodes, lambda _n: None)
    finally:
        engine.dispose()
    assert again == TableCounts(unchanged=2)
