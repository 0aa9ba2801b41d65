"""NDJSON lines of one resource type from Arrow columns, written and checked a whole column at a time.

A template is the resource as nested dicts and lists whose leaves are constants or `Col` (a column
of the table being written); `When(mask, value)` puts an element (or a list item) only on the rows
where a boolean column is true. `render` joins constants and JSON-encoded columns with Arrow's string
kernels, so a million resources cost no Python loop. `check` validates the lines the way
`onward.interop.fhir_check` does: each distinct structure (each combination of `When` masks that
occurs) by a full fhir.resources model validation of its first line, and each column's distinct
values with the fhir.resources type of the element the column fills.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from onward.interop.fhir_check import Path, ResourceError, check_values, validate_full

ColumnKind = Literal["str", "int", "date"]


@dataclass(frozen=True, slots=True)
class Col:
    """A value from the named column; rows where it is null must be masked out by an enclosing `When`."""

    name: str
    kind: ColumnKind = "str"


@dataclass(frozen=True, slots=True)
class When:
    """`value` only on the rows where the boolean column `mask` is true."""

    mask: str
    value: Any


@dataclass(frozen=True, slots=True)
class _Slot:
    column: Col
    path: Path
    masks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Optional:
    """An object member present only where `mask` is true."""

    mask: str
    pieces: list[Piece]


@dataclass(frozen=True, slots=True)
class _Items:
    """A list whose items may each be optional (mask None: always there)."""

    items: list[tuple[str | None, list[Piece]]]


Piece = str | Col | _Optional | _Items

_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'


def _compile(value: Any, path: Path, masks: tuple[str, ...], slots: list[_Slot]) -> list[Piece]:
    if isinstance(value, Col):
        slots.append(_Slot(value, path, masks))
        return [value]
    if isinstance(value, dict):
        pieces: list[Piece] = ["{"]
        for position, (key, item) in enumerate(value.items()):
            # every key but the first starts with a comma, so optional keys can come and go
            prefix = ("," if position else "") + json.dumps(key) + ":"
            if isinstance(item, When):
                if position == 0:
                    raise ValueError("the first key of an object cannot be optional")
                inner = _compile(item.value, (*path, key), (*masks, item.mask), slots)
                pieces.append(_Optional(item.mask, [prefix, *inner]))
            else:
                pieces += [prefix, *_compile(item, (*path, key), masks, slots)]
        return [*pieces, "}"]
    if isinstance(value, list):
        items: list[tuple[str | None, list[Piece]]] = []
        for item in value:
            if isinstance(item, When):
                items.append((item.mask, _compile(item.value, path, (*masks, item.mask), slots)))
            else:
                items.append((None, _compile(item, path, masks, slots)))
        return [_Items(items)]
    return [json.dumps(value, ensure_ascii=False)]


def _masks_of(pieces: Sequence[Piece]) -> set[str]:
    found: set[str] = set()
    for piece in pieces:
        if isinstance(piece, _Optional):
            found |= {piece.mask} | _masks_of(piece.pieces)
        elif isinstance(piece, _Items):
            for mask, inner in piece.items:
                found |= ({mask} if mask else set()) | _masks_of(inner)
    return found


def _json_text(column: pa.Array, kind: ColumnKind) -> pa.Array:
    """Each value as JSON: numbers as digits, text and dates as quoted, escaped strings."""
    if kind == "int":
        return pc.cast(column, pa.string())
    text = pc.cast(column, pa.string())
    needs = pc.any(pc.match_substring_regex(text, _NEEDS_ESCAPE)).as_py()
    if not needs:
        return pc.binary_join_element_wise('"', text, '"', "")
    return pa.array(
        [None if v is None else json.dumps(v, ensure_ascii=False) for v in text.to_pylist()], pa.string()
    )


@dataclass(frozen=True, slots=True)
class Template:
    resource_type: str
    pieces: list[Piece]
    slots: tuple[_Slot, ...]

    @classmethod
    def of(cls, resource: dict[str, Any]) -> Template:
        if next(iter(resource)) != "resourceType":
            raise ValueError("a template starts with its resourceType")
        slots: list[_Slot] = []
        pieces = _compile(resource, (), (), slots)
        return cls(str(resource["resourceType"]), pieces, tuple(slots))

    def render(self, table: pa.Table) -> pa.Array:
        """One JSON line (without newline) per row of `table`."""
        encoded = {
            slot.column.name: _json_text(table.column(slot.column.name).combine_chunks(), slot.column.kind)
            for slot in self.slots
        }
        empty = pa.scalar("", pa.string())

        def present(mask: str) -> pa.Array:
            return pc.fill_null(table.column(mask).combine_chunks(), False)

        def join(pieces: Sequence[Piece]) -> pa.Array | pa.Scalar:
            parts: list[pa.Array | pa.Scalar] = []
            for piece in pieces:
                if isinstance(piece, str):
                    parts.append(pa.scalar(piece, pa.string()))
                elif isinstance(piece, Col):
                    parts.append(encoded[piece.name])
                elif isinstance(piece, _Optional):
                    parts.append(pc.if_else(present(piece.mask), join(piece.pieces), empty))
                else:  # each item with a leading comma; the first comma is cut off below
                    items: list[pa.Array | pa.Scalar] = []
                    for mask, inner in piece.items:
                        text = join([",", *inner])
                        items.append(text if mask is None else pc.if_else(present(mask), text, empty))
                    listed = _concat(items, empty)
                    if isinstance(listed, pa.Scalar):
                        parts.append(pa.scalar("[" + str(listed.as_py())[1:] + "]", pa.string()))
                    else:
                        parts += ["[", pc.utf8_slice_codeunits(listed, 1), "]"]
            return _concat([pa.scalar(p) if isinstance(p, str) else p for p in parts], empty)

        joined = join(self.pieces)
        if isinstance(joined, pa.Scalar):
            return pa.array([joined.as_py()] * table.num_rows, pa.string())
        return joined

    def check(self, table: pa.Table, lines: pa.Array, locate: Callable[[int], str]) -> None:
        """Every line valid: each structure in full once, each column's distinct values by element type.

        `locate(row)` names a row in an error (the id it came from); raises ResourceError.
        """
        masks = sorted(_masks_of(self.pieces))
        if table.num_rows == 0:
            return
        if masks:
            flags = pa.table({m: pc.fill_null(table.column(m), False) for m in masks})
            combos = flags.append_column("row", pa.array(range(table.num_rows), pa.int64()))
            firsts = combos.group_by(masks, use_threads=False).aggregate([("row", "min")])["row_min"]
            rows = sorted(int(r) for r in firsts.to_pylist())
        else:
            rows = [0]
        for row in rows:
            try:
                validate_full(json.loads(lines[row].as_py()))
            except ResourceError as error:
                raise ResourceError(error.field, f"{error.message} ({locate(row)})") from None
        for slot in self.slots:
            column = table.column(slot.column.name).combine_chunks()
            present = pc.is_valid(column)
            for mask in slot.masks:
                present = pc.and_(present, pc.fill_null(table.column(mask).combine_chunks(), False))
            values = column.filter(present)
            if slot.column.kind == "date":
                values = pc.cast(values, pa.string())
            distinct = pc.unique(values).to_pylist()
            found = check_values(self.resource_type, slot.path, distinct)
            if found is not None:
                index, message = found
                row = pc.index(
                    column if slot.column.kind != "date" else pc.cast(column, pa.string()), distinct[index]
                ).as_py()
                field = ".".join((self.resource_type, *slot.path))
                raise ResourceError(field, f"{message} ({locate(int(row))})")


def _concat(parts: Sequence[pa.Array | pa.Scalar], empty: pa.Scalar) -> pa.Array | pa.Scalar:
    if not any(isinstance(p, pa.Array) for p in parts):
        return pa.scalar("".join(str(p.as_py()) for p in parts), pa.string())
    return pc.binary_join_element_wise(*parts, empty)
