"""A bad value anywhere stops the import, names file, row and column, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from onward.errors import ValidationError
from onward.interop.extracts import import_extract

RowCounts = Callable[[str], dict[str, int]]

HEADERS = {
    "people": "person_id,birth_year,sex,postcode_prefix,school_grade,pregnancy_due_date",
    "programs": "program_id,name,kind,level_of_care,capacity_slots",
    "episodes": "episode_id,person_id,program_id,referral_id,start_date,planned_end_date,end_date,end_reason,"
    "is_sud",
    "services": "service_id,person_id,episode_id,staff_id,service_date,code,minutes,category",
}
GOOD = {
    "people": ["p1,1990,female,981,,2025-03-01", "p2,2011,male,980,9,"],
    "programs": ['op,"Outpatient, North",outpatient,1,120', "ip,Harbor,inpatient,4,16"],
    "episodes": [
        "e1,p1,op,,2024-01-10,2024-07-10,,,true",
        "e2,p2,ip,,2024-02-01,,2024-02-09,stepped_down,false",
    ],
    "services": ["v1,p1,e1,,2024-01-12,90837,60,treatment", "v2,p2,e2,,2024-02-02,H2011,30,crisis"],
}


def write_csv(folder: Path, rows: dict[str, list[str]], headers: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in rows.items():
        header = (headers or HEADERS)[name]
        (folder / f"{name}.csv").write_text("\n".join([header, *lines]) + "\n")
    return folder


# (table, second data row, column, words the message must contain)
BAD_SECOND_ROWS = [
    (
        "episodes",
        "e2,p2,ip,,2024-02-30,,2024-03-09,stepped_down,false",
        "start_date",
        ["'2024-02-30'", "date"],
    ),
    ("episodes", "e2,p2,ip,,02/01/2024,,,,false", "start_date", ["'02/01/2024'", "YYYY-MM-DD"]),
    ("episodes", "e2,p2,nowhere,,2024-02-01,,,,false", "program_id", ["unknown programs id 'nowhere'"]),
    ("episodes", "e1,p2,ip,,2024-02-01,,,,false", "episode_id", ["duplicate id 'e1'", "row 1"]),
    ("episodes", "e2,p2,ip,,2024-02-01,,2024-02-09,cured,false", "end_reason", ["'cured'", "graduated"]),
    ("episodes", "e2,p2,ip,,2024-02-01,,,,maybe", "is_sud", ["'maybe'", "true or false"]),
    ("episodes", "e2,,ip,,2024-02-01,,,,false", "person_id", ["empty value", "required"]),
    ("services", "v2,p2,e2,,2024-02-02,H2011,abc,crisis", "minutes", ["'abc'", "whole number"]),
    ("services", "v2,p2,e2,,2024-02-02,H2011,2000,crisis", "minutes", ["2000", "from 0 to 1440"]),
    ("services", "v2,p2,e9,,2024-02-02,H2011,30,crisis", "episode_id", ["unknown episodes id 'e9'"]),
    ("people", "p2,2011,male,980,13,", "school_grade", ["13", "from 0 to 12"]),
]


@pytest.fixture
def loaded(database_url: str, tmp_path: Path, row_counts: RowCounts) -> tuple[str, dict[str, int]]:
    """A database that already holds the good extract, and its row counts."""
    import_extract(write_csv(tmp_path / "good", GOOD), database_url, progress=False)
    return database_url, row_counts(database_url)


@pytest.mark.parametrize(("table", "line", "column", "words"), BAD_SECOND_ROWS, ids=lambda v: str(v)[:30])
def test_a_bad_value_names_file_row_and_column_and_writes_nothing(
    loaded: tuple[str, dict[str, int]],
    tmp_path: Path,
    row_counts: RowCounts,
    table: str,
    line: str,
    column: str,
    words: list[str],
) -> None:
    url, before = loaded
    rows = {name: list(lines) for name, lines in GOOD.items()}
    rows["people"].append("p3,1970,other,975,,")  # a valid new person in an earlier table ...
    rows["programs"][1] = "ip,Harbor renamed,inpatient,4,18"  # ... and a valid change
    rows[table][1] = line
    with pytest.raises(ValidationError) as caught:
        import_extract(write_csv(tmp_path / "bad", rows), url, progress=False)
    error = caught.value
    assert error.file is not None and error.file.endswith(f"{table}.csv")
    assert (error.row, error.column) == (2, column)
    message = str(error)
    assert f"{table}.csv" in message and "row 2" in message and f"column {column}" in message
    assert "CSV line 3" in message
    for word in words:
        assert word in message
    assert row_counts(url) == before
    import_extract(tmp_path / "good", url, progress=False)  # the good extract still finds nothing to change
    assert row_counts(url) == before


def test_a_missing_column_is_named_with_the_expected_columns(
    sqlite_url: str, tmp_path: Path, row_counts: RowCounts
) -> None:
    headers = dict(HEADERS, episodes=HEADERS["episodes"].removesuffix(",is_sud"))
    rows = dict(GOOD, episodes=[line.rsplit(",", 1)[0] for line in GOOD["episodes"]])
    with pytest.raises(
        ValidationError, match=r"episodes\.csv, column is_sud: missing column \(expected columns"
    ):
        import_extract(write_csv(tmp_path / "x", rows, headers), sqlite_url, progress=False)
    assert row_counts(sqlite_url) == dict.fromkeys(row_counts(sqlite_url), 0)


def test_an_unexpected_column_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    headers = dict(HEADERS, people=HEADERS["people"] + ",nickname")
    rows = dict(GOOD, people=[line + ",x" for line in GOOD["people"]])
    with pytest.raises(ValidationError, match="column nickname: unexpected column"):
        import_extract(write_csv(tmp_path / "x", rows, headers), sqlite_url, progress=False)


def test_the_first_bad_row_is_reported_whatever_the_column(sqlite_url: str, tmp_path: Path) -> None:
    rows = dict(
        GOOD, services=["v1,p1,e1,,2024-01-12,90837,60,therapy", "v2,p2,e2,,2024-13-02,H2011,30,crisis"]
    )
    with pytest.raises(ValidationError) as caught:
        import_extract(write_csv(tmp_path / "x", rows), sqlite_url, progress=False)
    assert (caught.value.row, caught.value.column) == (1, "category")


def test_people_and_programs_are_required(sqlite_url: str, tmp_path: Path) -> None:
    rows = {name: GOOD[name] for name in ("people", "episodes")}
    with pytest.raises(ValidationError, match="no programs file") as caught:
        import_extract(write_csv(tmp_path / "x", rows), sqlite_url, progress=False)
    assert "programs.parquet or programs.csv" in str(caught.value)


def test_a_wrongly_typed_parquet_column_is_reported(sqlite_url: str, tmp_path: Path) -> None:
    folder = write_csv(tmp_path / "x", {"programs": GOOD["programs"]})
    people = pa.table(
        {
            "person_id": [1, 2],  # ids are text in the contract
            "birth_year": [1990, 2011],
            "sex": ["female", "male"],
            "postcode_prefix": ["981", "980"],
            "school_grade": [None, 9],
            "pregnancy_due_date": [None, None],
        }
    )
    pq.write_table(people, folder / "people.parquet")
    with pytest.raises(
        ValidationError, match=r"people\.parquet, column person_id: column has type int64 \(expected text\)"
    ):
        import_extract(folder, sqlite_url, progress=False)


def test_a_broken_file_is_reported_with_its_name(sqlite_url: str, tmp_path: Path) -> None:
    folder = write_csv(tmp_path / "x", {"programs": GOOD["programs"]})
    (folder / "people.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ValidationError, match=r"people\.parquet: cannot read the file"):
        import_extract(folder, sqlite_url, progress=False)


def test_a_row_with_too_few_fields_is_reported_with_its_line(sqlite_url: str, tmp_path: Path) -> None:
    rows = dict(GOOD, people=[GOOD["people"][0], "p2,2011,male"])
    with pytest.raises(ValidationError, match=r"people\.csv, row 2: 3 fields instead of 6 \(CSV line 3\)"):
        import_extract(write_csv(tmp_path / "x", rows), sqlite_url, progress=False)
