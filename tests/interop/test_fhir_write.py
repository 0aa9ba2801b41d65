from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from fhir.resources.R4B import get_fhir_model_class
from tests.interop.fhir_helpers import by_id, resources, write_small
from tests.interop.test_extracts import small_event_log

from onward.errors import ValidationError
from onward.interop import fhir_codes as codes
from onward.interop.fhir_check import ResourceError
from onward.interop.fhir_template import Col, Template, When
from onward.interop.files import arrow_schema

PART2 = [
    {"system": codes.V3_CONFIDENTIALITY, "code": "R", "display": "restricted"},
    {"system": codes.V3_ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
]


def test_every_line_passes_a_full_fhir_resources_validation(tmp_path: Path) -> None:
    counts = write_small(tmp_path)
    assert counts == {
        "Patient": 2,
        "Organization": 2,
        "Practitioner": 2,
        "PractitionerRole": 2,
        "ServiceRequest": 2,
        "EpisodeOfCare": 2,
        "Encounter": 3,
        "QuestionnaireResponse": 1,
        "Observation": 2,
    }
    for resource_type in counts:
        model = get_fhir_model_class(resource_type)
        for line in (tmp_path / f"{resource_type}.ndjson").read_text().splitlines():
            assert model.model_validate_json(line).model_dump()["id"]


def test_part2_resources_carry_the_ds4p_label_and_nothing_else_does(tmp_path: Path) -> None:
    write_small(tmp_path)  # episode e1 (referral r1, services v1 v2, measurements m1 m2) is SUD
    labelled = {
        (resource_type, r["id"])
        for resource_type in (
            "ServiceRequest",
            "EpisodeOfCare",
            "Encounter",
            "QuestionnaireResponse",
            "Observation",
        )
        for r in resources(tmp_path, resource_type)
        if r.get("meta", {}).get("security") == PART2
    }
    assert labelled == {
        ("ServiceRequest", "r1"),
        ("EpisodeOfCare", "e1"),
        ("Encounter", "v1"),
        ("Encounter", "v2"),
        ("QuestionnaireResponse", "m1"),
        ("Observation", "m1"),
        ("Observation", "m2"),
    }
    for resource_type in ("Patient", "Organization", "Practitioner", "PractitionerRole"):
        assert all("meta" not in r for r in resources(tmp_path, resource_type))


def test_observations_are_screening_totals_derived_from_the_response(tmp_path: Path) -> None:
    write_small(tmp_path)
    observations = by_id(tmp_path, "Observation")
    phq9, gad7 = observations["m1"], observations["m2"]
    assert phq9["code"]["coding"][0] == {"system": "http://loinc.org", "code": "44261-6"}
    assert gad7["code"]["coding"][0] == {"system": "http://loinc.org", "code": "70274-6"}
    assert phq9["category"][0]["coding"][0]["code"] == "survey"
    assert phq9["valueQuantity"]["value"] == 14 and phq9["effectiveDateTime"] == "2024-01-12"
    assert phq9["derivedFrom"] == [{"reference": "QuestionnaireResponse/m1"}]
    assert "derivedFrom" not in gad7  # no item answers, no QuestionnaireResponse
    assert phq9["extension"][0]["valueReference"] == {"reference": "EpisodeOfCare/e1"}
    response = by_id(tmp_path, "QuestionnaireResponse")["m1"]
    assert response["questionnaire"] == "urn:onward:questionnaire:phq9"
    answers = [item["answer"][0]["valueCoding"]["code"] for item in response["item"]]
    # items [2, 2, 1, 2, 2, 1, 2, 2, 0]: LOINC answer codes of the PHQ-9
    assert answers == ["LA6570-1"] * 2 + ["LA6569-3"] + ["LA6570-1"] * 2 + ["LA6569-3"] + ["LA6570-1"] * 2 + [
        "LA6568-5"
    ]


def test_episodes_and_encounters(tmp_path: Path) -> None:
    write_small(tmp_path)
    episodes = by_id(tmp_path, "EpisodeOfCare")
    open_, ended = episodes["e1"], episodes["e2"]
    assert open_["status"] == "active" and open_["period"] == {"start": "2024-01-10"}
    assert open_["managingOrganization"] == {"reference": "Organization/op"}
    assert open_["careManager"] == {"reference": "Practitioner/s1"}
    assert open_["referralRequest"] == [{"reference": "ServiceRequest/r1"}]
    assert ended["status"] == "finished" and ended["period"]["end"] == "2024-02-09"
    assert "careManager" not in ended
    encounters = by_id(tmp_path, "Encounter")
    assert encounters["v1"]["type"][0]["coding"][0] == {"system": codes.CPT, "code": "90837"}
    assert encounters["v2"]["type"][0]["coding"][0] == {"system": codes.HCPCS, "code": "T1016"}
    assert encounters["v1"]["length"] == {"value": 60, "unit": "min", "system": codes.UCUM, "code": "min"}
    assert encounters["v3"]["class"]["code"] == "AMB" and "episodeOfCare" not in encounters["v3"]


def test_ids_fhir_does_not_allow_are_hashed_and_kept_in_the_identifier(tmp_path: Path) -> None:
    tables = small_event_log()
    people = tables["people"].to_pylist()
    people[0]["person_id"] = "p 1/ü"
    tables["people"] = pa.Table.from_pylist(people, schema=arrow_schema("people"))
    for name in ("referrals", "episodes", "services", "measurements"):
        rows = [
            dict(r, person_id="p 1/ü" if r["person_id"] == "p1" else r["person_id"])
            for r in tables[name].to_pylist()
        ]
        tables[name] = pa.Table.from_pylist(rows, schema=arrow_schema(name))
    write_small(tmp_path, tables)
    fid = codes.fhir_id("p 1/ü")
    assert fid.startswith("h-") and len(fid) == 42
    patient = by_id(tmp_path, "Patient")[fid]
    assert patient["identifier"] == [{"system": "urn:onward:people", "value": "p 1/ü"}]
    assert by_id(tmp_path, "Encounter")["v1"]["subject"] == {"reference": f"Patient/{fid}"}


def test_text_is_escaped(tmp_path: Path) -> None:
    write_small(tmp_path)
    names = {r["name"] for r in resources(tmp_path, "Organization")}
    assert names == {"Outpatient, North", 'The "Harbor" unit'}


def test_a_value_the_element_type_refuses_is_reported_with_its_element() -> None:
    template = Template.of(
        {
            "resourceType": "Encounter",
            "id": Col("id"),
            "status": Col("status"),
            "class": {"system": codes.V3_ACT_CODE, "code": "AMB"},
            "period": When("has_start", {"start": Col("start", "date")}),
        }
    )
    table = pa.table(
        {
            "id": ["a", "b", "c"],
            "status": ["finished", "finished", "finished"],
            "has_start": [True, False, True],
            "start": [dt.date(2024, 1, 2), None, dt.date(2024, 1, 3)],
        }
    )
    lines = template.render(table)
    assert json.loads(lines[1].as_py()) == {
        "resourceType": "Encounter",
        "id": "b",
        "status": "finished",
        "class": {"system": codes.V3_ACT_CODE, "code": "AMB"},
    }
    template.check(table, lines, str)
    bad = table.set_column(1, "status", pa.array(["finished", "in progress  x", "finished"]))
    with pytest.raises(ResourceError) as caught:
        template.check(bad, template.render(bad), lambda row: f"row {row}")
    assert caught.value.field == "Encounter.status" and "row 1" in caught.value.message
    bad_id = table.set_column(0, "id", pa.array(["a", "b", "c_d"]))
    with pytest.raises(ResourceError) as caught:
        template.check(bad_id, template.render(bad_id), lambda row: f"row {row}")
    assert caught.value.field == "Encounter.id" and "row 2" in caught.value.message


def test_bad_item_scores_stop_the_export(tmp_path: Path) -> None:
    tables = small_event_log()
    rows = tables["measurements"].to_pylist()
    rows[0]["items"] = "[2, 2, 1]"
    tables["measurements"] = pa.Table.from_pylist(rows, schema=arrow_schema("measurements"))
    with pytest.raises((ValidationError, ResourceError), match="3 item scores"):
        write_small(tmp_path, tables)
