"""Vectorised checks of an extract table against the event-log contract, reporting the first bad row.

Every check is one Arrow compute pass over a whole column that yields a "bad" mask; only the
index of its first True is looked at, so a 3-million-row file is checked without a Python loop.
Rows are numbered from 1 for the first data row (in a CSV file that is line 2, after the header).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from onward.errors import ValidationError
from onward.interop.files import arrow_type
from onward.model.eventlog import Column, Table

INT_MAX = 2**31 - 1
"""Event-log integers are stored as SQL INTEGER, 32-bit in PostgreSQL."""

_INT_PATTERN = r"^-?\d{1,18}$"
_JSON_INT_LIST_PATTERN = r"^\[\s*(-?\d+(\s*,\s*-?\d+)*)?\s*\]$"
_TRUE = ("true", "t", "1", "yes")
_FALSE = ("false", "f", "0", "no")

_EXPECTED_KIND = {
    "str": "text",
    "int": "a whole number",
    "date": "an ISO date YYYY-MM-DD",
    "bool": "true or false",
    "json": "a JSON list of whole numbers, e.g. [1, 0, 3]",
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A failed check: the 0-based index of its first bad row, and what was wrong there."""

    index: int
    column: str
    message: str
    expected: str


@dataclass(frozen=True, slots=True)
class Source:
    """Where a table came from, for error messages."""

    file: str
    is_csv: bool

    def error(self, problem: Problem) -> ValidationError:
        row = problem.index + 1
        message = problem.message + (f" (CSV line {row + 1})" if self.is_csv else "")
        return ValidationError(
            message, file=self.file, row=row, column=problem.column, expected=problem.expected
        )


def first_true(mask: pa.Array | pa.ChunkedArray) -> int:
    """Index of the first True in a boolean mask (nulls count as False), or -1."""
    return int(pc.index(pc.fill_null(mask, False), True).as_py())


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _failed(mask: pa.Array, values: pa.Array, column: str, message: str, expected: str) -> Problem | None:
    """A Problem at the first True of `mask`; `message` may use {value} for the bad value."""
    index = first_true(mask)
    if index < 0:
        return None
    return Problem(index, column, message.format(value=_show(values[index].as_py())), expected)


def _type_error(source: Source, column: Column, array: pa.Array) -> ValidationError:
    return ValidationError(
        f"column has type {array.type}",
        file=source.file,
        column=column.name,
        expected=_EXPECTED_KIND[column.kind],
    )


def _as_string(array: pa.Array) -> pa.Array | None:
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return pc.utf8_trim_whitespace(array.cast(pa.string()))
    return None


