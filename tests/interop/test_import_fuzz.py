"""Hypothesis feeds the importer broken extracts: every one is refused with a clear error, nothing is written.

A small valid synthetic county is written as Parquet and CSV, then one thing is broken at a time:
a value of the wrong type, a missing or unexpected column, a value outside its allowed set or range, a
date that does not exist or cannot be stored, bytes that are not UTF-8, a truncated file, or random
bytes. The import must end in an `onward.errors.ValidationError` (never another exception) that names
the file, and the row and column when the fault is in one cell, and the database must hold exactly
what it held before (it is loaded with the valid county first, so a partial write would show).
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from onward.errors import ValidationError
from onward.interop.extracts import import_extract, read_table_file
from onward.interop.files import ExtractFormat, arrow_schema, table_path, write_table
from onward.model.eventlog import EVENT_LOG, TABLES, Column
from onward.sim.synth import write_synthetic_county
from onward.store.engine import create_db_engine

FUZZ = settings(
    max_examples=int(os.environ.get("ONWARD_FUZZ_EXAMPLES", "12")),
    deadline=None,
    derandomize=True,  # the same examples in every run and in CI; raise max_examples to search further
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TABLE_NAMES = [spec.name for spec in EVENT_LOG]


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> dict[ExtractFormat, Path]:
    """The same small valid county as Parquet and as CSV."""
    root = tmp_path_factory.mktemp("fuzz-county")
    parquet = root / "parquet"
    write_synthetic_county(
        parquet, people=60, years=1, seed=3, fmt="parquet", start=date(2024, 1, 1), progress=False
    )
    csv = root / "csv"
    for spec in EVENT_LOG:
        write_table(read_table_file(table_path(parquet, spec.name, "parquet"), spec), csv, spec.name, "csv")
    return {"parquet": parquet, "csv": csv}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, county: dict[ExtractFormat, Path]) -> str:
    """A database holding the valid county, so a half-written import would change something."""
    url = f"sqlite:///{(tmp_path_factory.mktemp('fuzz-db') / 'onward.sqlite').as_posix()}"
    import_extract(county["parquet"], url, progress=False)
    return url


def _digest(url: str) -> str:
    engine = create_db_engine(url)
    digest = hashlib.sha256()
    try:
        with engine.connect() as connection:
            for spec in EVENT_LOG:
                for row in connection.execute(text(f"SELECT * FROM {spec.name} ORDER BY {spec.key}")):
                    digest.update(repr(tuple(row)).encode())
            digest.update(
                repr(connection.execute(text("SELECT count(*) FROM imports")).scalar_one()).encode()
            )
    finally:
        engine.dispose()
    return digest.hexdigest()


def _copy(source: Path, folder: Path) -> Path:
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(source, folder)
    return folder


def _refused(folder: Path, url: str, file: Path) -> ValidationError:
    """Import `folder`; it must fail with a ValidationError naming `file`, leaving the database as it was."""
    before = _digest(url)
    with pytest.raises(ValidationError) as raised:
        import_extract(folder, url, progress=False)
    assert str(file) in str(raised.value), raised.value
    assert _digest(url) == before, "a refused import changed the database"
    return raised.value


def _read(folder: Path, name: str, fmt: ExtractFormat) -> pa.Table:
    return read_table_file(table_path(folder, name, fmt), TABLES[name])


def _write_raw(table: pa.Table, folder: Path, name: str, fmt: ExtractFormat) -> Path:
    """Write a table as it is (write_table would cast it back to the contract's schema)."""
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    path = table_path(folder, name, fmt)
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        pa_csv.write_csv(table, path)
    return path


# --- one bad cell ----------------------------------------------------------------------------------


def _bad_values(column: Column) -> st.SearchStrategy[str]:
    """Text that the column must refuse (as it would arrive in a CSV cell)."""
    options: list[st.SearchStrategy[str]] = []
    if column.kind == "int":
        options.append(st.sampled_from(["1.5", "abc", "1e3", "--1", "0x10", "12345678901234567890"]))
        if column.maximum is not None:
            options.append(st.integers(column.maximum + 1, column.maximum + 10**6).map(str))
        if column.minimum is not None:
            options.append(st.integers(column.minimum - 10**6, column.minimum - 1).map(str))
    elif column.kind == "date":
        options.append(
            st.sampled_from(["2023-02-29", "2024-13-01", "2024-00-10", "01/02/2024", "2024-1-5", "soon"])
        )
    elif column.kind == "bool":
        options.append(st.sampled_from(["maybe", "2", "yes please", "-1"]))
    elif column.kind == "json":
        options.append(st.sampled_from(["[1, two]", "{}", "[1.5]", "not json"]))
    if column.choices is not None:
        choices = column.choices

        def not_allowed(value: str) -> bool:
            return bool(value.strip()) and value not in choices

        options.append(st.text(min_size=1, max_size=12).filter(not_allowed))
    if not column.nullable:
        options.append(st.just(""))
    return st.one_of(options) if options else st.nothing()


def _refusable(spec_name: str) -> list[str]:
    return [
        c.name
        for c in TABLES[spec_name].columns
        if c.kind != "str" or c.choices is not None or not c.nullable
    ]


@st.composite
def bad_cells(draw: st.DrawFn) -> tuple[str, str, int, str]:
    name = draw(st.sampled_from(TABLE_NAMES))
    column = TABLES[name].column(draw(st.sampled_from(_refusable(name))))
    return name, column.name, draw(st.integers(min_value=0, max_value=10_000)), draw(_bad_values(column))


@FUZZ
@given(cell=bad_cells(), fmt=st.sampled_from(["parquet", "csv"]))
def test_a_bad_cell_is_named_by_file_row_and_column(
    cell: tuple[str, str, int, str], fmt: ExtractFormat, county: dict[ExtractFormat, Path], loaded: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    name, column, row_seed, value = cell
    folder = _copy(county[fmt], tmp_path / "extract")
    table = _read(folder, name, fmt).cast(
        pa.schema([pa.field(f.name, pa.string()) for f in arrow_schema(name)])
    )
    if table.num_rows == 0:
        return
    row = row_seed % table.num_rows
    values = table.column(column).to_pylist()
    values[row] = None if value == "" and fmt == "parquet" else value
    index = table.schema.get_field_index(column)
    path = _write_raw(table.set_column(index, column, pa.array(values, pa.string())), folder, name, fmt)
    error = _refused(folder, loaded, path)
    assert error.row == row + 1 and error.column == column, str(error)


# --- wrong Arrow types in Parquet ------------------------------------------------------------------


def _retyped(column: Column, values: pa.Array) -> pa.Array:
    """The column stored with an Arrow type the contract does not allow for it."""
    if column.kind == "int":
        return pc.add(values.cast(pa.float64()), 0.5)  # whole numbers with a fraction
    if column.kind in ("str", "json"):
        return pa.array(range(len(values)), pa.int64())
    if column.kind == "date":
        return pa.array([[1, 2]] * len(values), pa.list_(pa.int64()))
    return pa.array([{"x": 1}] * len(values), pa.struct([("x", pa.int64())]))  # bool


@FUZZ
@given(data=st.data())
def test_a_column_of_the_wrong_type_is_refused(
    data: st.DataObject, county: dict[ExtractFormat, Path], loaded: str, tmp_path: Path
) -> None:
    name = data.draw(st.sampled_from(TABLE_NAMES))
    spec = TABLES[name]
    column = spec.column(data.draw(st.sampled_from(spec.column_names)))
    folder = _copy(county["parquet"], tmp_path / "extract")
    table = _read(folder, name, "parquet")
    if table.num_rows == 0:
        return
    index = table.schema.get_field_index(column.name)
    changed = table.set_column(index, column.name, _retyped(column, table.column(index)))
    path = _write_raw(changed, folder, name, "parquet")
    error = _refused(folder, loaded, path)
    assert error.column == column.name, str(error)


# --- columns missing or unexpected -----------------------------------------------------------------


@FUZZ
@given(data=st.data(), fmt=st.sampled_from(["parquet", "csv"]))
def test_a_missing_or_unexpected_column_is_named(
    data: st.DataObject, fmt: ExtractFormat, county: dict[ExtractFormat, Path], loaded: str, tmp_path: Path
) -> None:
    name = data.draw(st.sampled_from(TABLE_NAMES))
    folder = _copy(county[fmt], tmp_path / "extract")
    table = _read(folder, name, fmt)
    if data.draw(st.booleans()):
        required = [c for c in table.column_names if not TABLES[name].column(c).optional]
        column = data.draw(st.sampled_from(required))  # an optional column may be absent (derived)
        changed = table.drop_columns([column])
    else:
        column = data.draw(
            st.from_regex(r"[a-z_]{1,12}", fullmatch=True).filter(lambda c: c not in table.column_names)
        )
        changed = table.append_column(column, pa.array(["x"] * table.num_rows))
    error = _refused(folder, loaded, _write_raw(changed, folder, name, fmt))
    assert error.column == column, str(error)


# --- bytes: encodings, truncation, noise -----------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_bytes_that_are_not_utf8_are_named_by_row_and_column(
    data: st.DataObject, county: dict[ExtractFormat, Path], loaded: str, tmp_path: Path
) -> None:
    name = data.draw(st.sampled_from(TABLE_NAMES))
    folder = _copy(county["csv"], tmp_path / "extract")
    path = table_path(folder, name, "csv")
    with path.open(encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    if len(records) < 2:
        return
    row = data.draw(st.integers(min_value=1, max_value=len(records) - 1))  # a data row
    cell = data.draw(st.integers(min_value=0, max_value=len(records[row]) - 1))
    bad = data.draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"caf\xe9"]))
    # surrogateescape writes the bytes as they are: a cell holding bytes that are not UTF-8
    records[row][cell] = bad.decode("utf-8", errors="surrogateescape") + records[row][cell]
    with path.open("w", encoding="utf-8", errors="surrogateescape", newline="") as handle:
        csv.writer(handle).writerows(records)
    error = _refused(folder, loaded, path)
    assert error.row == row, str(error)
    assert error.column == records[0][cell], str(error)


