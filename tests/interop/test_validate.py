from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from onward.errors import ValidationError
from onward.interop.validate import Source, check_references, normalise
from onward.model.eventlog import TABLES

PARQUET = Source("x.parquet", is_csv=False)
CSV = Source("x.csv", is_csv=True)


def _people(**overrides: object) -> pa.Table:
    columns: dict[str, object] = {
        "person_id": ["p1", "p2"],
        "birth_year": [1990, 2011],
        "sex": ["female", "male"],
        "postcode_prefix": ["981", "980"],
        "school_grade": [None, 9],
        "pregnancy_due_date": [None, None],
    }
    columns.update(overrides)
    return pa.table(columns)


def test_foreign_but_exact_types_are_converted() -> None:
    table = normalise(
        _people(
            birth_year=pa.array([1990.0, 2011.0]),
            sex=pa.array(["female", "male"]).dictionary_encode(),
            school_grade=pa.array([None, 9], pa.int8()),
            pregnancy_due_date=pa.array([dt.datetime(2025, 3, 1), None], pa.timestamp("us")),
        ),
        TABLES["people"],
        PARQUET,
    )
    assert table.to_pylist()[0] == {
        "person_id": "p1",
        "birth_year": 1990,
        "sex": "female",
        "postcode_prefix": "981",
        "school_grade": None,
        "pregnancy_due_date": dt.date(2025, 3, 1),
    }


def test_text_cells_are_parsed_with_surrounding_spaces_allowed() -> None:
    table = normalise(
        _people(
            birth_year=[" 1990", "2011 "], school_grade=[None, " 9"], pregnancy_due_date=["2024-02-29 ", None]
        ),
        TABLES["people"],
        CSV,
    )
    assert table.column("birth_year").to_pylist() == [1990, 2011]
    assert table.column("pregnancy_due_date").to_pylist() == [dt.date(2024, 2, 29), None]


@pytest.mark.parametrize(
    ("overrides", "column", "fragment"),
    [
        (
            {"pregnancy_due_date": [None, "2023-02-29"]},
            "pregnancy_due_date",
            "'2023-02-29' is not a valid date",
        ),
        ({"birth_year": pa.array([1990.0, 1990.5])}, "birth_year", "1990.5 is not a whole number"),
        ({"birth_year": [1990, 1850]}, "birth_year", "from 1900 to 2100"),
        ({"postcode_prefix": ["981", "9" * 17]}, "postcode_prefix", "at most 16 characters"),
        ({"person_id": ["p1", ""]}, "person_id", "empty text"),
        (
            {"pregnancy_due_date": pa.array([None, dt.datetime(2025, 1, 1, 12)], pa.timestamp("s"))},
            "pregnancy_due_date",
            "has a time of day",
        ),
    ],
)
def test_the_second_row_is_reported(overrides: dict[str, object], column: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise(_people(**overrides), TABLES["people"], PARQUET, max_lengths={"postcode_prefix": 16})
    assert (caught.value.row, caught.value.column) == (2, column)
    assert fragment in str(caught.value)


def test_items_must_be_a_json_list_of_whole_numbers() -> None:
    measurements = pa.table(
        {
            "measurement_id": ["m1", "m2", "m3"],
            "person_id": ["p1"] * 3,
            "episode_id": [None] * 3,
            "instrument": ["phq9"] * 3,
            "measured_on": ["2024-01-01"] * 3,
            "score": ["3", "1", "0"],
            "items": ["[1, 2,0]", None, "[1, 'a']"],
        }
    )
    with pytest.raises(ValidationError, match="JSON list") as caught:
        normalise(measurements, TABLES["measurements"], CSV)
    assert caught.value.row == 3
    assert "CSV line 4" in str(caught.value)


def test_booleans_accept_the_usual_spellings() -> None:
    episodes = pa.table(
        {
            "episode_id": ["a", "b", "c", "d"],
            "person_id": ["p"] * 4,
            "program_id": ["op"] * 4,
            "referral_id": [None] * 4,
            "start_date": ["2024-01-01"] * 4,
            "planned_end_date": [None] * 4,
            "end_date": [None] * 4,
            "end_reason": [None] * 4,
            "is_sud": ["TRUE", "0", "false", "1"],
        }
    )
    table = normalise(episodes, TABLES["episodes"], CSV)
    assert table.column("is_sud").to_pylist() == [True, False, False, True]


def test_references_accept_ids_known_anywhere_and_report_the_first_unknown() -> None:
    staff = normalise(
        pa.table(
            {
                "staff_id": ["s1", "s2", "s3"],
                "role": ["clinician"] * 3,
                "program_id": ["op", "db-only", "gone"],
                "hours_per_week": [40, 40, 40],
            }
        ),
        TABLES["staff"],
        PARQUET,
    )
    with pytest.raises(ValidationError, match="row 3, column program_id: unknown programs id 'gone'"):
        check_references(staff, TABLES["staff"], PARQUET, lambda _: pa.array(["op", "db-only"]))
