from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select, text

from onward.interop.bulk import TableCounts
from onward.interop.extracts import export_extract, import_extract, read_table_file
from onward.interop.files import FORMATS, ExtractFormat, arrow_schema, write_table
from onward.interop.validate import Source, normalise
from onward.model.eventlog import EVENT_LOG
from onward.store.engine import create_db_engine
from onward.store.tables import ImportRecord

RowCounts = Callable[[str], dict[str, int]]

D = dt.date


def small_event_log() -> dict[str, pa.Table]:
    """Two people, two programs, one open and one ended episode, with services and measures."""
    columns: dict[str, dict[str, list[object]]] = {
        "people": {
            "person_id": ["p1", "p2"],
            "birth_year": [1990, 2011],
            "sex": ["female", "male"],
            "postcode_prefix": ["981", "NA"],  # "NA" is a postcode here, not a missing value
            "school_grade": [None, 9],
            "pregnancy_due_date": [D(2025, 3, 1), None],
        },
        "programs": {
            "program_id": ["op", "ip"],
            "name": ["Outpatient, North", 'The "Harbor" unit'],
            "kind": ["outpatient", "inpatient"],
            "level_of_care": [1, 4],
            "capacity_slots": [120, 16],
        },
        "staff": {
            "staff_id": ["s1", "s2"],
            "role": ["clinician", "case_manager"],
            "program_id": ["op", "op"],
            "hours_per_week": [40, 20],
        },
        "referrals": {
            "referral_id": ["r1", "r2"],
            "person_id": ["p1", "p2"],
            "program_id": ["op", "op"],
            "referral_date": [D(2024, 1, 2), D(2024, 1, 20)],
            "source": ["primary_care", "self"],
            "priority": ["routine", "urgent"],
            "outcome": ["admitted", "not_reached"],
            "outcome_date": [D(2024, 1, 10), D(2024, 2, 3)],
            "outcome_reason": [None, "no answer to 3 calls and a letter"],
        },
        "episodes": {
            "episode_id": ["e1", "e2"],
            "person_id": ["p1", "p2"],
            "program_id": ["op", "ip"],
            "referral_id": ["r1", None],
            "primary_staff_id": ["s1", None],
            "start_date": [D(2024, 1, 10), D(2024, 2, 1)],
            "planned_end_date": [D(2024, 7, 10), None],
            "end_date": [None, D(2024, 2, 9)],
            "end_reason": [None, "stepped_down"],
            "is_sud": [True, False],
        },
        "services": {
            "service_id": ["v1", "v2", "v3"],
            "person_id": ["p1", "p1", "p2"],
            "episode_id": ["e1", "e1", None],
            "staff_id": ["s1", "s2", None],
            "service_date": [D(2024, 1, 12), D(2024, 1, 19), D(2024, 2, 12)],
            "code": ["90837", "T1016", "H2011"],
            "minutes": [60, 15, 30],
            "category": ["treatment", "case_management", "crisis"],
        },
        "measurements": {
            "measurement_id": ["m1", "m2"],
            "person_id": ["p1", "p1"],
            "episode_id": ["e1", "e1"],
            "instrument": ["phq9", "gad7"],
            "measured_on": [D(2024, 1, 12), D(2024, 1, 12)],
            "score": [14, 9],
            "items": ["[2, 2, 1, 2, 2, 1, 2, 2, 0]", None],
        },
    }
    return {name: pa.table(cols, schema=arrow_schema(name)) for name, cols in columns.items()}


def write_extract(folder: Path, fmt: ExtractFormat, tables: dict[str, pa.Table] | None = None) -> Path:
    for name, table in (tables or small_event_log()).items():
        write_table(table, folder, name, fmt)
    return folder


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_import_export_gives_identical_files(
    database_url: str, tmp_path: Path, fmt: ExtractFormat
) -> None:
    original = small_event_log()
    result = import_extract(write_extract(tmp_path / "in", fmt, original), database_url, progress=False)
    assert result.tables["services"] == TableCounts(inserted=3)
    counts = export_extract(database_url, tmp_path / "first", fmt, progress=False)
    assert counts == {name: t.num_rows for name, t in original.items()}

    fresh = f"sqlite:///{(tmp_path / 'fresh.sqlite').as_posix()}"
    import_extract(tmp_path / "first", fresh, progress=False)
    export_extract(fresh, tmp_path / "second", fmt, progress=False)
    for spec in EVENT_LOG:
        first = tmp_path / "first" / f"{spec.name}.{fmt}"
        assert first.read_bytes() == (tmp_path / "second" / first.name).read_bytes(), first.name
        exported = read_table_file(first, spec)
        if fmt == "csv":
            exported = normalise(exported, spec, Source(str(first), is_csv=True))
        assert exported.to_pylist() == original[spec.name].sort_by(spec.key).to_pylist(), spec.name


