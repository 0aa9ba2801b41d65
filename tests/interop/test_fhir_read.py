from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from tests.interop.conftest import RowCounts
from tests.interop.fhir_helpers import resources, write_lines, write_small
from tests.interop.test_extracts import small_event_log, write_extract

from onward.errors import ValidationError
from onward.interop import fhir_codes as codes
from onward.interop.extracts import export_extract, import_extract
from onward.interop.fhir_read import import_bulk
from onward.interop.files import table_path
from onward.model.eventlog import EVENT_LOG
from onward.store.migrate import upgrade_database


def _tables(url: str, folder: Path) -> dict[str, list[dict[str, Any]]]:
    import pyarrow.parquet as pq

    export_extract(url, folder, "parquet", progress=False)
    return {
        spec.name: pq.read_table(table_path(folder, spec.name, "parquet")).to_pylist() for spec in EVENT_LOG
    }


def test_round_trip_export_then_import_gives_the_same_event_log(database_url: str, tmp_path: Path) -> None:
    import_extract(write_extract(tmp_path / "in", "parquet"), database_url, progress=False)
    original = _tables(database_url, tmp_path / "before")
    write_small(tmp_path / "bulk", {name: small_event_log()[name] for name in original})

    fresh = f"sqlite:///{(tmp_path / 'fresh.sqlite').as_posix()}"
    result, read = import_bulk(tmp_path / "bulk", fresh, progress=False)
    assert {name: c.inserted for name, c in result.tables.items()} == {
        n: len(rows) for n, rows in original.items()
    }
    assert read.resources["QuestionnaireResponse"] == 1 and not read.skipped
    assert _tables(fresh, tmp_path / "after") == original


def test_round_trip_into_the_database_under_test(database_url: str, tmp_path: Path) -> None:
    write_small(tmp_path / "bulk")
    import_bulk(tmp_path / "bulk", database_url, progress=False)
    again, _read = import_bulk(tmp_path / "bulk", database_url, progress=False)
    assert not again.changed  # idempotent
    after = _tables(database_url, tmp_path / "after")
    expected = {name: t.sort_by(t.column_names[0]).to_pylist() for name, t in small_event_log().items()}
    assert after == expected


def _break(folder: Path, resource_type: str, position: int, change: Any) -> Path:
    items = resources(folder, resource_type)
    items[position] = change(copy.deepcopy(items[position]))
    return write_lines(folder / f"{resource_type}.ndjson", items)


def test_a_malformed_resource_names_file_line_and_element_and_nothing_is_written(
    sqlite_url: str, tmp_path: Path, row_counts: RowCounts
) -> None:
    upgrade_database(sqlite_url)
    write_small(tmp_path)

    def bad_date(r: dict[str, Any]) -> dict[str, Any]:
        r["period"]["start"] = "2024-13-01"
        return r

    path = _break(tmp_path, "Encounter", 2, bad_date)
    with pytest.raises(ValidationError) as caught:
        import_bulk(tmp_path, sqlite_url, progress=False)
    error = caught.value
    assert (error.file, error.row, error.column) == (str(path), 3, "Encounter.period.start")
    assert "NDJSON line 3" in str(error)
    assert sum(row_counts(sqlite_url).values()) == 0


def test_an_unknown_element_and_broken_json_are_reported_at_their_line(
    sqlite_url: str, tmp_path: Path
) -> None:
    write_small(tmp_path)
    path = _break(tmp_path, "Patient", 1, lambda r: dict(r, favouriteColour="blue"))
    with pytest.raises(ValidationError) as caught:
        import_bulk(tmp_path, sqlite_url, progress=False)
    assert (caught.value.file, caught.value.row, caught.value.column) == (
        str(path),
        2,
        "Patient.favouriteColour",
    )

    write_small(tmp_path)
    lines = (tmp_path / "Observation.ndjson").read_text().splitlines()
    (tmp_path / "Observation.ndjson").write_text(lines[0] + "\n" + lines[1][:-5] + "\n")
    with pytest.raises(ValidationError) as caught:
        import_bulk(tmp_path, sqlite_url, progress=False)
    assert caught.value.row == 2 and "not JSON" in str(caught.value)


def test_an_event_log_check_is_reported_at_the_resource_line(sqlite_url: str, tmp_path: Path) -> None:
    write_small(tmp_path)
    path = _break(tmp_path, "Encounter", 1, lambda r: dict(r, subject={"reference": "Patient/nobody"}))
    with pytest.raises(ValidationError) as caught:
        import_bulk(tmp_path, sqlite_url, progress=False)
    error = caught.value
    assert (error.file, error.row, error.column) == (str(path), 2, "Encounter.subject")
    assert "unknown people id 'nobody'" in str(error)


