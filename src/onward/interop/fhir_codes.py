"""The vocabulary of Onward's FHIR R4 Bulk Data files: code systems, security labels, value maps, ids.

Every public code here is listed with its source in docs/references.md ("FHIR Bulk Data"); Onward's own
values (program kinds, end reasons, referral outcomes, ...) travel in `urn:onward:` code systems so that
an export imports back into exactly the same event log. The mapping itself is described in
docs/extracts.md ("FHIR R4 Bulk Data").
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

from onward.model.eventlog import Instrument, Priority, ReferralOutcome
from onward.model.instruments import INSTRUMENTS

#: Bulk Data output: one `<ResourceType>.ndjson` file per resource type, in dependency order.
RESOURCE_TYPES: Final = (
    "Patient",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "ServiceRequest",
    "EpisodeOfCare",
    "Encounter",
    "QuestionnaireResponse",
    "Observation",
)
NDJSON_SUFFIX: Final = ".ndjson"

# --- public code systems ---------------------------------------------------------------------------

LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
HCPCS: Final = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
CPT: Final = "http://www.ama-assn.org/go/cpt"
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
V3_ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_CONFIDENTIALITY: Final = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
EPISODE_OF_CARE_EXTENSION: Final = "http://hl7.org/fhir/StructureDefinition/workflow-episodeOfCare"

#: The DS4P security label of a 42 CFR Part 2 record: restricted confidentiality, Part 2 policy.
PART2_LABELS: Final = (
    {"system": V3_CONFIDENTIALITY, "code": "R", "display": "restricted"},
    {"system": V3_ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
)
PART2_POLICY: Final = (V3_ACT_CODE, "42CFRPart2")

# --- Onward's own systems --------------------------------------------------------------------------

ONWARD: Final = "urn:onward:"


def id_system(table: str) -> str:
    """The identifier system of an event-log table's ids, e.g. `urn:onward:people`."""
    return f"{ONWARD}{table}"


PROGRAM_KIND: Final = f"{ONWARD}program-kind"
STAFF_ROLE: Final = f"{ONWARD}staff-role"
REFERRAL_SOURCE: Final = f"{ONWARD}referral-source"
REFERRAL_OUTCOME: Final = f"{ONWARD}referral-outcome"
END_REASON: Final = f"{ONWARD}end-reason"
SERVICE_CATEGORY: Final = f"{ONWARD}service-category"
SERVICE_CODE: Final = f"{ONWARD}service-code"
INSTRUMENT: Final = f"{ONWARD}instrument"


def extension_url(name: str) -> str:
    """Onward's extension for an event-log value FHIR has no element for, e.g. `planned-end-date`."""
    return f"{ONWARD}extension:{name}"


# --- value maps ------------------------------------------------------------------------------------

#: ServiceRequest.priority (request-priority) for each CCBHC access tier; the map is one to one.
PRIORITY_TO_FHIR: Final[dict[str, str]] = {
    Priority.ROUTINE.value: "routine",
    Priority.URGENT.value: "urgent",
    Priority.EMERGENT.value: "stat",
}
PRIORITY_FROM_FHIR: Final = {v: k for k, v in PRIORITY_TO_FHIR.items()}

#: ServiceRequest.status for each referral outcome: open (active), admitted (completed), closed (revoked).
OUTCOME_STATUS: Final[dict[str, str]] = {
    ReferralOutcome.WAITING.value: "active",
    ReferralOutcome.OFFERED.value: "active",
    ReferralOutcome.ADMITTED.value: "completed",
    ReferralOutcome.WITHDRAWN.value: "revoked",
    ReferralOutcome.DECLINED.value: "revoked",
    ReferralOutcome.NOT_REACHED.value: "revoked",
    ReferralOutcome.REFERRED_ELSEWHERE.value: "revoked",
}

#: Encounter.class (v3-ActCode) by the kind of the episode's program; every other service is ambulatory.
ENCOUNTER_CLASS: Final[dict[str, tuple[str, str]]] = {
    "inpatient": ("IMP", "inpatient encounter"),
    "residential": ("NONAC", "inpatient non-acute"),
}
AMBULATORY: Final = ("AMB", "ambulatory")

_HCPCS_LEVEL_II = re.compile(r"^[A-V]\d{4}$")
_CPT = re.compile(r"^\d{4}[0-9FTU]$")


def service_code_system(code: str) -> str:
    """HCPCS Level II (a letter and four digits), CPT (five characters, the last a digit or F, T or U),
    else Onward's own service-code system."""
    if _HCPCS_LEVEL_II.match(code):
        return HCPCS
    if _CPT.match(code):
        return CPT
    return SERVICE_CODE


#: The LOINC code of each instrument's total score, where LOINC has one that Onward has checked
#: (docs/references.md): the definition's own code first, then the codes added for the export.
_EXTRA_TOTALS: Final[dict[Instrument, str]] = {
    Instrument.AUDIT: "75624-7",
    Instrument.DAST10: "82667-7",
}
LOINC_TOTAL: Final[dict[Instrument, str]] = {
    instrument: code
    for instrument, definition in INSTRUMENTS.items()
    if (code := definition.loinc_total or _EXTRA_TOTALS.get(instrument))
}
INSTRUMENT_BY_LOINC: Final = {code: instrument for instrument, code in LOINC_TOTAL.items()}

# --- resource ids ----------------------------------------------------------------------------------

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def fhir_id(value: str) -> str:
    """The FHIR resource id of an Onward id: the id itself when FHIR allows it (letters, digits, `-`
    and `.`, at most 64), else `h-` and 40 hex digits of its SHA-256. The Onward id always travels
    in the resource's identifier, so the import never has to reverse this."""
    if _FHIR_ID.match(value):
        return value
    return "h-" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:40]


def is_plain_id(value: str) -> bool:
    """Whether `fhir_id(value) == value`."""
    return _FHIR_ID.match(value) is not None
