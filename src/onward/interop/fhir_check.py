"""FHIR resources checked by `fhir.resources` (its R4B models) at the speed of a bulk file.

Validating a resource with the full pydantic model costs about a millisecond, too slow for millions of
lines. Two resources with the same *structure* (the same keys, JSON types and list lengths, and the
same `resourceType` values) pass or fail the model's structural rules alike: unknown or missing
elements, choice types, nulls. What is left to check is each value against the type of its element.
So every distinct structure is validated once with the full model, and then every value is validated
with the pydantic type fhir.resources declares for its element (id, code, date, decimal, ...), a whole
column of values per call. The result is the model's verdict for each resource; the tests check this
against a full validation of every line.

fhir.resources has no 4.0.1 (R4) package; R4B (4.3.0) keeps R4's Patient, EpisodeOfCare, Encounter,
Observation, QuestionnaireResponse and the other resources used here unchanged (docs/references.md).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError

from onward.errors import ValidationError

Path = tuple[str, ...]
Json = Any


class ResourceError(Exception):
    """A resource the FHIR model refuses: the element path (`Encounter.period.start`) and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message

    def at(self, file: str, line: int) -> ValidationError:
        return ValidationError(
            f"not a valid FHIR R4 resource: {self.message} (NDJSON line {line})",
            file=file,
            row=line,
            column=self.field,
        )


@cache
def model_class(resource_type: str) -> type[FHIRAbstractModel]:
    try:
        return get_fhir_model_class(resource_type)
    except ValueError:
        raise ResourceError("resourceType", f"{resource_type!r} is not a FHIR resource type") from None


def _field_path(resource_type: str, loc: Sequence[int | str]) -> str:
    parts = [resource_type]
    for part in loc:
        if isinstance(part, int):
            parts[-1] += f"[{part}]"
        elif "[" not in part and part != "resource_type":  # pydantic's own validator names
            parts.append(part)
    return ".".join(parts)


def _first_error(resource_type: str, error: PydanticError) -> ResourceError:
    first = error.errors()[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    return ResourceError(_field_path(resource_type, first["loc"]), message)


def validate_full(resource: Json) -> None:
    """The whole resource through its fhir.resources model; ResourceError names the first bad element."""
    if not isinstance(resource, dict):
        raise ResourceError("(line)", "a FHIR resource is a JSON object")
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str):
        raise ResourceError("resourceType", "missing: every resource names its resourceType")
    klass = model_class(resource_type)
    try:
        klass.model_validate(resource)
    except PydanticError as error:
        raise _first_error(resource_type, error) from None


# --- element types ---------------------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """The element type under Optional[...] and List[...]."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0]
        elif origin is list:
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation


def _is_complex(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, FhirBase)


def _child(klass: type[FHIRAbstractModel], key: str) -> Any:
    for name, info in klass.model_fields.items():
        if (info.alias or name) == key:
            return _unwrap(info.annotation)
    raise ResourceError(f"{klass.__name__}.{key}", "not an element of this type")


@cache
def element_type(resource_type: str, path: Path) -> Any:
    """The pydantic type fhir.resources declares for the primitive element at `path` (list positions
    left out), e.g. `("period", "start")` of an Encounter is a FHIR dateTime."""
    klass: type[FHIRAbstractModel] = model_class(resource_type)
    annotation: Any = None
    for position, key in enumerate(path):
        annotation = _child(klass, key)
        if _is_complex(annotation) and position < len(path) - 1:
            klass = annotation.get_model_klass()
    if annotation is None or _is_complex(annotation):
        raise ResourceError(".".join((resource_type, *path)), "not a primitive element")
    return annotation


@cache
def _list_adapter(annotation: Any) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[annotation])


def check_values(resource_type: str, path: Path, values: list[Any]) -> tuple[int, str] | None:
    """The index and message of the first value the element's type refuses, or None when all pass."""
    if not values:
        return None
    try:
        _list_adapter(element_type(resource_type, path)).validate_python(values)
    except PydanticError as error:
        first = error.errors()[0]
        return int(first["loc"][0]), str(first["msg"]).removeprefix("Value error, ")
    return None


# --- structures ------------------------------------------------------------------------------------


def structure(resource: dict[str, Json]) -> tuple[Hashable, list[Any]]:
    """A resource's structure (keys, nesting, JSON types, list lengths, resource types) and its values in
    document order. Nulls are part of the structure, not values: where the model allows one, it is
    allowed in every resource of that structure."""
    shape: list[Any] = []
    values: list[Any] = []
    add, keep = shape.append, values.append

    def walk(node: dict[str, Json]) -> None:
        for key, value in node.items():
            add(key)
            kind = type(value)
            if kind is dict:
                add("{")
                walk(value)
                add("}")
            elif kind is list:
                add("[")
                for item in value:
                    if type(item) is dict:
                        add("{")
                        walk(item)
                        add("}")
                    else:
                        add(type(item))
                        if item is not None:
                            keep(item)
                add("]")
            elif key == "resourceType":
                add(value)
            else:
                add(kind)
                if value is not None:
                    keep(value)

    walk(resource)
    return tuple(shape), values


def value_paths(resource: dict[str, Json]) -> list[Path]:
    """The element path of each value `structure` lists, in the same order."""
    paths: list[Path] = []

    def walk(node: Json, path: Path) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key != "resourceType":
                    walk(value, (*path, key))
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
        elif node is not None:
            if path[:1] == ("contained",):
                raise ResourceError("contained", "contained resources are not read by Onward")
            paths.append(path)

    walk(resource, ())
    return paths


@dataclass(slots=True)
class _Pending:
    """Lines of one structure waiting for their values to be checked."""

    resource_type: str
    paths: list[Path]
    rows: list[list[Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


class BatchChecker:
    """Checks the resources of one file: each new structure in full at once, values a batch at a time.

    `add(resource, line)` raises for a new structure the model refuses; `flush()` checks the values
    collected since the last flush and raises a ValidationError naming the file, line and element
    of the first bad one (first in line order).
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self._pending: dict[Hashable, _Pending] = {}
        self._known: dict[Hashable, tuple[str, list[Path]]] = {}

    def add(self, resource: Json, line: int) -> None:
        if not isinstance(resource, dict):
            raise ResourceError("(line)", "a FHIR resource is a JSON object").at(self.file, line)
        shape, values = structure(resource)
        pending = self._pending.get(shape)
        if pending is None:
            known = self._known.get(shape)
            if known is None:
                try:
                    validate_full(resource)
                    known = (str(resource["resourceType"]), value_paths(resource))
                except ResourceError as error:
                    raise error.at(self.file, line) from None
                self._known[shape] = known
            pending = self._pending[shape] = _Pending(*known)
        pending.rows.append(values)
        pending.lines.append(line)

    def flush(self) -> None:
        failures: list[tuple[int, str, str]] = []
        for pending in self._pending.values():
            columns = list(zip(*pending.rows, strict=True)) if pending.rows else []
            for path, column in zip(pending.paths, columns, strict=True):
                distinct = list(dict.fromkeys(column))  # codes, systems and dates repeat: check each once
                found = check_values(pending.resource_type, path, distinct)
                if found is not None:
                    index, message = found
                    field_name = ".".join((pending.resource_type, *path))
                    first_row = column.index(distinct[index])
                    failures.append((pending.lines[first_row], field_name, message))
        self._pending.clear()
        if failures:
            line, field_name, message = min(failures)
            raise ResourceError(field_name, message).at(self.file, line)
