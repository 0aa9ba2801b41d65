"""The event log as FHIR R4 Bulk Data: one `<ResourceType>.ndjson` file per resource type.

people → Patient, programs → Organization, staff → Practitioner and PractitionerRole, referrals →
ServiceRequest, episodes → EpisodeOfCare, services → Encounter, measurements → Observation (the total,
US Core screening-assessment style) and, where item answers exist, the QuestionnaireResponse it is
derived from. Everything recorded under a substance-use episode (42 CFR Part 2) carries the DS4P
security label. docs/extracts.md ("FHIR R4 Bulk Data") maps every column; each line is checked
against fhir.resources before it is written (`onward.interop.fhir_template`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from onward.errors import ValidationError
from onward.interop import fhir_codes as codes
from onward.interop.fhir_check import ResourceError
from onward.interop.fhir_template import Col, Template, When
from onward.interop.questionnaire import ANSWER_SYSTEM_PREFIX, QUESTIONNAIRE_URL_PREFIX
from onward.model.eventlog import Instrument
from onward.model.instruments import INSTRUMENTS
from onward.model.instruments.definition import Definition

Advance = Callable[[int], None]
_PART2 = {"security": [dict(label) for label in codes.PART2_LABELS]}
_ext = codes.extension_url


def _identifier(table: str, column: str) -> list[dict[str, Any]]:
    return [{"system": codes.id_system(table), "value": Col(column)}]


def _coding(system: str, code: Col | str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _ref(column: str) -> dict[str, Any]:
    return {"reference": Col(column)}


PATIENT = Template.of(
    {
        "resourceType": "Patient",
        "id": Col("fid"),
        "extension": [
            {"url": _ext("postcode-prefix"), "valueString": Col("postcode_prefix")},
            When("has_grade", {"url": _ext("school-grade"), "valueInteger": Col("school_grade", "int")}),
            When(
                "has_due",
                {"url": _ext("pregnancy-due-date"), "valueDate": Col("pregnancy_due_date", "date")},
            ),
        ],
        "identifier": _identifier("people", "person_id"),
        "gender": Col("sex"),
        "birthDate": Col("birth_year_text"),
    }
)

ORGANIZATION = Template.of(
    {
        "resourceType": "Organization",
        "id": Col("fid"),
        "extension": [
            {"url": _ext("level-of-care"), "valueInteger": Col("level_of_care", "int")},
            {"url": _ext("capacity-slots"), "valueInteger": Col("capacity_slots", "int")},
        ],
        "identifier": _identifier("programs", "program_id"),
        "active": True,
        "type": [_coding(codes.PROGRAM_KIND, Col("kind"))],
        "name": Col("name"),
    }
)

PRACTITIONER = Template.of(
    {"resourceType": "Practitioner", "id": Col("fid"), "identifier": _identifier("staff", "staff_id")}
)

PRACTITIONER_ROLE = Template.of(
    {
        "resourceType": "PractitionerRole",
        "id": Col("fid"),
        "extension": [{"url": _ext("hours-per-week"), "valueInteger": Col("hours_per_week", "int")}],
        "identifier": _identifier("staff", "staff_id"),
        "practitioner": _ref("practitioner_ref"),
        "organization": _ref("program_ref"),
        "code": [_coding(codes.STAFF_ROLE, Col("role"))],
    }
)

SERVICE_REQUEST = Template.of(
    {
        "resourceType": "ServiceRequest",
        "id": Col("fid"),
        "meta": When("part2", _PART2),
        "extension": [
            {
                "url": _ext("referral-source"),
                "valueCoding": {"system": codes.REFERRAL_SOURCE, "code": Col("source")},
            },
            When(
                "has_outcome",
                {
                    "url": _ext("referral-outcome"),
                    "valueCoding": {"system": codes.REFERRAL_OUTCOME, "code": Col("outcome")},
                },
            ),
            When(
                "has_outcome_date",
                {"url": _ext("referral-outcome-date"), "valueDate": Col("outcome_date", "date")},
            ),
            When(
                "has_outcome_reason",
                {"url": _ext("referral-outcome-reason"), "valueString": Col("outcome_reason")},
            ),
        ],
        "identifier": _identifier("referrals", "referral_id"),
        "status": Col("status"),
        "intent": "order",
        "priority": Col("fhir_priority"),
        "subject": _ref("patient_ref"),
        "authoredOn": Col("referral_date", "date"),
        "performer": [_ref("program_ref")],
    }
)

EPISODE_OF_CARE = Template.of(
    {
        "resourceType": "EpisodeOfCare",
        "id": Col("fid"),
        "meta": When("part2", _PART2),
        "extension": When(
            "has_extension",
            [
                When(
                    "has_planned_end",
                    {"url": _ext("planned-end-date"), "valueDate": Col("planned_end_date", "date")},
                ),
                When(
                    "has_end_reason",
                    {
                        "url": _ext("end-reason"),
                        "valueCoding": {"system": codes.END_REASON, "code": Col("end_reason")},
                    },
                ),
            ],
        ),
        "identifier": _identifier("episodes", "episode_id"),
        "status": Col("status"),
        "patient": _ref("patient_ref"),
        "managingOrganization": _ref("program_ref"),
        "period": {"start": Col("start_date", "date"), "end": When("has_end", Col("end_date", "date"))},
        "referralRequest": When("has_referral", [_ref("referral_ref")]),
        "careManager": When("has_primary", _ref("primary_ref")),
    }
)

ENCOUNTER = Template.of(
    {
        "resourceType": "Encounter",
        "id": Col("fid"),
        "meta": When("part2", _PART2),
        "identifier": _identifier("services", "service_id"),
        "status": "finished",
        "class": {"system": codes.V3_ACT_CODE, "code": Col("class_code"), "display": Col("class_display")},
        "type": [{"coding": [{"system": Col("code_system"), "code": Col("code")}]}],
        "serviceType": _coding(codes.SERVICE_CATEGORY, Col("category")),
        "subject": _ref("patient_ref"),
        "episodeOfCare": When("has_episode", [_ref("episode_ref")]),
        "participant": When("has_staff", [{"individual": _ref("staff_ref")}]),
        "period": {"start": Col("service_date", "date"), "end": Col("service_date", "date")},
        "length": {"value": Col("minutes", "int"), "unit": "min", "system": codes.UCUM, "code": "min"},
    }
)

OBSERVATION = Template.of(
    {
        "resourceType": "Observation",
        "id": Col("fid"),
        "meta": When("part2", _PART2),
        "extension": When(
            "has_episode",
            [{"url": codes.EPISODE_OF_CARE_EXTENSION, "valueReference": _ref("episode_ref")}],
        ),
        "identifier": _identifier("measurements", "measurement_id"),
        "status": "final",
        "category": [
            {"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}
        ],
        "code": {
            "coding": [
                When("has_loinc", {"system": codes.LOINC, "code": Col("loinc")}),
                {"system": codes.INSTRUMENT, "code": Col("instrument")},
            ],
            "text": Col("code_text"),
        },
        "subject": _ref("patient_ref"),
        "effectiveDateTime": Col("measured_on", "date"),
        "valueQuantity": {
            "value": Col("score", "int"),
            "unit": "{score}",
            "system": codes.UCUM,
            "code": "{score}",
        },
        "derivedFrom": When("has_items", [_ref("response_ref")]),
    }
)


def _response_template(definition: Definition) -> Template:
    items = [
        {
            "linkId": str(item.number),
            "answer": [{"valueCoding": {"system": Col(f"system_{i}"), "code": Col(f"code_{i}")}}],
        }
        for i, item in enumerate(definition.items)
    ]
    return Template.of(
        {
            "resourceType": "QuestionnaireResponse",
            "id": Col("fid"),
            "meta": When("part2", _PART2),
            "identifier": {"system": codes.id_system("measurements"), "value": Col("measurement_id")},
            "questionnaire": f"{QUESTIONNAIRE_URL_PREFIX}{definition.id.value}",
            "status": "completed",
            "subject": _ref("patient_ref"),
            "authored": Col("measured_on", "date"),
            "item": items,
        }
    )


RESPONSES: dict[Instrument, Template] = {i: _response_template(d) for i, d in INSTRUMENTS.items()}


# --- columns the templates read --------------------------------------------------------------------


def _fids(ids: pa.Array) -> pa.Array:
    """Resource ids (`fhir_codes.fhir_id`), vectorised for the usual case where every id is one already."""
    plain = pc.match_substring_regex(ids, r"^[A-Za-z0-9\-.]{1,64}$")
    if pc.all(pc.fill_null(plain, True)).as_py():
        return ids
    return pa.array([None if v is None else codes.fhir_id(v) for v in ids.to_pylist()], pa.string())


def _refs(resource_type: str, ids: pa.Array) -> pa.Array:
    """`ResourceType/<id>` references; null where the id is null."""
    return pc.binary_join_element_wise(f"{resource_type}/", _fids(ids), "")


def _mapped(values: pa.Array, mapping: dict[str, str], default: str | None = None) -> pa.Array:
    keys = list(mapping)
    index = pc.index_in(values, pa.array(keys, pa.string()))
    found = pc.take(pa.array([mapping[k] for k in keys], pa.string()), index)
    return found if default is None else pc.fill_null(found, default)


def _col(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


def _with(table: pa.Table, **columns: pa.Array) -> pa.Table:
    for name, values in columns.items():
        table = table.append_column(name, values)
    return table


def _is_in(values: pa.Array, members: pa.Array) -> pa.Array:
    return pc.fill_null(pc.is_in(values, value_set=members), False)


def _people(t: pa.Table) -> pa.Table:
    return _with(
        t,
        fid=_fids(_col(t, "person_id")),
        birth_year_text=pc.cast(_col(t, "birth_year"), pa.string()),
        has_grade=pc.is_valid(_col(t, "school_grade")),
        has_due=pc.is_valid(_col(t, "pregnancy_due_date")),
    )


def _staff(t: pa.Table) -> pa.Table:
    return _with(
        t,
        fid=_fids(_col(t, "staff_id")),
        practitioner_ref=_refs("Practitioner", _col(t, "staff_id")),
        program_ref=_refs("Organization", _col(t, "program_id")),
    )


def _referrals(t: pa.Table, part2_referrals: pa.Array) -> pa.Table:
    outcome = _col(t, "outcome")
    return _with(
        t,
        fid=_fids(_col(t, "referral_id")),
        part2=_is_in(_col(t, "referral_id"), part2_referrals),
        has_outcome=pc.is_valid(outcome),
        has_outcome_date=pc.is_valid(_col(t, "outcome_date")),
        has_outcome_reason=pc.is_valid(_col(t, "outcome_reason")),
        status=_mapped(outcome, codes.OUTCOME_STATUS, "active"),
        fhir_priority=_mapped(_col(t, "priority"), codes.PRIORITY_TO_FHIR),
        patient_ref=_refs("Patient", _col(t, "person_id")),
        program_ref=_refs("Organization", _col(t, "program_id")),
    )


def _episodes(t: pa.Table) -> pa.Table:
    planned, reason = pc.is_valid(_col(t, "planned_end_date")), pc.is_valid(_col(t, "end_reason"))
    ended = pc.is_valid(_col(t, "end_date"))
    return _with(
        t,
        fid=_fids(_col(t, "episode_id")),
        part2=pc.fill_null(_col(t, "is_sud"), False),
        has_planned_end=planned,
        has_end_reason=reason,
        has_extension=pc.or_(planned, reason),
        status=pc.if_else(ended, "finished", "active"),
        patient_ref=_refs("Patient", _col(t, "person_id")),
        program_ref=_refs("Organization", _col(t, "program_id")),
        has_end=ended,
        has_referral=pc.is_valid(_col(t, "referral_id")),
        referral_ref=_refs("ServiceRequest", _col(t, "referral_id")),
        has_primary=pc.is_valid(_col(t, "primary_staff_id")),
        primary_ref=_refs("Practitioner", _col(t, "primary_staff_id")),
    )


def _code_systems(code: pa.Array) -> pa.Array:
    hcpcs = pc.match_substring_regex(code, r"^[A-V]\d{4}$")
    cpt = pc.match_substring_regex(code, r"^\d{4}[0-9FTU]$")
    return pc.if_else(hcpcs, codes.HCPCS, pc.if_else(cpt, codes.CPT, codes.SERVICE_CODE))


def _services(t: pa.Table, episodes: pa.Table, programs: pa.Table, part2_episodes: pa.Array) -> pa.Table:
    kind_of_episode = pc.take(
        _col(programs, "kind"), pc.index_in(_col(episodes, "program_id"), _col(programs, "program_id"))
    )
    kind = pc.take(kind_of_episode, pc.index_in(_col(t, "episode_id"), _col(episodes, "episode_id")))
    classes = {k: v[0] for k, v in codes.ENCOUNTER_CLASS.items()}
    displays = {k: v[1] for k, v in codes.ENCOUNTER_CLASS.items()}
    return _with(
        t,
        fid=_fids(_col(t, "service_id")),
        part2=_is_in(_col(t, "episode_id"), part2_episodes),
        class_code=_mapped(kind, classes, codes.AMBULATORY[0]),
        class_display=_mapped(kind, displays, codes.AMBULATORY[1]),
        code_system=_code_systems(_col(t, "code")),
        patient_ref=_refs("Patient", _col(t, "person_id")),
        has_episode=pc.is_valid(_col(t, "episode_id")),
        episode_ref=_refs("EpisodeOfCare", _col(t, "episode_id")),
        has_staff=pc.is_valid(_col(t, "staff_id")),
        staff_ref=_refs("Practitioner", _col(t, "staff_id")),
    )


def _measurements(t: pa.Table, part2_episodes: pa.Array) -> pa.Table:
    instrument = _col(t, "instrument")
    loinc = _mapped(instrument, {i.value: code for i, code in codes.LOINC_TOTAL.items()})
    texts = {i.value: f"{d.short_name} total score" for i, d in INSTRUMENTS.items()}
    return _with(
        t,
        fid=_fids(_col(t, "measurement_id")),
        part2=_is_in(_col(t, "episode_id"), part2_episodes),
        has_episode=pc.is_valid(_col(t, "episode_id")),
        episode_ref=_refs("EpisodeOfCare", _col(t, "episode_id")),
        has_loinc=pc.is_valid(loinc),
        loinc=loinc,
        code_text=_mapped(instrument, texts),
        patient_ref=_refs("Patient", _col(t, "person_id")),
        has_items=pc.is_valid(_col(t, "items")),
        response_ref=_refs("QuestionnaireResponse", _col(t, "measurement_id")),
    )


def _answer_codes(definition: Definition, position: int) -> tuple[list[str | None], list[str | None]]:
    """(system, code) of the answer that earns each score 0..max on one item, as lookup lists."""
    item = definition.items[position]
    top = max(item.scores)
    systems: list[str | None] = [None] * (top + 1)
    values: list[str | None] = [None] * (top + 1)
    for option in item.options:
        score = item.score(option.value)
        if option.loinc:
            systems[score], values[score] = codes.LOINC, option.loinc
        else:
            systems[score] = f"{ANSWER_SYSTEM_PREFIX}{definition.id.value}"
            values[score] = str(option.value)
    return systems, values


def _responses(t: pa.Table, definition: Definition) -> pa.Table:
    """Measurements of one instrument that have items, with the answer coding of every item."""
    items = _col(t, "items")
    digits = pc.replace_substring_regex(items, r"[\[\]\s]", "")
    lists = pc.split_pattern(digits, ",")
    counts = pc.list_value_length(lists)
    wrong = pc.not_equal(counts, definition.n_items)
    if pc.any(wrong).as_py():
        row = pc.index(wrong, True).as_py()
        raise ResourceError(
            "QuestionnaireResponse.item",
            f"measurement {_col(t, 'measurement_id')[row]} has {counts[row]} item scores; "
            f"{definition.short_name} has {definition.n_items}",
        )
    scores = pc.cast(pc.list_flatten(lists), pa.int64()).to_numpy().reshape(-1, definition.n_items)
    columns: dict[str, pa.Array] = {}
    for position in range(definition.n_items):
        systems, values = _answer_codes(definition, position)
        index = pa.array(scores[:, position])
        columns[f"system_{position}"] = pc.take(pa.array(systems, pa.string()), index)
        columns[f"code_{position}"] = pc.take(pa.array(values, pa.string()), index)
    return _with(t, **columns)


# --- writing ---------------------------------------------------------------------------------------

ROWS_PER_CHUNK = 100_000
"""Rows rendered, checked and written at a time: bounds memory whatever the size of the event log."""


def _write_chunk(handle: BinaryIO, lines: pa.Array) -> None:
    """Append `lines` to the file, one per line, straight from Arrow's buffer (no Python strings)."""
    chunk = pc.binary_join_element_wise(lines, "\n", "")
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
    handle.write(memoryview(chunk.buffers()[2])[int(offsets[0]) : int(offsets[-1])])