def test_a_response_without_its_observation_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    write_small(tmp_path)
    _break(tmp_path, "Observation", 0, lambda r: {k: v for k, v in r.items() if k != "derivedFrom"})
    with pytest.raises(ValidationError, match="no Observation is derived from it") as caught:
        import_bulk(tmp_path, sqlite_url, progress=False)
    assert caught.value.file == str(tmp_path / "QuestionnaireResponse.ndjson")


def _encounter(**changes: Any) -> dict[str, Any]:
    """An Encounter as another system might send it: its own ids, a CPT code, no Onward extensions."""
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": "ehr-7781",
        "status": "finished",
        "class": {"system": codes.V3_ACT_CODE, "code": "AMB"},
        "type": [
            {"coding": [{"system": "http://snomed.info/sct", "code": "185347001"}]},
            {"coding": [{"system": codes.CPT, "code": "90834"}]},
        ],
        "subject": {"reference": "https://ehr.example.org/fhir/Patient/p2"},
        "participant": [{"individual": {"reference": "Practitioner/s2"}}],
        "period": {"start": "2024-03-05T09:00:00-08:00", "end": "2024-03-05T09:50:00-08:00"},
    }
    resource.update(changes)
    return resource


def test_encounters_from_another_system(sqlite_url: str, tmp_path: Path, row_counts: RowCounts) -> None:
    import_extract(write_extract(tmp_path / "in", "parquet"), sqlite_url, progress=False)
    before = row_counts(sqlite_url)["services"]
    folder = tmp_path / "ehr"
    folder.mkdir()
    write_lines(
        folder / "encounters-0001.ndjson",
        [
            _encounter(),
            _encounter(id="ehr-7782", length={"value": 1.5, "unit": "h", "system": codes.UCUM, "code": "h"}),
            _encounter(id="ehr-7783", status="cancelled"),
        ],
    )
    result, read = import_bulk(folder, sqlite_url, progress=False)
    assert result.tables["services"].inserted == 2
    assert read.skipped == {"Encounter with status cancelled": 1}
    services = {r["service_id"]: r for r in _tables(sqlite_url, tmp_path / "out")["services"]}
    first, second = services["ehr-7781"], services["ehr-7782"]
    assert (first["person_id"], first["staff_id"], first["episode_id"]) == ("p2", "s2", None)
    assert (first["code"], first["category"], first["minutes"]) == ("90834", "treatment", 50)
    assert str(first["service_date"]) == "2024-03-05"  # the day as written, no time-zone conversion
    assert second["minutes"] == 90
    assert row_counts(sqlite_url)["services"] == before + 2

    write_lines(
        folder / "encounters-0001.ndjson",
        [_encounter(type=[{"coding": [{"system": codes.HCPCS, "code": "Z9999"}]}])],
    )
    with pytest.raises(ValidationError, match="not in the service-code catalogue") as caught:
        import_bulk(folder, sqlite_url, progress=False)
    assert (caught.value.row, caught.value.column) == (1, "Encounter.type")


def test_one_resource_type_per_file(sqlite_url: str, tmp_path: Path) -> None:
    write_small(tmp_path)
    patients = resources(tmp_path, "Patient")
    write_lines(tmp_path / "Patient.ndjson", [*patients, resources(tmp_path, "Organization")[0]])
    with pytest.raises(ValidationError, match="one resource type per Bulk Data file") as caught:
        import_bulk(tmp_path, sqlite_url, progress=False)
    assert caught.value.row == 3


def test_a_folder_without_ndjson_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no .ndjson files"):
        import_bulk(tmp_path, sqlite_url, progress=False)


def test_the_security_label_becomes_is_sud(sqlite_url: str, tmp_path: Path) -> None:
    write_small(tmp_path)
    episodes = {r["id"]: r for r in resources(tmp_path, "EpisodeOfCare")}
    assert json.dumps(episodes["e1"]["meta"]).count("42CFRPart2") == 1 and "meta" not in episodes["e2"]
    import_bulk(tmp_path, sqlite_url, progress=False)
    stored = {r["episode_id"]: r["is_sud"] for r in _tables(sqlite_url, tmp_path / "out")["episodes"]}
    assert stored == {"e1": True, "e2": False}
