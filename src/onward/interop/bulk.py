"""Bulk movement of event-log tables between Arrow and the database, inside the caller's transaction.

Writes go to a temporary staging table (SQLite: executemany; PostgreSQL: COPY); rows identical to
stored ones are deleted from it, and the rest go in with one INSERT ... ON CONFLICT DO UPDATE, so
re-importing identical rows writes nothing. An empty target table skips staging and is loaded directly.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import Connection
from sqlalchemy.schema import AddConstraint, DropConstraint

from onward.interop.files import arrow_schema
from onward.model.eventlog import Table
from onward.store.tables import Base

Advance = Callable[[int], None]
"""Called with the number of rows just moved, to drive a progress bar."""

BATCH_ROWS = 50_000
"""Rows per executemany / COPY chunk: big enough to amortise calls, small enough for a smooth progress bar."""


@dataclass(frozen=True, slots=True)
class TableCounts:
    """What an import did to one table."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.unchanged


def _is_sqlite(connection: Connection) -> bool:
    return connection.dialect.name == "sqlite"


def _driver(connection: Connection) -> Any:
    """The DBAPI connection (sqlite3 or psycopg) under the SQLAlchemy connection and its transaction."""
    return connection.connection.driver_connection


def _batches(data: pa.Table, rows: int) -> Iterator[pa.Table]:
    for start in range(0, data.num_rows, rows):
        yield data.slice(start, rows)


def count_rows(connection: Connection, table: str) -> int:
    return int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def existing_ids(connection: Connection, table: str, key: str) -> pa.Array:
    """Every id already stored in `table`, as an Arrow string array."""
    ids = connection.exec_driver_sql(f"SELECT {key} FROM {table}").scalars().all()
    return pa.array(ids, pa.string())


# --- writing ---------------------------------------------------------------------------------------


def _python_rows(batch: pa.Table, spec: Table) -> list[tuple[Any, ...]]:
    """Rows as tuples of str / int / None, the way SQLAlchemy stores them in SQLite (ISO dates, 0/1)."""
    columns: list[list[Any]] = []
    for column in spec.columns:
        values = batch.column(column.name)
        if column.kind == "date":
            values = pc.cast(values, pa.string())
        elif column.kind == "bool":
            values = pc.cast(values, pa.int8())
        columns.append(values.to_pylist())
    return list(zip(*columns, strict=True))


def _csv_bytes(batch: pa.Table) -> bytes:
    """A CSV chunk in PostgreSQL's COPY csv dialect: unquoted empty is NULL, "" is an empty string."""
    buffer = io.BytesIO()
    pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
    return buffer.getvalue()


def _load(connection: Connection, target: str, spec: Table, data: pa.Table, advance: Advance) -> None:
    """Append every row of `data` to `target` (a real or staging table)."""
    names = ", ".join(spec.column_names)
    driver = _driver(connection)
    if _is_sqlite(connection):
        sql = f"INSERT INTO {target} ({names}) VALUES ({', '.join('?' * len(spec.columns))})"
        for batch in _batches(data, BATCH_ROWS):
            driver.executemany(sql, _python_rows(batch, spec))
            advance(batch.num_rows)
        return
    with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN (FORMAT csv)") as copy:
        for batch in _batches(data, BATCH_ROWS):
            copy.write(_csv_bytes(batch))
            advance(batch.num_rows)


SQLITE_BULK_CACHE_KIB = 256 * 1024
"""Page cache for a bulk load (256 MiB instead of SQLite's 2 MiB default): keeps index B-trees in memory."""


POSTGRES_BULK_MEMORY = "256MB"
"""maintenance_work_mem / work_mem during an import (PostgreSQL defaults: 64MB / 4MB)."""


def prepare_bulk(connection: Connection) -> None:
    """Per-connection settings for a large load; they end with the connection."""
    if _is_sqlite(connection):
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
    else:  # for this transaction only: room to sort index keys and hash-join staged rows in memory
        connection.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{POSTGRES_BULK_MEMORY}'")
        connection.exec_driver_sql(f"SET LOCAL work_mem = '{POSTGRES_BULK_MEMORY}'")


def _load_empty(connection: Connection, spec: Table, data: pa.Table, advance: Advance) -> None:
    """Load an empty table; its indexes (and on PostgreSQL its foreign keys) are built once afterwards.

    Building an index or checking a foreign key once over the whole table is much faster than
    maintaining it row by row. All of it happens inside the caller's transaction, so a failure
    leaves the table, its indexes and its constraints as they were.
    """
    table = Base.metadata.tables[spec.name]
    indexes = list(table.indexes)
    foreign_keys = (
        [] if _is_sqlite(connection) else sorted(table.foreign_key_constraints, key=lambda f: str(f.name))
    )
    for foreign_key in foreign_keys:
        connection.execute(DropConstraint(foreign_key))
    for index in indexes:
        index.drop(connection)
    _load(connection, spec.name, spec, data, advance)
    for index in indexes:
        index.create(connection)
    for foreign_key in foreign_keys:
        connection.execute(AddConstraint(foreign_key))