def _checked(template: Template, table: pa.Table, key: str) -> pa.Array:
    lines = template.render(table)
    ids = _col(table, key)
    try:
        template.check(table, lines, lambda row: f"{key} {ids[row].as_py()}")
    except ResourceError as error:
        raise ValidationError(
            f"the export would not be valid FHIR R4: {error.message}", column=error.field
        ) from None
    return lines


def _responses_of(measurements: pa.Table) -> pa.Array | None:
    """QuestionnaireResponse lines of the measurements that have items, in the order of `measurements`."""
    parts: list[pa.Array] = []
    positions: list[pa.Array] = []
    instrument = _col(measurements, "instrument")
    has_items = _col(measurements, "has_items")
    for name, template in RESPONSES.items():
        mask = pc.and_(pc.equal(instrument, name.value), has_items)
        if not pc.any(mask).as_py():
            continue
        rows = measurements.filter(mask)
        parts.append(_checked(template, _responses(rows, INSTRUMENTS[name]), "measurement_id"))
        positions.append(pc.indices_nonzero(mask))
    if not parts:
        return None
    order = pc.sort_indices(pa.concat_arrays(positions))
    return pc.take(pa.concat_arrays(parts), order)


def _plans(tables: dict[str, pa.Table]) -> list[tuple[str, Callable[[pa.Table], pa.Array | None], pa.Table]]:
    """(resource type, lines of a slice, prepared table) for every resource type, in file order."""
    episodes = tables["episodes"]
    sud = episodes.filter(pc.fill_null(_col(episodes, "is_sud"), False))
    part2_episodes = _col(sud, "episode_id")
    part2_referrals = pc.drop_null(_col(sud, "referral_id"))
    programs = tables["programs"]
    staff = _staff(tables["staff"])
    measurements = _measurements(tables["measurements"], part2_episodes)

    def lines(template: Template, key: str) -> Callable[[pa.Table], pa.Array | None]:
        return lambda rows: _checked(template, rows, key)

    return [
        ("Patient", lines(PATIENT, "person_id"), _people(tables["people"])),
        (
            "Organization",
            lines(ORGANIZATION, "program_id"),
            _with(programs, fid=_fids(_col(programs, "program_id"))),
        ),
        ("Practitioner", lines(PRACTITIONER, "staff_id"), staff),
        ("PractitionerRole", lines(PRACTITIONER_ROLE, "staff_id"), staff),
        (
            "ServiceRequest",
            lines(SERVICE_REQUEST, "referral_id"),
            _referrals(tables["referrals"], part2_referrals),
        ),
        ("EpisodeOfCare", lines(EPISODE_OF_CARE, "episode_id"), _episodes(episodes)),
        (
            "Encounter",
            lines(ENCOUNTER, "service_id"),
            _services(tables["services"], episodes, programs, part2_episodes),
        ),
        ("QuestionnaireResponse", _responses_of, measurements.filter(_col(measurements, "has_items"))),
        ("Observation", lines(OBSERVATION, "measurement_id"), measurements),
    ]


def write_bulk(
    tables: dict[str, pa.Table], folder: Path, *, task: Callable[[str, int], Advance]
) -> dict[str, int]:
    """Write `<ResourceType>.ndjson` files to `folder`, resources in id order; a type with no
    resources gets no file. Returns the number of resources per type."""
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for resource_type, render, table in _plans(tables):
        if table.num_rows == 0:
            continue
        advance = task(f"write {resource_type}", table.num_rows)
        path = folder / f"{resource_type}{codes.NDJSON_SUFFIX}"
        with path.open("wb") as handle:
            for start in range(0, table.num_rows, ROWS_PER_CHUNK):
                rows = table.slice(start, ROWS_PER_CHUNK)
                lines = render(rows)
                if lines is not None:
                    _write_chunk(handle, lines)
                advance(rows.num_rows)
        counts[resource_type] = table.num_rows
    return counts
