"""What the event log takes from each FHIR resource: one row per resource, references left to resolve.

Each `map_*` function reads one resource (already valid FHIR) and returns the row of its event-log
table; values that name another record are `Ref`s, resolved once every file is read
(`onward.interop.fhir_read`). A resource that lacks something the event log needs raises
MappingError naming the element. The rules, including those for Encounters from other systems, are
in docs/extracts.md ("FHIR R4 Bulk Data").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onward.interop import fhir_codes as codes
from onward.model.eventlog import Instrument
from onward.model.service_codes import SERVICE_CODES

Json = dict[str, Any]

#: Encounter statuses that mean the service took place; the others are counted and left out.
DELIVERED = frozenset({"finished", "in-progress"})
_CATALOGUE = {c.code: c.category.value for c in SERVICE_CODES}
_MINUTES_PER_UNIT = {"min": 1.0, "h": 60.0, "s": 1 / 60, "d": 1440.0}


class MappingError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference still to resolve: to one of `types`, by resource id or by Onward identifier."""

    types: tuple[str, ...]
    field: str
    resource_id: str | None = None
    onward_id: str | None = None


Row = dict[str, Any]


def own_identifier(resource: Json, table: str) -> str | None:
    """The value of the resource's identifier in Onward's system for `table`, if it has one."""
    identifiers = resource.get("identifier") or []
    for identifier in identifiers if isinstance(identifiers, list) else [identifiers]:
        if identifier.get("system") == codes.id_system(table) and identifier.get("value"):
            return str(identifier["value"])
    return None


def onward_id(resource: Json, table: str) -> str:
    """The Onward id: the identifier in Onward's system for `table`, else the resource id."""
    found = own_identifier(resource, table)
    if found is not None:
        return found
    if not resource.get("id"):
        raise MappingError(f"{resource['resourceType']}.id", "needs an id or an Onward identifier")
    return str(resource["id"])


def reference(
    value: Json | None, types: tuple[str, ...], field: str, *, required: bool = False
) -> Ref | None:
    """A Reference element as a Ref: `Type/id` (relative or absolute URL) or an Onward identifier."""
    if not value:
        if required:
            raise MappingError(field, f"missing: a reference to a {' or '.join(types)} is needed")
        return None
    identifier = value.get("identifier") or {}
    system = str(identifier.get("system", ""))
    if system.startswith(codes.ONWARD) and identifier.get("value"):
        return Ref(types, field, onward_id=str(identifier["value"]))
    text = value.get("reference")
    if not isinstance(text, str) or "/" not in text:
        raise MappingError(field, f"{text!r} is not a reference to a {' or '.join(types)}")
    parts = text.rstrip("/").split("/")
    resource_type, resource_id = parts[-2], parts[-1]
    if len(parts) >= 4 and parts[-2] == "_history":  # .../Patient/1/_history/2
        resource_type, resource_id = parts[-4], parts[-3]
    if resource_type not in types:
        raise MappingError(field, f"refers to a {resource_type}; expected a {' or '.join(types)}")
    return Ref(types, field, resource_id=resource_id)


def extension(resource: Json, name: str, key: str) -> Any:
    for item in resource.get("extension") or []:
        if item.get("url") == codes.extension_url(name):
            return item.get(key)
    return None


def code_in(concepts: Any, system: str) -> str | None:
    """The first code of `system` among the codings of a CodeableConcept (or a list of them)."""
    for concept in concepts if isinstance(concepts, list) else [concepts or {}]:
        for coding in concept.get("coding") or []:
            if coding.get("system") == system and coding.get("code"):
                return str(coding["code"])
    return None


def day(value: Any, field: str, *, required: bool = True) -> str | None:
    """The calendar day of a FHIR date or dateTime, as written (no time-zone conversion)."""
    if value is None:
        if required:
            raise MappingError(field, "missing: the event log needs this date")
        return None
    text = str(value)
    if len(text) < 10:
        raise MappingError(field, f"{text!r} is not a full date (YYYY-MM-DD)")
    return text[:10]


def is_part2(resource: Json) -> bool:
    return any(
        (label.get("system"), label.get("code")) == codes.PART2_POLICY
        for label in (resource.get("meta") or {}).get("security") or []
    )


def _coding(value: Any) -> str | None:
    return str(value["code"]) if isinstance(value, dict) and value.get("code") else None


# --- one function per resource type ----------------------------------------------------------------