@FUZZ
@given(data=st.data(), fmt=st.sampled_from(["parquet", "csv"]))
def test_a_truncated_file_is_refused_or_read_whole_never_half(
    data: st.DataObject, fmt: ExtractFormat, county: dict[ExtractFormat, Path], loaded: str, tmp_path: Path
) -> None:
    name = data.draw(st.sampled_from(TABLE_NAMES))
    folder = _copy(county[fmt], tmp_path / "extract")
    path = table_path(folder, name, fmt)
    content = path.read_bytes()
    cut = data.draw(st.integers(min_value=0, max_value=len(content) - 1))
    path.write_bytes(content[:cut])
    if fmt == "parquet":
        _refused(folder, loaded, path)
        return
    before = _digest(loaded)
    try:  # a CSV cut between rows, or inside a text value, can still be a valid (shorter) file
        result = import_extract(folder, loaded, progress=False)
    except ValidationError as error:
        assert str(path) in str(error)
        assert _digest(loaded) == before
    else:
        assert result.tables[name].total == max(0, content[:cut].count(b"\n") - 1) + (
            not content[:cut].endswith(b"\n")
        )


@FUZZ
@given(noise=st.binary(min_size=0, max_size=2000), fmt=st.sampled_from(["parquet", "csv"]))
@example(noise=b"\x80\x81,b\n1,2\n", fmt="csv")  # a header that is not UTF-8 (found at 150 examples)
def test_random_bytes_are_refused(
    noise: bytes, fmt: ExtractFormat, county: dict[ExtractFormat, Path], loaded: str, tmp_path: Path
) -> None:
    folder = _copy(county[fmt], tmp_path / "extract")
    path = table_path(folder, "episodes", fmt)
    path.write_bytes(noise)
    _refused(folder, loaded, path)


