"""The mapping file of an encounter (claims) CSV: which of its columns hold which Onward field, the date
format, recoded values, a local code system, and what new programs, staff and people get
(docs/extracts.md, "Encounter and claims CSV"). Read and checked here; applied by `encounters.py`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from onward.errors import ValidationError
from onward.model.eventlog import ProgramKind, ServiceCategory, Sex, StaffRole

#: Onward fields a mapping may name, and whether a file must have them.
FIELDS: dict[str, bool] = {
    "person_id": True,
    "service_date": True,
    "code": True,
    "service_id": False,
    "minutes": False,
    "units": False,
    "category": False,
    "staff_id": False,
    "staff_role": False,
    "program_id": False,
    "program_name": False,
    "episode_id": False,
    "birth_date": False,
    "birth_year": False,
    "sex": False,
    "postcode": False,
}
#: Fields whose values may be recoded under [values.FIELD], and what they must become.
RECODABLE: dict[str, tuple[str, ...]] = {
    "sex": tuple(s.value for s in Sex),
    "staff_role": tuple(r.value for r in StaffRole),
    "category": tuple(c.value for c in ServiceCategory),
}
_SECTIONS = {"source", "columns", "values", "codes", "new"}


@dataclass(frozen=True, slots=True)
class NewRows:
    """What a program, staff member, person or episode named first by the file is created with."""

    program_kind: str = ProgramKind.OUTPATIENT.value
    program_level_of_care: int = 1
    program_capacity_slots: int = 0
    staff_role: str = StaffRole.CLINICIAN.value
    staff_hours_per_week: int = 40
    sex: str = Sex.UNKNOWN.value
    postcode_prefix: str | None = None
    is_sud: bool | None = None  # None: true for medication_for_oud programs only


@dataclass(frozen=True, slots=True)
class Mapping:
    path: str
    columns: dict[str, str]  # Onward field -> CSV header
    date_format: str = "%Y-%m-%d"
    delimiter: str = ","
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    new: NewRows = field(default_factory=NewRows)

    def header(self, onward_field: str) -> str:
        """The CSV header an Onward field is read from (for error messages)."""
        return self.columns.get(onward_field, f"(no column for {onward_field})")


def _fail(path: str, column: str, message: str, expected: str | None = None) -> ValidationError:
    return ValidationError(message, file=path, column=column, expected=expected)


def _table(raw: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise _fail(path, key, "must be a table")
    return value


def _strings(raw: dict[str, Any], section: str, path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str) or not value:
            raise _fail(path, f"{section}.{key}", f"must be non-empty text, got {value!r}")
        out[str(key)] = value
    return out


def _new_rows(raw: dict[str, Any], path: str) -> NewRows:
    defaults = NewRows()
    kinds = {
        "program_kind": str,
        "program_level_of_care": int,
        "program_capacity_slots": int,
        "staff_role": str,
        "staff_hours_per_week": int,
        "sex": str,
        "postcode_prefix": str,
        "is_sud": bool,
    }
    values: dict[str, Any] = {}
    for key, value in raw.items():
        kind = kinds.get(key)
        if kind is None:
            raise _fail(path, f"new.{key}", "unknown setting", ", ".join(kinds))
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise _fail(path, f"new.{key}", f"must be {kind.__name__}, got {value!r}")
        values[key] = value
    new = NewRows(**{**{k: getattr(defaults, k) for k in kinds}, **values})
    for key, allowed in (
        ("program_kind", tuple(k.value for k in ProgramKind)),
        ("staff_role", RECODABLE["staff_role"]),
        ("sex", RECODABLE["sex"]),
    ):
        if getattr(new, key) not in allowed:
            raise _fail(path, f"new.{key}", f"unknown value {getattr(new, key)!r}", ", ".join(allowed))
    if not 1 <= new.program_level_of_care <= 5:  # noqa: PLR2004
        raise _fail(path, "new.program_level_of_care", "out of range", "1..5")
    if not 0 <= new.staff_hours_per_week <= 80:  # noqa: PLR2004
        raise _fail(path, "new.staff_hours_per_week", "out of range", "0..80")
    return new


def read_mapping(path: Path) -> Mapping:
    """The mapping file at `path`, checked (errors name the file and the key)."""
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"no mapping file {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(f"not valid TOML: {error}", file=where) from None
    unknown = sorted(set(raw) - _SECTIONS)
    if unknown:
        raise _fail(where, unknown[0], "unknown section", ", ".join(sorted(_SECTIONS)))
    columns = _strings(_table(raw, "columns", where), "columns", where)
    for name in columns:
        if name not in FIELDS:
            raise _fail(where, f"columns.{name}", "not an Onward field", ", ".join(FIELDS))
    for name, required in FIELDS.items():
        if required and name not in columns:
            raise _fail(where, f"columns.{name}", "missing: the file must name this column")
    source = _table(raw, "source", where)
    date_format = source.get("date_format", "%Y-%m-%d")
    delimiter = source.get("delimiter", ",")
    if not isinstance(date_format, str) or not isinstance(delimiter, str) or len(delimiter) != 1:
        raise _fail(where, "source", "date_format is text, delimiter one character")
    try:
        datetime.strptime(datetime(2024, 1, 31).strftime(date_format), date_format)
    except ValueError:
        raise _fail(
            where, "source.date_format", f"not a usable date format {date_format!r}", "e.g. %m/%d/%Y"
        ) from None
    values: dict[str, dict[str, str]] = {}
    for name, table in _table(raw, "values", where).items():
        if name not in RECODABLE:
            raise _fail(
                where, f"values.{name}", "values of this field cannot be recoded", ", ".join(RECODABLE)
            )
        if not isinstance(table, dict):
            raise _fail(where, f"values.{name}", "must be a table")
        recoded = _strings(table, f"values.{name}", where)
        bad = [v for v in recoded.values() if v not in RECODABLE[name]]
        if bad:
            raise _fail(where, f"values.{name}", f"unknown value {bad[0]!r}", ", ".join(RECODABLE[name]))
        values[name] = recoded
    codes = {
        k.strip().upper(): v.strip().upper()
        for k, v in _strings(_table(raw, "codes", where), "codes", where).items()
    }
    new = _new_rows(_table(raw, "new", where), where)
    return Mapping(where, columns, date_format, delimiter, values, codes, new)