def map_patient(r: Json) -> Row:
    birth = r.get("birthDate")
    if not birth:
        raise MappingError("Patient.birthDate", "missing: people.birth_year needs the year of birth")
    postcode = extension(r, "postcode-prefix", "valueString")
    if postcode is None:
        addresses = r.get("address") or []
        postal = addresses[0].get("postalCode") if addresses else None
        if not postal:
            raise MappingError("Patient.address.postalCode", "missing: people.postcode_prefix needs it")
        postcode = str(postal)[:3]
    return {
        "person_id": onward_id(r, "people"),
        "birth_year": str(birth)[:4],
        "sex": r.get("gender") or "unknown",
        "postcode_prefix": postcode,
        "school_grade": extension(r, "school-grade", "valueInteger"),
        "pregnancy_due_date": extension(r, "pregnancy-due-date", "valueDate"),
    }


def map_organization(r: Json) -> Row:
    kind = code_in(r.get("type"), codes.PROGRAM_KIND)
    if kind is None:
        raise MappingError("Organization.type", f"no program kind ({codes.PROGRAM_KIND}) coding")
    return {
        "program_id": onward_id(r, "programs"),
        "name": r.get("name"),
        "kind": kind,
        "level_of_care": extension(r, "level-of-care", "valueInteger"),
        "capacity_slots": extension(r, "capacity-slots", "valueInteger"),
    }


def map_practitioner_role(r: Json) -> Row:
    staff: str | Ref | None = own_identifier(r, "staff")
    if staff is None:
        staff = reference(r.get("practitioner"), ("Practitioner",), "PractitionerRole.practitioner")
    return {
        "staff_id": onward_id(r, "staff") if staff is None else staff,
        "role": code_in(r.get("code"), codes.STAFF_ROLE),
        "program_id": reference(
            r.get("organization"), ("Organization",), "PractitionerRole.organization", required=True
        ),
        "hours_per_week": extension(r, "hours-per-week", "valueInteger"),
    }


def map_service_request(r: Json) -> Row:
    performers = r.get("performer") or [None]
    priority = r.get("priority") or "routine"
    if priority not in codes.PRIORITY_FROM_FHIR:
        raise MappingError("ServiceRequest.priority", f"{priority!r} has no Onward priority")
    return {
        "referral_id": onward_id(r, "referrals"),
        "person_id": reference(r.get("subject"), ("Patient",), "ServiceRequest.subject", required=True),
        "program_id": reference(performers[0], ("Organization",), "ServiceRequest.performer", required=True),
        "referral_date": day(r.get("authoredOn"), "ServiceRequest.authoredOn"),
        "source": _coding(extension(r, "referral-source", "valueCoding")) or "other",
        "priority": codes.PRIORITY_FROM_FHIR[priority],
        "outcome": _coding(extension(r, "referral-outcome", "valueCoding")),
        "outcome_date": extension(r, "referral-outcome-date", "valueDate"),
        "outcome_reason": extension(r, "referral-outcome-reason", "valueString"),
    }


def map_episode_of_care(r: Json) -> Row:
    period = r.get("period") or {}
    referrals = r.get("referralRequest") or [None]
    return {
        "episode_id": onward_id(r, "episodes"),
        "person_id": reference(r.get("patient"), ("Patient",), "EpisodeOfCare.patient", required=True),
        "program_id": reference(
            r.get("managingOrganization"),
            ("Organization",),
            "EpisodeOfCare.managingOrganization",
            required=True,
        ),
        "referral_id": reference(referrals[0], ("ServiceRequest",), "EpisodeOfCare.referralRequest"),
        "primary_staff_id": reference(
            r.get("careManager"), ("Practitioner", "PractitionerRole"), "EpisodeOfCare.careManager"
        ),
        "start_date": day(period.get("start"), "EpisodeOfCare.period.start"),
        "planned_end_date": extension(r, "planned-end-date", "valueDate"),
        "end_date": day(period.get("end"), "EpisodeOfCare.period.end", required=False),
        "end_reason": _coding(extension(r, "end-reason", "valueCoding")),
        "is_sud": "true" if is_part2(r) else "false",
    }


def _service_code(r: Json) -> str:
    for system in (codes.HCPCS, codes.CPT, codes.SERVICE_CODE):
        found = code_in(r.get("type"), system)
        if found:
            return found
    raise MappingError("Encounter.type", f"no HCPCS ({codes.HCPCS}) or CPT ({codes.CPT}) code")


