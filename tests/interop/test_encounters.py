"""`onward import --encounters FILE --mapping MAP`: the worked example of examples/encounters imports,
matches or creates what it names, counts unknown codes, is idempotent, and every error names the CSV
file, row and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from onward.errors import ValidationError
from onward.interop.encounters import import_encounters
from onward.interop.extracts import import_tables
from onward.interop.service_catalogue import CATEGORY, UNKNOWN, code_issues, load_catalogue
from onward.interop.validate import Source
from onward.model.service_codes import default_catalog
from onward.store.engine import create_db_engine
from onward.store.migrate import upgrade_database
from onward.store.tables import Person
from onward.store.tables_access import ServiceCodeIssue

EXAMPLE = Path(__file__).parents[2] / "examples" / "encounters"


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(r) for r in connection.execute(text(sql)).all()]
    finally:
        engine.dispose()


def test_the_worked_example_imports_and_again_changes_nothing(database_url: str) -> None:
    result = import_encounters(EXAMPLE / "claims.csv", EXAMPLE / "mapping.toml", database_url, progress=False)
    assert {n: c.inserted for n, c in result.tables.items()} == {
        "people": 3,
        "programs": 2,
        "staff": 4,
        "episodes": 2,
        "services": 10,
    }
    services = {
        r[0]: r[1:] for r in _rows(database_url, "SELECT service_id, code, minutes, category FROM services")
    }
    assert services["CL-1002"] == ("90834", 45, "treatment")  # local code BH-THER45 recoded
    assert services["CL-1004"] == ("T1016", 30, "case_management")  # 2 units x 15 minutes
    assert services["CL-1007"] == ("H0004", 45, "treatment")  # 3 units x 15 minutes
    assert services["CL-1010"] == ("S9484", 0, "other")  # unknown: imported, counted, listed
    assert [(i.code, i.kind, i.rows) for i in result.code_issues] == [("S9484", UNKNOWN, 1)]
    episodes = _rows(
        database_url, "SELECT episode_id, program_id, start_date, primary_staff_id FROM episodes ORDER BY 1"
    )
    assert [(e[0], e[1], str(e[2]), e[3]) for e in episodes] == [
        ("ADM-77", "FAC-N", "2025-01-08", "NPI-11"),
        ("ADM-78", "FAC-S", "2025-01-09", "NPI-13"),
    ]
    people = _rows(database_url, "SELECT person_id, birth_year, sex, postcode_prefix FROM people ORDER BY 1")
    assert people[0] == ("M-501", 1986, "female", "981")
    staff = {r[0]: r[1] for r in _rows(database_url, "SELECT staff_id, role FROM staff")}
    assert staff == {
        "NPI-11": "clinician",
        "NPI-12": "case_manager",
        "NPI-13": "clinician",
        "NPI-14": "prescriber",
    }
    assert _rows(database_url, "SELECT code, kind, rows, first_service_id FROM service_code_issues") == [
        ("S9484", "unknown", 1, "CL-1010")
    ]
    again = import_encounters(EXAMPLE / "claims.csv", EXAMPLE / "mapping.toml", database_url, progress=False)
    assert not again.changed and again.tables["services"].unchanged == 10


def test_people_already_stored_are_matched_not_overwritten(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)
    engine = create_db_engine(sqlite_url)
    with Session(engine) as s:
        s.add(Person(person_id="M-501", birth_year=1986, sex="female", postcode_prefix="982"))
        s.commit()
    import_encounters(EXAMPLE / "claims.csv", EXAMPLE / "mapping.toml", sqlite_url, progress=False)
    with Session(engine) as s:
        assert s.scalar(select(Person.postcode_prefix).where(Person.person_id == "M-501")) == "982"
    engine.dispose()


def _copy(
    tmp_path: Path, replace: tuple[str, str] | None = None, mapping: str | None = None
) -> tuple[Path, Path]:
    csv = tmp_path / "claims.csv"
    text_ = (EXAMPLE / "claims.csv").read_text()
    if replace:
        text_ = text_.replace(*replace)
    csv.write_text(text_)
    toml = tmp_path / "mapping.toml"
    shutil.copy(EXAMPLE / "mapping.toml", toml)
    if mapping is not None:
        toml.write_text(mapping)
    return csv, toml


@pytest.mark.parametrize(
    ("replace", "row", "column", "says"),
    [
        (("01/22/2025", "2025-01-22"), 3, "Date of Service", "is not a date"),
        (
            (
                "BH-THER45,1,NPI-11,LCSW,FAC-N,North Clinic,ADM-77\nCL-1003",
                "BH-THER45,two,NPI-11,LCSW,FAC-N,North Clinic,ADM-77\nCL-1003",
            ),
            2,
            "Units",
            "not a number of units",
        ),
        (("CL-1006,M-502", "CL-1005,M-502"), 6, "Claim Line ID", "duplicate id"),
        (("CL-1009,M-503,07/30/1975,U", "CL-1009,M-503,07/30/1975,X"), 9, "Gender", "'X'"),
        (("CL-1005,M-502,11/02/1999", "CL-1005,,11/02/1999"), 5, "Member ID", "empty value"),
    ],
)
def test_errors_name_the_csv_file_row_and_column(
    tmp_path: Path, sqlite_url: str, replace: tuple[str, str], row: int, column: str, says: str
) -> None:
    csv, toml = _copy(tmp_path, replace)
    upgrade_database(sqlite_url)
    with pytest.raises(ValidationError) as caught:
        import_encounters(csv, toml, sqlite_url, progress=False)
    error = caught.value
    assert (error.file, error.row, error.column) == (str(csv), row, column), str(error)
    assert says in str(error) and f"CSV line {row + 1}" in str(error)
    assert _rows(sqlite_url, "SELECT count(*) FROM services") == [(0,)]  # nothing written


def test_mapping_errors_name_the_key(tmp_path: Path, sqlite_url: str) -> None:
    base = (EXAMPLE / "mapping.toml").read_text()
    for broken, key in (
        (base.replace('code = "Proc Code"', 'code = "Procedure"'), "Procedure"),
        (base.replace('code = "Proc Code"\n', ""), "columns.code"),
        (base.replace('F = "female"', 'F = "woman"'), "values.sex"),
        (base.replace('program_kind = "outpatient"', 'program_kind = "spa"'), "new.program_kind"),
        (base + '\n[colour]\nx = "y"\n', "colour"),
    ):
        csv, toml = _copy(tmp_path, mapping=broken)
        with pytest.raises(ValidationError) as caught:
            import_encounters(csv, toml, sqlite_url, progress=False)
        assert caught.value.column == key, str(caught.value)


def test_a_site_catalogue_knows_its_own_codes(tmp_path: Path, sqlite_url: str) -> None:
    site = tmp_path / "codes.csv"
    site.write_text(
        "code,description,category,minutes,unit,source\n"
        "S9484,Crisis intervention mental health services per hour,crisis,60,session,"
        "Site billing manual 2025\n"
    )
    result = import_encounters(
        EXAMPLE / "claims.csv",
        EXAMPLE / "mapping.toml",
        sqlite_url,
        progress=False,
        catalogue=load_catalogue(site),
    )
    assert result.code_issues == ()
    assert _rows(sqlite_url, "SELECT minutes, category FROM services WHERE service_id = 'CL-1010'") == [
        (240, "crisis")
    ]


def test_disagreeing_categories_are_counted_on_any_import(sqlite_url: str, tmp_path: Path) -> None:
    import pyarrow as pa

    services = pa.table(
        {
            "service_id": ["s1", "s2", "s3", "s4"],
            "code": ["90834", "90834", "t1016", "LOCAL1"],
            "category": ["treatment", "case_management", "case_management", "skills"],
        }
    )
    issues = code_issues(services, default_catalog())
    assert [
        (i.code, i.kind, i.given_category, i.catalogue_category, i.rows, i.first_service_id) for i in issues
    ] == [
        ("90834", CATEGORY, "case_management", "treatment", 1, "s2"),
        ("LOCAL1", UNKNOWN, "skills", None, 1, "s4"),
    ]
    # through the shared import path (an extract or FHIR import): counted and kept
    tables = {
        "people": pa.table(
            {
                "person_id": ["a"],
                "birth_year": ["1990"],
                "sex": ["female"],
                "postcode_prefix": ["981"],
                "school_grade": [None],
                "pregnancy_due_date": [None],
            }
        ),
        "services": pa.table(
            {
                "service_id": ["s1"],
                "person_id": ["a"],
                "episode_id": [None],
                "staff_id": [None],
                "service_date": ["2025-01-01"],
                "code": ["90834"],
                "minutes": ["45"],
                "category": ["case_management"],
            }
        ),
    }
    result = import_tables(
        list(tables),
        lambda n: (tables[n], Source(file=f"{n}.csv", is_csv=True)),
        sqlite_url,
        source=tmp_path,
        content_hash="x",
        synthetic=False,
        progress=False,
    )
    assert [i.kind for i in result.code_issues] == [CATEGORY]
    engine = create_db_engine(sqlite_url)
    with Session(engine) as s:
        assert s.scalars(select(ServiceCodeIssue.code)).all() == ["90834"]
    engine.dispose()