def _convert(column: Column, array: pa.Array, source: Source) -> tuple[pa.Array, Problem | None]:
    """`array` as the contract's Arrow type; values that cannot be converted become null and a Problem."""
    target = arrow_type(column)
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), target), None
    expected = _EXPECTED_KIND[column.kind]
    text = _as_string(array)
    kind = column.kind
    if kind in ("str", "json"):
        if text is None:
            raise _type_error(source, column, array)
        if kind == "json":
            bad = pc.invert(pc.match_substring_regex(text, _JSON_INT_LIST_PATTERN))
            return text, _failed(
                bad, text, column.name, "{value} is not a JSON list of whole numbers", expected
            )
        # Text keeps its exact spelling (no trimming): ids and names round-trip byte for byte.
        plain = array.dictionary_decode() if pa.types.is_dictionary(array.type) else array
        return plain.cast(pa.string()), None
    if kind == "int":
        if text is not None:
            bad = pc.invert(pc.match_substring_regex(text, _INT_PATTERN))
            problem = _failed(bad, text, column.name, "{value} is not a whole number", expected)
            return pc.if_else(bad, pa.scalar(None, pa.string()), text).cast(pa.int64()), problem
        if pa.types.is_integer(array.type):
            return array.cast(pa.int64()), None
        if pa.types.is_floating(array.type):
            bad = pc.or_(pc.invert(pc.is_finite(array)), pc.not_equal(array, pc.floor(array)))
            problem = _failed(bad, array, column.name, "{value} is not a whole number", expected)
            return pc.if_else(bad, pa.scalar(None, array.type), array).cast(pa.int64()), problem
        raise _type_error(source, column, array)
    if kind == "date":
        if text is not None:
            parsed = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
            # strptime rolls 2023-02-29 over to March 1st; printing it back catches that.
            bad = pc.or_kleene(pc.is_null(parsed), pc.not_equal(pc.strftime(parsed, format="%Y-%m-%d"), text))
            bad = pc.and_(pc.is_valid(text), pc.fill_null(bad, True))
            problem = _failed(bad, text, column.name, "{value} is not a valid date", expected)
            return pc.if_else(bad, pa.scalar(None, pa.timestamp("s")), parsed).cast(pa.date32()), problem
        if pa.types.is_date(array.type):
            return array.cast(pa.date32()), None
        if pa.types.is_timestamp(array.type):
            day = pc.floor_temporal(array, unit="day")
            bad = pc.not_equal(array, day)
            problem = _failed(bad, array, column.name, "{value} has a time of day", expected)
            return pc.if_else(bad, pa.scalar(None, array.type), array).cast(pa.date32()), problem
        raise _type_error(source, column, array)
    # bool
    if text is not None:
        lower = pc.utf8_lower(text)
        is_true = pc.is_in(lower, pa.array(_TRUE))
        bad = pc.invert(pc.or_(is_true, pc.is_in(lower, pa.array(_FALSE))))
        problem = _failed(bad, text, column.name, "{value} is not true or false", expected)
        return pc.if_else(bad, pa.scalar(None, pa.bool_()), is_true), problem
    if pa.types.is_boolean(array.type):
        return array, None
    if pa.types.is_integer(array.type):
        bad = pc.invert(pc.is_in(array, pa.array([0, 1], array.type)))
        problem = _failed(bad, array, column.name, "{value} is not true or false", expected)
        return pc.if_else(bad, pa.scalar(None, pa.bool_()), pc.equal(array, 1)), problem
    raise _type_error(source, column, array)


def _first_invalid_utf8(array: pa.Array) -> int:
    """Index of the first text value that is not UTF-8, or -1. Parquet readers do not check it, and such
    text would fail later, in the middle of writing."""
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return -1
    try:
        array.validate(full=True)  # Arrow's own UTF-8 check over the whole column
        return -1
    except pa.ArrowInvalid:
        binary = array.view(pa.large_binary() if pa.types.is_large_string(array.type) else pa.binary())
        for index, value in enumerate(binary.to_pylist()):  # rare path: find the row
            if value is not None:
                try:
                    value.decode("utf-8")
                except UnicodeDecodeError:
                    return index
        return -1


_FIRST_DATE = pa.scalar(date(1, 1, 1), pa.date32())
_LAST_DATE = pa.scalar(date(9999, 12, 31), pa.date32())


def _value_problems(column: Column, values: pa.Array, max_length: int | None) -> list[Problem]:
    """Checks on converted values: required, non-empty, length, allowed values, range."""
    problems: list[Problem | None] = []
    name = column.name
    if column.kind == "date":  # a Parquet date can lie beyond year 9999, which no database column holds
        bad = pc.or_(pc.less(values, _FIRST_DATE), pc.greater(values, _LAST_DATE))
        index = first_true(bad)
        if index >= 0:
            late = values.cast(pa.int32())[index].as_py() > 0
            where = "after the year 9999" if late else "before the year 1"
            problems.append(Problem(index, name, f"a date {where}", _EXPECTED_KIND["date"]))
    if not column.nullable and not column.optional:  # an empty optional value is derived on import
        problems.append(
            _failed(pc.is_null(values), values, name, "empty value", "a value: the column is required")
        )
    if column.kind == "str":
        problems.append(_failed(pc.equal(values, ""), values, name, "empty text", "a non-empty value"))
        if max_length is not None:
            lengths = pc.utf8_length(values)
            problems.append(
                _failed(
                    pc.greater(lengths, max_length),
                    values,
                    name,
                    "{value} is too long",
                    f"at most {max_length} characters",
                )
            )
    if column.choices is not None:
        bad = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, pa.array(column.choices))))
        problems.append(
            _failed(bad, values, name, "{value} is not allowed", f"one of {', '.join(column.choices)}")
        )
    if column.kind == "int":
        low = column.minimum if column.minimum is not None else -INT_MAX
        high = column.maximum if column.maximum is not None else INT_MAX
        bad = pc.or_(pc.less(values, low), pc.greater(values, high))
        span = f"from {low} to {high}" if column.maximum is not None else f"at least {low}"
        problems.append(_failed(bad, values, name, "{value} is out of range", f"a whole number {span}"))
    return [p for p in problems if p is not None]