# --- values Arrow can hold but the database cannot -------------------------------------------------


@FUZZ
@given(data=st.data())
def test_dates_beyond_year_9999_or_before_year_1_are_refused(
    data: st.DataObject, county: dict[ExtractFormat, Path], loaded: str, tmp_path: Path
) -> None:
    name = data.draw(
        st.sampled_from([n for n in TABLE_NAMES if any(c.kind == "date" for c in TABLES[n].columns)])
    )
    spec = TABLES[name]
    column = data.draw(st.sampled_from([c.name for c in spec.columns if c.kind == "date"]))
    folder = _copy(county["parquet"], tmp_path / "extract")
    table = _read(folder, name, "parquet")
    if table.num_rows == 0:
        return
    row = data.draw(st.integers(min_value=0, max_value=table.num_rows - 1))
    days = data.draw(st.one_of(st.integers(2_932_897, 2**31 - 1), st.integers(-(2**31), -719_163)))
    values = table.column(column).cast(pa.int32()).to_pylist()
    values[row] = days
    index = table.schema.get_field_index(column)
    changed = table.set_column(index, column, pa.array(values, pa.int32()).cast(pa.date32()))
    path = _write_raw(changed, folder, name, "parquet")
    error = _refused(folder, loaded, path)
    assert error.row == row + 1 and error.column == column, str(error)


@FUZZ
@given(data=st.data())
def test_parquet_text_that_is_not_utf8_is_refused(
    data: st.DataObject, county: dict[ExtractFormat, Path], loaded: str, tmp_path: Path
) -> None:
    name = data.draw(st.sampled_from(TABLE_NAMES))
    spec = TABLES[name]
    column = data.draw(st.sampled_from([c.name for c in spec.columns if c.kind == "str"]))
    folder = _copy(county["parquet"], tmp_path / "extract")
    table = _read(folder, name, "parquet")
    if table.num_rows == 0:
        return
    row = data.draw(st.integers(min_value=0, max_value=table.num_rows - 1))
    raw = [None if v is None else v.encode() for v in table.column(column).to_pylist()]
    raw[row] = b"\xff\xfe" + (raw[row] or b"")
    index = table.schema.get_field_index(column)
    binary = pa.array(raw, pa.binary())
    path = _write_raw(table.set_column(index, column, binary.view(pa.string())), folder, name, "parquet")
    error = _refused(folder, loaded, path)
    assert error.column == column, str(error)
