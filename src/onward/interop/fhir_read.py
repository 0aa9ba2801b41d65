"""Read FHIR R4 Bulk Data NDJSON into event-log tables, every line checked, every error at its line.

Each `*.ndjson` file in the folder holds resources of one type (its name does not matter, as Bulk
Data servers name files their own way). Every line is parsed and checked against fhir.resources
(`fhir_check.BatchChecker`); then the resources Onward reads become event-log rows
(`fhir_map`), references are resolved across all files, and the rows go through the same checks and
the same single-transaction load as an extract (`extracts.import_tables`). Any error names the file,
the line and the FHIR element, and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from onward.errors import ValidationError
from onward.interop import fhir_codes as codes
from onward.interop import fhir_map as fm
from onward.interop.extracts import ImportResult, import_tables, progress_bars
from onward.interop.fhir_check import BatchChecker
from onward.interop.files import is_synthetic_extract
from onward.interop.questionnaire import QUESTIONNAIRE_URL_PREFIX
from onward.interop.validate import Problem, Source
from onward.model.eventlog import TABLES, Instrument

Advance = Callable[[int], None]
MakeTask = Callable[[str, int], Advance]

TABLE_OF: Mapping[str, str] = {
    "Patient": "people",
    "Organization": "programs",
    "PractitionerRole": "staff",
    "ServiceRequest": "referrals",
    "EpisodeOfCare": "episodes",
    "Encounter": "services",
    "Observation": "measurements",
}
_MAPPERS: Mapping[str, Callable[[fm.Json], fm.Row]] = {
    "Patient": fm.map_patient,
    "Organization": fm.map_organization,
    "PractitionerRole": fm.map_practitioner_role,
    "ServiceRequest": fm.map_service_request,
    "EpisodeOfCare": fm.map_episode_of_care,
    "Encounter": fm.map_encounter,
    "Observation": fm.map_observation,
}

#: The FHIR element each event-log column comes from, for errors found after mapping.
ELEMENTS: Mapping[str, Mapping[str, str]] = {
    "people": {
        "person_id": "Patient.identifier",
        "birth_year": "Patient.birthDate",
        "sex": "Patient.gender",
        "postcode_prefix": "Patient.extension(postcode-prefix)",
        "school_grade": "Patient.extension(school-grade)",
        "pregnancy_due_date": "Patient.extension(pregnancy-due-date)",
    },
    "programs": {
        "program_id": "Organization.identifier",
        "name": "Organization.name",
        "kind": "Organization.type",
        "level_of_care": "Organization.extension(level-of-care)",
        "capacity_slots": "Organization.extension(capacity-slots)",
    },
    "staff": {
        "staff_id": "PractitionerRole.identifier",
        "role": "PractitionerRole.code",
        "program_id": "PractitionerRole.organization",
        "hours_per_week": "PractitionerRole.extension(hours-per-week)",
    },
    "referrals": {
        "referral_id": "ServiceRequest.identifier",
        "person_id": "ServiceRequest.subject",
        "program_id": "ServiceRequest.performer",
        "referral_date": "ServiceRequest.authoredOn",
        "source": "ServiceRequest.extension(referral-source)",
        "priority": "ServiceRequest.priority",
        "outcome": "ServiceRequest.extension(referral-outcome)",
        "outcome_date": "ServiceRequest.extension(referral-outcome-date)",
        "outcome_reason": "ServiceRequest.extension(referral-outcome-reason)",
    },
    "episodes": {
        "episode_id": "EpisodeOfCare.identifier",
        "person_id": "EpisodeOfCare.patient",
        "program_id": "EpisodeOfCare.managingOrganization",
        "referral_id": "EpisodeOfCare.referralRequest",
        "primary_staff_id": "EpisodeOfCare.careManager",
        "start_date": "EpisodeOfCare.period.start",
        "planned_end_date": "EpisodeOfCare.extension(planned-end-date)",
        "end_date": "EpisodeOfCare.period.end",
        "end_reason": "EpisodeOfCare.extension(end-reason)",
        "is_sud": "EpisodeOfCare.meta.security",
    },
    "services": {
        "service_id": "Encounter.identifier",
        "person_id": "Encounter.subject",
        "episode_id": "Encounter.episodeOfCare",
        "staff_id": "Encounter.participant.individual",
        "service_date": "Encounter.period.start",
        "code": "Encounter.type",
        "minutes": "Encounter.length",
        "category": "Encounter.serviceType",
    },
    "measurements": {
        "measurement_id": "Observation.identifier",
        "person_id": "Observation.subject",
        "episode_id": "Observation.extension(workflow-episodeOfCare)",
        "instrument": "Observation.code",
        "measured_on": "Observation.effectiveDateTime",
        "score": "Observation.valueQuantity",
        "items": "Observation.derivedFrom (its QuestionnaireResponse)",
    },
}

CHECK_BATCH = 20_000
"""Lines whose values are checked together (one pydantic call per element per batch)."""


@dataclass(frozen=True, slots=True)
class FhirSource(Source):
    """Where each row of a table built from NDJSON came from: its file and line."""

    table: str = ""
    files: tuple[str, ...] = ()
    file_of: array[int] = field(default_factory=lambda: array("i"))
    line_of: array[int] = field(default_factory=lambda: array("i"))

    def error(self, problem: Problem) -> ValidationError:
        line = self.line_of[problem.index]
        return ValidationError(
            f"{problem.message} (event-log column {self.table}.{problem.column}; NDJSON line {line})",
            file=self.files[self.file_of[problem.index]],
            row=line,
            column=ELEMENTS[self.table].get(problem.column, problem.column),
            expected=problem.expected,
        )


@dataclass(slots=True)
class BulkRead:
    """The event-log rows read from a folder, and what was counted but not imported."""

    tables: dict[str, tuple[pa.Table, FhirSource]]
    files: list[Path]
    resources: Counter[str]
    skipped: Counter[str]
    content_hash: str


@dataclass(slots=True)
class _Response:
    file: int
    line: int
    instrument: str | None
    answers: list[tuple[str, Any]]
    used: bool = False


class _Reader:
    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self.rows: dict[str, list[fm.Row]] = {t: [] for t in TABLE_OF.values()}
        self.file_of: dict[str, array[int]] = {t: array("i") for t in TABLE_OF.values()}
        self.line_of: dict[str, array[int]] = {t: array("i") for t in TABLE_OF.values()}
        self.ids: dict[str, dict[str, Any]] = {}
        self.responses: dict[str, _Response] = {}
        self.resources: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()

    def fail(self, file: int, line: int, error: fm.MappingError) -> ValidationError:
        return ValidationError(
            f"{error.message} (NDJSON line {line})", file=str(self.files[file]), row=line, column=error.field
        )

    def read(self, index: int, advance: Advance) -> None:
        path = self.files[index]
        checker = BatchChecker(str(path))
        file_type: str | None = None
        pending_bytes = 0
        with path.open("rb") as handle:
            for line, raw in enumerate(handle, 1):
                pending_bytes += len(raw)
                if line % CHECK_BATCH == 0:
                    checker.flush()
                    advance(pending_bytes)
                    pending_bytes = 0
                if not raw.strip():
                    continue
                try:
                    resource = json.loads(raw)
                except ValueError as error:
                    raise ValidationError(
                        f"not JSON: {getattr(error, 'msg', error)} (NDJSON line {line})",
                        file=str(path),
                        row=line,
                        column=f"character {getattr(error, 'colno', '?')}",
                    ) from None
                checker.add(resource, line)
                resource_type = str(resource["resourceType"])
                if file_type is None:
                    file_type = resource_type
                elif resource_type != file_type:
                    raise ValidationError(
                        f"a {resource_type} in a file of {file_type} resources (NDJSON line {line})",
                        file=str(path),
                        row=line,
                        column="resourceType",
                        expected="one resource type per Bulk Data file",
                    )
                self.resources[resource_type] += 1
                try:
                    self._take(resource_type, resource, index, line)
                except fm.MappingError as error:
                    raise self.fail(index, line, error) from None
        checker.flush()
        advance(pending_bytes)

    def _take(self, resource_type: str, resource: fm.Json, file: int, line: int) -> None:
        if resource_type == "Practitioner":
            self.ids.setdefault("Practitioner", {})[str(resource.get("id"))] = fm.onward_id(resource, "staff")
            return
        if resource_type == "QuestionnaireResponse":
            questionnaire = str(resource.get("questionnaire") or "")
            instrument = questionnaire.removeprefix(QUESTIONNAIRE_URL_PREFIX)
            self.responses[str(resource.get("id"))] = _Response(
                file,
                line,
                instrument if questionnaire.startswith(QUESTIONNAIRE_URL_PREFIX) else None,
                fm.response_answers(resource),
            )
            return
        if resource_type not in _MAPPERS:
            self.skipped[f"{resource_type} (not read by Onward)"] += 1
            return
        if resource_type == "Encounter" and resource.get("status") not in fm.DELIVERED:
            self.skipped[f"Encounter with status {resource.get('status')}"] += 1
            return
        row = _MAPPERS[resource_type](resource)
        table = TABLE_OF[resource_type]
        key = TABLES[table].key
        self.ids.setdefault(resource_type, {})[str(resource.get("id"))] = row[key]
        self.rows[table].append(row)
        self.file_of[table].append(file)
        self.line_of[table].append(line)

    def resolve(self, value: Any) -> Any:
        """A Ref as the Onward id it names: through the ids of the files read, else the resource id
        itself (a record already in the database, checked like any reference)."""
        if not isinstance(value, fm.Ref):
            return value
        if value.onward_id is not None:
            return value.onward_id
        for resource_type in value.types:
            found = self.ids.get(resource_type, {}).get(str(value.resource_id))
            if found is not None:
                return self.resolve(found)
        return value.resource_id

    def items(self, row: fm.Row, file: int, line: int) -> str | None:
        ref = row["items"]
        if ref is None:
            return None
        response = self.responses.get(str(ref.resource_id))
        if response is None:
            raise self.fail(
                file,
                line,
                fm.MappingError(ref.field, f"QuestionnaireResponse/{ref.resource_id} is not in the import"),
            )
        response.used = True
        if response.instrument not in (None, row["instrument"]):
            raise self.fail(
                response.file,
                response.line,
                fm.MappingError(
                    "QuestionnaireResponse.questionnaire",
                    f"answers {response.instrument}; the Observation is {row['instrument']}",
                ),
            )
        try:
            return json.dumps(fm.item_scores(Instrument(row["instrument"]), response.answers))
        except fm.MappingError as error:
            raise self.fail(response.file, response.line, error) from None
        except ValueError:
            return None  # an unknown instrument: the measurements check names it

    def tables(self) -> dict[str, tuple[pa.Table, FhirSource]]:
        out: dict[str, tuple[pa.Table, FhirSource]] = {}
        names = tuple(str(p) for p in self.files)
        for table, rows in self.rows.items():
            if not rows:
                continue
            files, lines = self.file_of[table], self.line_of[table]
            if table == "measurements":
                for position, row in enumerate(rows):
                    row["items"] = self.items(row, files[position], lines[position])
            columns = {
                column: pa.array([_text(self.resolve(row.get(column))) for row in rows], pa.string())
                for column in TABLES[table].column_names
            }
            source = FhirSource(
                file=names[0], is_csv=False, table=table, files=names, file_of=files, line_of=lines
            )
            out[table] = (pa.table(columns), source)
        for response in self.responses.values():
            if not response.used:
                raise self.fail(
                    response.file,
                    response.line,
                    fm.MappingError(
                        "QuestionnaireResponse",
                        "no Observation is derived from it: Onward keeps answers with their total score",
                    ),
                )
        return out


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def bulk_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ValidationError(f"{folder} is not a folder")
    files = sorted(folder.glob(f"*{codes.NDJSON_SUFFIX}"))
    if not files:
        raise ValidationError(
            f"no {codes.NDJSON_SUFFIX} files in {folder}", expected="FHIR Bulk Data: one resource per line"
        )
    return files


def _content_hash(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.name}\n".encode())
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def read_bulk(folder: Path, *, task: MakeTask) -> BulkRead:
    """Every line of every NDJSON file in `folder` checked and mapped to event-log rows."""
    files = bulk_files(folder)
    reader = _Reader(files)
    for index, path in enumerate(files):
        reader.read(index, task(f"read {path.name}", path.stat().st_size))
    return BulkRead(reader.tables(), files, reader.resources, reader.skipped, _content_hash(files))


def import_bulk(folder: Path, url: str, *, progress: bool = True) -> tuple[ImportResult, BulkRead]:
    """Import a folder of FHIR NDJSON: every line checked, then the rows loaded in one transaction.

    Idempotent like an extract import (rows are upserted by id); raises ValidationError naming the
    file, line and element of the first problem, and then writes nothing.
    """
    with progress_bars(progress) as task:
        read = read_bulk(folder, task=task)
    tables = read.tables
    result = import_tables(
        list(tables),
        lambda name: tables[name],
        url,
        source=folder,
        content_hash=read.content_hash,
        synthetic=is_synthetic_extract(folder),
        progress=progress,
    )
    return result, read