def test_import_of_the_same_extract_twice_changes_nothing(
    database_url: str, tmp_path: Path, row_counts: RowCounts
) -> None:
    source = write_extract(tmp_path / "in", "parquet")
    first = import_extract(source, database_url, progress=False)
    before = row_counts(database_url)
    second = import_extract(source, database_url, progress=False)
    assert first.changed and not second.changed
    assert all(c.unchanged == c.total and c.total > 0 for c in second.tables.values())
    assert second.content_hash == first.content_hash
    assert row_counts(database_url) == before
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            assert len(connection.execute(select(ImportRecord)).all()) == 2
    finally:
        engine.dispose()


def test_a_changed_row_is_updated_and_new_rows_inserted(
    database_url: str, tmp_path: Path, row_counts: RowCounts
) -> None:
    tables = small_event_log()
    import_extract(write_extract(tmp_path / "v1", "csv", tables), database_url, progress=False)
    episodes = tables["episodes"].to_pylist()
    episodes[0].update(end_date=D(2024, 6, 30), end_reason="graduated")  # the open episode has ended since
    people = tables["people"].to_pylist() + [
        {"person_id": "p3", "birth_year": 1970, "sex": "other", "postcode_prefix": "980",
         "school_grade": None, "pregnancy_due_date": None}
    ]  # fmt: skip
    changed = {
        "people": pa.Table.from_pylist(people, schema=arrow_schema("people")),
        "programs": tables["programs"],
        "episodes": pa.Table.from_pylist(episodes, schema=arrow_schema("episodes")),
    }
    result = import_extract(write_extract(tmp_path / "v2", "csv", changed), database_url, progress=False)
    assert result.tables == {
        "people": TableCounts(inserted=1, unchanged=2),
        "programs": TableCounts(unchanged=2),
        "episodes": TableCounts(updated=1, unchanged=1),
    }
    assert row_counts(database_url)["services"] == 3  # rows missing from a partial extract are kept
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT end_date, end_reason FROM episodes WHERE episode_id = 'e1'")
            ).one()
    finally:
        engine.dispose()
    assert (str(row[0]), row[1]) == ("2024-06-30", "graduated")


@pytest.mark.postgres
def test_an_import_leaves_postgresql_with_fresh_planner_statistics(postgres_url: str, tmp_path: Path) -> None:
    """Without them PostgreSQL planned a caseload's measurement query as a scan of the whole date index
    per episode until autovacuum got round to the new rows."""
    import_extract(write_extract(tmp_path / "in", "csv"), postgres_url, progress=False)
    engine = create_db_engine(postgres_url)
    try:
        with engine.connect() as connection:
            analysed: dict[str, bool] = dict(
                connection.execute(
                    text("SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables")
                ).all()
            )
    finally:
        engine.dispose()
    assert all(analysed[spec.name] for spec in EVENT_LOG), analysed


def test_a_partial_extract_may_refer_to_rows_already_in_the_database(sqlite_url: str, tmp_path: Path) -> None:
    tables = small_event_log()
    import_extract(write_extract(tmp_path / "base", "parquet", tables), sqlite_url, progress=False)
    later = {name: tables[name] for name in ("people", "programs")}
    later["services"] = pa.Table.from_pylist(
        [{"service_id": "v9", "person_id": "p2", "episode_id": "e2", "staff_id": "s1",
          "service_date": D(2024, 3, 1), "code": "90834", "minutes": 45, "category": "treatment"}],
        schema=arrow_schema("services"),
    )  # fmt: skip
    result = import_extract(write_extract(tmp_path / "later", "parquet", later), sqlite_url, progress=False)
    assert result.tables["services"] == TableCounts(inserted=1)


def test_export_refuses_a_folder_holding_the_other_format(sqlite_url: str, tmp_path: Path) -> None:
    from onward.errors import ConfigurationError

    import_extract(write_extract(tmp_path / "in", "parquet"), sqlite_url, progress=False)
    shutil.copytree(tmp_path / "in", tmp_path / "out")
    with pytest.raises(ConfigurationError, match="another format"):
        export_extract(sqlite_url, tmp_path / "out", "csv", progress=False)


def test_export_needs_an_initialised_database(sqlite_url: str, tmp_path: Path) -> None:
    from onward.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="onward init"):
        export_extract(sqlite_url, tmp_path / "out", progress=False)


def test_the_simulators_county_imports_and_reimports_cleanly(sqlite_url: str, tmp_path: Path) -> None:
    from onward.sim.synth import write_synthetic_county

    counts = write_synthetic_county(
        tmp_path / "county", people=400, years=1, seed=3, fmt="csv", progress=False
    )
    first = import_extract(tmp_path / "county", sqlite_url, progress=False)
    assert {name: c.inserted for name, c in first.tables.items()} == {
        t.name: counts[t.name] for t in EVENT_LOG
    }
    assert not import_extract(tmp_path / "county", sqlite_url, progress=False).changed