def _duplicate(keys: pa.Array, column: str) -> Problem | None:
    """The first row whose id already appeared on an earlier row of the same file."""
    if pc.count_distinct(keys, mode="all").as_py() == len(keys):
        return None
    # Rare path: rank ids by first appearance; a row whose first appearance is not itself is a repeat.
    indices = pa.array(range(len(keys)), pa.int64())
    first_seen = (
        pa.table({"key": keys, "i": indices}).group_by("key", use_threads=False).aggregate([("i", "min")])
    )
    first_index = pc.take(first_seen["i_min"], pc.index_in(keys, first_seen["key"]))
    bad = pc.not_equal(first_index, indices)
    index = first_true(bad)
    earlier = int(first_index[index].as_py()) + 1
    value = _show(keys[index].as_py())
    return Problem(
        index, column, f"duplicate id {value} (already on row {earlier})", f"each {column} once per file"
    )


def normalise(
    raw: pa.Table, spec: Table, source: Source, *, max_lengths: Mapping[str, int | None] | None = None
) -> pa.Table:
    """`raw` converted to the contract's schema, or the ValidationError of its first bad row."""
    names = set(raw.column_names)
    for column in spec.columns:
        if column.name not in names and not column.optional:
            raise ValidationError(
                "missing column",
                file=source.file,
                column=column.name,
                expected=f"columns {', '.join(c.name for c in spec.columns if not c.optional)}",
            )
    for name in raw.column_names:
        if name not in spec.column_names:
            raise ValidationError(
                "unexpected column",
                file=source.file,
                column=name,
                expected=f"only the columns {', '.join(spec.column_names)}",
            )
    lengths = max_lengths or {}
    arrays: list[pa.Array] = []
    problems: list[Problem] = []
    for column in spec.columns:
        if column.name not in names:  # an optional column an older extract lacks: empty, derived later
            arrays.append(pa.nulls(raw.num_rows, arrow_type(column)))
            continue
        raw_values = raw.column(column.name).combine_chunks()
        invalid = _first_invalid_utf8(raw_values)
        if invalid >= 0:
            raise source.error(
                Problem(invalid, column.name, "the text is not UTF-8", "text encoded as UTF-8")
            )
        values, problem = _convert(column, raw_values, source)
        if problem is not None:
            problems.append(problem)
        problems.extend(_value_problems(column, values, lengths.get(column.name)))
        arrays.append(values)
    table = pa.Table.from_arrays(
        arrays, schema=pa.schema([pa.field(c.name, arrow_type(c)) for c in spec.columns])
    )
    duplicate = _duplicate(table.column(spec.key).combine_chunks(), spec.key)
    if duplicate is not None:
        problems.append(duplicate)
    _raise_first(problems, spec, source)
    return table


def check_references(
    table: pa.Table, spec: Table, source: Source, known_ids: Callable[[str], pa.Array]
) -> None:
    """Every reference names a row in the extract or in the database; `known_ids("people")` gives them."""
    problems: list[Problem] = []
    for column in spec.columns:
        if column.references is None:
            continue
        parent = column.references.split(".", 1)[0]
        values = table.column(column.name).combine_chunks()
        bad = pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, known_ids(parent))))
        problem = _failed(
            bad,
            values,
            column.name,
            f"unknown {parent} id {{value}}",
            f"a {column.references.split('.', 1)[1]} present in the {parent} file or already in the database",
        )
        if problem is not None:
            problems.append(problem)
    _raise_first(problems, spec, source)


def _raise_first(problems: list[Problem], spec: Table, source: Source) -> None:
    if problems:
        order = {name: i for i, name in enumerate(spec.column_names)}
        first = min(problems, key=lambda p: (p.index, order.get(p.column, len(order))))
        raise source.error(first)