def upsert(connection: Connection, spec: Table, data: pa.Table, advance: Advance) -> TableCounts:
    """Insert new rows, update changed ones, leave identical ones alone; returns the counts."""
    if data.num_rows == 0:
        return TableCounts()
    table, key = spec.name, spec.key
    # Rows in key order append to the primary-key B-tree instead of splitting pages all over it.
    data = data.sort_by(key)
    if connection.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is None:
        _load_empty(connection, spec, data, advance)
        return TableCounts(inserted=data.num_rows)

    sqlite = _is_sqlite(connection)
    stage = f"onward_stage_{table}"
    names = ", ".join(spec.column_names)
    others = [c for c in spec.column_names if c != key]
    if sqlite:
        # Untyped columns keep the values exactly as bound (text, integer or NULL).
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{stage}")
        connection.exec_driver_sql(f"CREATE TEMP TABLE {stage} ({names})")
        stage = f"temp.{stage}"
        same = " AND ".join(f"t.{c} IS {stage}.{c}" for c in others)
        drop_unchanged = (
            f"DELETE FROM {stage} WHERE EXISTS "
            f"(SELECT 1 FROM {table} AS t WHERE t.{key} = {stage}.{key} AND {same})"
        )
        source = f"SELECT {names} FROM {stage} WHERE true"  # WHERE: SQLite's upsert parsing rule
    else:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS pg_temp.{stage}")
        connection.exec_driver_sql(f"CREATE TEMP TABLE {stage} (LIKE {table}) ON COMMIT DROP")
        mine = ", ".join(f"t.{c}" for c in others)
        theirs = ", ".join(f"s.{c}" for c in others)
        drop_unchanged = (
            f"DELETE FROM {stage} AS s USING {table} AS t "
            f"WHERE t.{key} = s.{key} AND ({mine}) IS NOT DISTINCT FROM ({theirs})"
        )
        source = f"SELECT {names} FROM {stage}"
    _load(connection, stage, spec, data, advance)
    # Identical rows leave the staging table first, so the target is only touched where something
    # changed (PostgreSQL would otherwise lock, and so write, every conflicting row).
    unchanged = connection.exec_driver_sql(drop_unchanged).rowcount
    updated = int(
        connection.exec_driver_sql(
            f"SELECT count(*) FROM {stage} AS s JOIN {table} AS t ON t.{key} = s.{key}"
        ).scalar_one()
    )
    assignments = ", ".join(f"{c} = excluded.{c}" for c in others)
    connection.exec_driver_sql(
        f"INSERT INTO {table} ({names}) {source} ON CONFLICT ({key}) DO UPDATE SET {assignments}"
    )
    connection.exec_driver_sql(f"DROP TABLE {stage}")
    return TableCounts(inserted=data.num_rows - unchanged - updated, updated=updated, unchanged=unchanged)


# --- reading ---------------------------------------------------------------------------------------


def _arrow_batch(rows: list[tuple[Any, ...]], spec: Table, schema: pa.Schema) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in spec.columns]
    arrays: list[pa.Array] = []
    for column, values, field in zip(spec.columns, columns, schema, strict=True):
        if column.kind == "date":
            arrays.append(pa.array(values, pa.string()).cast(pa.date32()))
        elif column.kind == "bool":
            arrays.append(pa.array(values, pa.int8()).cast(pa.bool_()))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def read_sorted(connection: Connection, spec: Table, advance: Advance) -> pa.Table:
    """The whole table as Arrow in the contract's schema, rows in byte order of their id."""
    schema = arrow_schema(spec)
    names = ", ".join(spec.column_names)
    if _is_sqlite(connection):
        cursor = _driver(connection).execute(f"SELECT {names} FROM {spec.name} ORDER BY {spec.key}")
        batches: list[pa.RecordBatch] = []
        while rows := cursor.fetchmany(BATCH_ROWS):
            batches.append(_arrow_batch(rows, spec, schema))
            advance(len(rows))
        cursor.close()
        return pa.Table.from_batches(batches, schema=schema)

    # COLLATE "C" sorts by bytes, as SQLite does, so both backends export identical files.
    query = f'SELECT {names} FROM {spec.name} ORDER BY {spec.key} COLLATE "C"'
    buffer = io.BytesIO()
    with _driver(connection).cursor() as cursor:
        cursor.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
                advance(bytes(chunk).count(b"\n"))
    if buffer.tell() == 0:
        return schema.empty_table()
    buffer.seek(0)
    return pa_csv.read_csv(
        buffer,
        read_options=pa_csv.ReadOptions(column_names=list(spec.column_names)),
        convert_options=pa_csv.ConvertOptions(
            column_types=schema,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],  # only an unquoted empty field is NULL; "NA" is text
            true_values=["t"],
            false_values=["f"],
        ),
    ).cast(schema)