def _minutes(r: Json) -> int:
    length = r.get("length") or {}
    if length.get("value") is not None:
        unit = str(length.get("code") or length.get("unit") or "min")
        if unit not in _MINUTES_PER_UNIT:
            raise MappingError("Encounter.length", f"unit {unit!r} is not min, h, s or d (UCUM)")
        return math.floor(float(length["value"]) * _MINUTES_PER_UNIT[unit] + 0.5)
    period = r.get("period") or {}
    start, end = period.get("start"), period.get("end")
    if start and end and "T" in str(start) and "T" in str(end):
        seconds = (_instant(end) - _instant(start)).total_seconds()
        return math.floor(seconds / 60 + 0.5)
    raise MappingError("Encounter.length", "missing: give length, or a period with start and end times")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def map_encounter(r: Json) -> Row:
    """An Encounter of Onward's own export, or from another system (docs/extracts.md gives the rules)."""
    code = _service_code(r)
    category = code_in(r.get("serviceType"), codes.SERVICE_CATEGORY) or _CATALOGUE.get(code)
    if category is None:
        raise MappingError(
            "Encounter.type",
            f"service code {code!r} is not in the service-code catalogue and has no category",
        )
    episodes = r.get("episodeOfCare") or [None]
    participants = r.get("participant") or [{}]
    return {
        "service_id": onward_id(r, "services"),
        "person_id": reference(r.get("subject"), ("Patient",), "Encounter.subject", required=True),
        "episode_id": reference(episodes[0], ("EpisodeOfCare",), "Encounter.episodeOfCare"),
        "staff_id": reference(
            participants[0].get("individual"), ("Practitioner", "PractitionerRole"), "Encounter.participant"
        ),
        "service_date": day((r.get("period") or {}).get("start"), "Encounter.period.start"),
        "code": code,
        "minutes": _minutes(r),
        "category": category,
    }


def map_observation(r: Json) -> Row:
    instrument = code_in(r.get("code"), codes.INSTRUMENT)
    if instrument is None:
        loinc = code_in(r.get("code"), codes.LOINC)
        found = codes.INSTRUMENT_BY_LOINC.get(loinc or "")
        if found is None:
            raise MappingError(
                "Observation.code", "neither an Onward instrument nor a known LOINC total score"
            )
        instrument = found.value
    quantity = r.get("valueQuantity") or {}
    score = quantity.get("value", r.get("valueInteger"))
    if score is None or float(score) != int(float(score)):
        raise MappingError("Observation.value[x]", f"{score!r} is not a whole-number score")
    episode = None
    for item in r.get("extension") or []:
        if item.get("url") == codes.EPISODE_OF_CARE_EXTENSION:
            episode = reference(item.get("valueReference"), ("EpisodeOfCare",), "Observation.extension")
    derived = [d for d in r.get("derivedFrom") or [] if "QuestionnaireResponse/" in str(d.get("reference"))]
    effective = r.get("effectiveDateTime") or (r.get("effectivePeriod") or {}).get("start")
    return {
        "measurement_id": onward_id(r, "measurements"),
        "person_id": reference(r.get("subject"), ("Patient",), "Observation.subject", required=True),
        "episode_id": episode,
        "instrument": instrument,
        "measured_on": day(effective, "Observation.effectiveDateTime"),
        "score": int(float(score)),
        "items": reference(derived[0], ("QuestionnaireResponse",), "Observation.derivedFrom")
        if derived
        else None,
    }


def response_answers(r: Json) -> list[tuple[str, Any]]:
    """(linkId, answer) of each answered item of a QuestionnaireResponse, in order."""
    answers = []
    for item in r.get("item") or []:
        answer = (item.get("answer") or [None])[0]
        if answer is None:
            raise MappingError(
                "QuestionnaireResponse.item.answer", f"item {item.get('linkId')} has no answer"
            )
        answers.append((str(item.get("linkId")), answer))
    return answers


def item_scores(instrument: Instrument, answers: list[tuple[str, Any]]) -> list[int]:
    """The score of each item from its coded answer (or an integer answer, taken as the score)."""
    from onward.interop.questionnaire import ANSWER_SYSTEM_PREFIX
    from onward.model.instruments import INSTRUMENTS

    definition = INSTRUMENTS[instrument]
    if len(answers) != definition.n_items:
        raise MappingError(
            "QuestionnaireResponse.item",
            f"{len(answers)} answers; {definition.short_name} has {definition.n_items}",
        )
    scores = []
    for item, (_link, answer) in zip(definition.items, answers, strict=True):
        if "valueInteger" in answer:
            scores.append(int(answer["valueInteger"]))
            continue
        coding = answer.get("valueCoding") or {}
        for option in item.options:
            own = (f"{ANSWER_SYSTEM_PREFIX}{instrument.value}", str(option.value))
            if (coding.get("system"), coding.get("code")) in ((codes.LOINC, option.loinc), own):
                scores.append(item.score(option.value))
                break
        else:
            raise MappingError(
                "QuestionnaireResponse.item.answer",
                f"item {item.number}: {coding.get('code')!r} is not an answer of {definition.short_name}",
            )
    return scores
