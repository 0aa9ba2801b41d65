"""Where the event log lives: DuckDB over an extract folder, the live SQLite/PostgreSQL store, or PySpark.

Every backend hands the metric code the same ibis tables with the contract's column names and types,
so one set of expressions runs everywhere.
"""

from __future__ import annotations

import hashlib
import io
import threading
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.json as pa_json

from onward.errors import NotFoundError, ValidationError
from onward.interop.files import arrow_schema, find_table_file
from onward.model.eventlog import TABLES

BackendName = Literal["duckdb", "sqlite", "postgres", "pyspark"]
BACKENDS: tuple[BackendName, ...] = get_args(BackendName)

#: The tables the metrics read; `people` is not needed.
METRIC_TABLES: tuple[str, ...] = ("programs", "staff", "referrals", "episodes", "services", "measurements")
#: An extract folder must hold these; a missing file of the other metric tables means "no rows".
REQUIRED_TABLES: tuple[str, ...] = ("programs", "episodes")

_DUCKDB_TYPES = {"str": "VARCHAR", "int": "BIGINT", "date": "DATE", "bool": "BOOLEAN", "json": "VARCHAR"}


@dataclass
class EventLog:
    """The event-log tables as ibis expressions on one backend connection."""

    backend: BackendName
    tables: dict[str, Any]  # table name -> ibis.Table
    connection: Any = field(repr=False)
    source: str = ""
    #: Changes whenever the underlying data changes (SQLite file size/mtime); None when unknown.
    version: tuple[int, ...] | None = None
    #: One query at a time per connection: a cached log is shared by the threads of a web server.
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def table(self, name: str) -> Any:
        try:
            return self.tables[name]
        except KeyError:
            raise NotFoundError(f"the event log at {self.source} has no table {name!r}") from None


def fetch_arrow(expr: Any, log: EventLog) -> pa.Table:
    """Run an ibis table expression on the log's connection and return Arrow.

    On DuckDB this asks the engine's relation for Arrow directly: ibis's `to_pyarrow` passes the result
    through a pandas-based converter whose first use imports pandas (0.2 s of every fresh process), and
    ibis 12's record-batch path does not work with DuckDB 2.
    """
    relation = getattr(log.connection, "_to_duckdb_relation", None) if log.backend == "duckdb" else None
    if relation is None:
        return expr.to_pyarrow()
    table = relation(expr).to_arrow_table()
    expected = expr.schema().to_pyarrow()
    return table if table.schema.equals(expected) else table.cast(expected)


def small_table(log: EventLog, table: pa.Table) -> Any:
    """A small Arrow table (built with `arrow_column`) as an ibis table on the log's backend.

    DuckDB gets it registered on its connection (`ibis.memtable` imports pandas on first use), named by
    its content so that a long-lived connection holds one registration per distinct table, not per call.
    """
    if log.backend != "duckdb":
        return ibis.memtable(table)
    digest = hashlib.sha1(str(table.schema).encode(), usedforsecurity=False)  # a cache key, not a secret
    for column in table.columns:
        for chunk in column.chunks:
            for buffer in chunk.buffers():
                digest.update(b"-" if buffer is None else buffer.to_pybytes())
    name = f"_onward_small_{digest.hexdigest()[:16]}"
    log.connection.con.register(name, table)
    return log.connection.table(name)


def arrow_column(
    values: npt.NDArray[Any], kind: pa.DataType, valid: npt.NDArray[np.bool_] | None = None
) -> pa.Array:
    """An Arrow array straight from a NumPy buffer of the type's physical width (int32 days for dates,
    int64 counts); `valid` marks non-null entries. `pa.array` would import pandas (0.2 s) on first use."""
    data = np.ascontiguousarray(values, dtype=np.int32 if kind == pa.date32() else np.int64)
    bitmap = None if valid is None else pa.py_buffer(np.packbits(valid.astype(np.bool_), bitorder="little"))
    return pa.Array.from_buffers(kind, len(data), [bitmap, pa.py_buffer(data)])


def numpy_ints(column: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    """An integer column as int64 NumPy (nulls as 0), read from its buffer: pyarrow's `to_numpy`
    imports pandas on first use."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if array.null_count:
        array = array.fill_null(0)
    array = array.cast(pa.int64())
    data = np.frombuffer(array.buffers()[1], dtype=np.int64, count=len(array) + array.offset)
    return data[array.offset :].copy()


@contextmanager
def quiet_engine_warnings() -> Iterator[None]:
    """Silence deprecations raised inside ibis 12 by DuckDB 2.0 (`fetch_arrow_table`) and pandas 3
    (`future.infer_string`): upstream issues, not ours; pytest turns warnings into errors."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"The 'future\.infer_string' option is deprecated")
        warnings.filterwarnings(
            "ignore", message=r"fetch_arrow_table\(\) is deprecated", category=DeprecationWarning
        )
        yield


def open_event_log(
    *, data: Path | None = None, db: str | None = None, backend: str | None = None, with_items: bool = False
) -> EventLog:
    """Open an extract folder (`data`) or a live database (`db`) on the chosen backend.

    Defaults: DuckDB for a folder; for a SQLite URL, the live tables copied into an in-memory DuckDB through
    Arrow (cached per data version); PostgreSQL on its own server. `backend` overrides the engine.
    The DuckDB copy of a SQLite store leaves measurement item scores out unless `with_items` (the
    clinician flags read the risk items; no metric does).
    """
    with quiet_engine_warnings():
        return _open(data=data, db=db, backend=backend, with_items=with_items)


def _open(*, data: Path | None, db: str | None, backend: str | None, with_items: bool = False) -> EventLog:
    if (data is None) == (db is None):
        raise ValidationError("give exactly one of an extract folder (--data) or a database URL (--db)")
    if backend is not None and backend not in BACKENDS:
        raise ValidationError(f"unknown backend {backend!r}", expected=" | ".join(BACKENDS))
    if data is not None:
        chosen = backend or "duckdb"
        if chosen == "duckdb":
            return _duckdb_folder(data)
        if chosen == "pyspark":
            return _pyspark_folder(data)
        raise ValidationError(
            f"backend {chosen!r} reads a database; use --db URL, or duckdb/pyspark for a folder"
        )
    assert db is not None
    dialect = _dialect(db)
    # A SQLite store is small and local: copying it into DuckDB (cached per data version) is several
    # times faster than SQLite's own engine; PostgreSQL computes on its server.
    chosen = backend or ("duckdb" if dialect == "sqlite" else dialect)
    if chosen == "duckdb":
        return _live_into_duckdb(db, dialect, with_items)
    if chosen != dialect:
        raise ValidationError(
            f"backend {chosen!r} cannot read a {dialect} URL", expected=f"{dialect} or duckdb"
        )
    return _sqlite(db) if dialect == "sqlite" else _postgres(db)


def _table_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise NotFoundError(f"extract folder {folder} does not exist")
    files = {name: find_table_file(folder, name) for name in TABLES}
    missing = [name for name in REQUIRED_TABLES if files[name] is None]
    if missing:
        raise NotFoundError(
            f"extract folder {folder} has no file for table(s) {', '.join(missing)}",
        )
    return {name: path for name, path in files.items() if path is not None}


def _with_empty_tables(tables: dict[str, Any]) -> dict[str, Any]:
    """Stand in an empty table (contract schema) for each metric table the extract does not have."""
    for name in METRIC_TABLES:
        if name not in tables:
            tables[name] = ibis.memtable(arrow_schema(name).empty_table())
    return tables


def _csv_header(path: Path) -> list[str]:
    """The column names on the first line of a CSV file (an older extract may lack optional columns)."""
    import csv

    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def _with_contract_columns(tables: dict[str, Any]) -> dict[str, Any]:
    """Every table with every contract column: an optional column an older extract lacks is added
    empty, and an empty referral outcome is derived as on import (docs/extracts.md, "Versions")."""
    for name, table in tables.items():
        present = set(table.columns)
        absent = {
            c.name: ibis.null(_IBIS_TYPES[c.kind]) for c in TABLES[name].columns if c.name not in present
        }
        if absent:
            tables[name] = table.mutate(**absent).select(*TABLES[name].column_names)
    referrals, episodes = tables.get("referrals"), tables.get("episodes")
    if referrals is None or not _has_empty(referrals.outcome):
        return tables
    if episodes is None:
        starts = ibis.memtable(
            pa.table({"named_id": pa.array([], pa.string()), "first_start": pa.array([], pa.date32())})
        )
    else:
        starts = (
            episodes.filter(episodes.referral_id.notnull())
            .group_by(named_id=episodes.referral_id)
            .aggregate(first_start=episodes.start_date.min())
        )
    joined = referrals.left_join(starts, referrals.referral_id == starts.named_id)
    stated = joined.outcome.notnull()
    named = joined.named_id.notnull()
    tables["referrals"] = joined.select(
        *[c for c in TABLES["referrals"].column_names if c not in ("outcome", "outcome_date")],
        outcome=ibis.ifelse(stated, joined.outcome, ibis.ifelse(named, "admitted", "waiting")),
        outcome_date=ibis.ifelse(stated, joined.outcome_date, joined.first_start),
    ).select(*TABLES["referrals"].column_names)
    return tables


def _has_empty(column: Any) -> bool:
    with quiet_engine_warnings():
        return bool(column.isnull().any().execute())


_IBIS_TYPES = {"str": "string", "int": "int64", "date": "date", "bool": "boolean", "json": "string"}


def _duckdb_folder(folder: Path) -> EventLog:
    con = ibis.duckdb.connect()
    tables: dict[str, Any] = {}
    for name, path in _table_files(folder).items():
        if path.suffix == ".parquet":
            tables[name] = con.read_parquet(str(path), table_name=name)
        else:
            header = set(_csv_header(path))
            types = {c.name: _DUCKDB_TYPES[c.kind] for c in TABLES[name].columns if c.name in header}
            tables[name] = con.read_csv(str(path), table_name=name, types=types, header=True)
    return EventLog("duckdb", _with_empty_tables(_with_contract_columns(tables)), con, str(folder))


def _dialect(url: str) -> BackendName:
    from sqlalchemy.engine import make_url

    try:
        name = make_url(url).get_backend_name()
    except Exception as error:
        raise ValidationError(f"not a database URL: {url!r} ({error})") from None
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgres"
    raise ValidationError(
        f"unsupported database {name!r}", expected="sqlite:/// or postgresql+psycopg:// URL"
    )


def _sqlite_path(url: str) -> Path:
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValidationError(f"{url!r} names no SQLite file")
    path = Path(database)
    if not path.is_file():
        raise NotFoundError(f"no SQLite database at {path} (run `onward init --db {url}` first)")
    return path


def _live_tables(con: Any, source: str) -> dict[str, Any]:
    present = set(con.list_tables())
    missing = [name for name in METRIC_TABLES if name not in present]
    if missing:
        raise NotFoundError(f"database {source} has no table(s) {', '.join(missing)} (run `onward init`)")
    return {name: con.table(name) for name in TABLES if name in present}


def _sqlite(url: str) -> EventLog:
    path = _sqlite_path(url)
    con = ibis.sqlite.connect(str(path))
    return EventLog("sqlite", _live_tables(con, str(path)), con, str(path))


def _postgres(url: str) -> EventLog:
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    try:
        con = ibis.postgres.connect(
            host=parts.host or "localhost",
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            database=parts.database,
        )
    except Exception as error:
        raise NotFoundError(
            f"cannot connect to {parts.render_as_string(hide_password=True)}: {error}"
        ) from None
    return EventLog("postgres", _live_tables(con, parts.database or ""), con, parts.database or "")


_cache_lock = threading.Lock()
_copy_lock = threading.Lock()
_live_cache: dict[str, tuple[tuple[int, ...], EventLog, bool]] = {}


def _data_version(url: str, dialect: BackendName) -> tuple[int, ...] | None:
    """A cheap marker that changes when a SQLite file changes (its and its WAL's size and mtime)."""
    if dialect != "sqlite":
        return None
    path = _sqlite_path(url)
    marks: list[int] = []
    for candidate in (path, path.with_name(path.name + "-wal")):
        if candidate.exists():
            stat = candidate.stat()
            if stat.st_size:  # a reader leaves an empty WAL behind: the same data as no WAL
                marks += [stat.st_mtime_ns, stat.st_size]
    return tuple(marks)


def _live_into_duckdb(url: str, dialect: BackendName, with_items: bool = False) -> EventLog:
    """Copy the live tables into an in-memory DuckDB once per data version, through Arrow (a copy with
    item scores serves callers that do not need them too)."""
    with _copy_lock:  # threads asking for the same store wait for one copy
        version = _data_version(url, dialect)
        with _cache_lock:
            hit = _live_cache.get(url)
        if version is not None and hit is not None and hit[0] == version and (hit[2] or not with_items):
            return hit[1]
        return _copy_into_duckdb(url, dialect, version, with_items)


def _copy_into_duckdb(
    url: str, dialect: BackendName, version: tuple[int, ...] | None, with_items: bool = False
) -> EventLog:
    con = ibis.duckdb.connect()
    raw = con.con  # the duckdb connection: CREATE TABLE from a registered Arrow table
    if dialect == "sqlite":
        arrows, source = _read_sqlite(_sqlite_path(url), with_items), str(_sqlite_path(url))
    else:
        live = _postgres(url)
        arrows = {
            name: live.tables[name].select(*TABLES[name].column_names).to_pyarrow() for name in METRIC_TABLES
        }
        source = live.source
    tables: dict[str, Any] = {}
    for name, arrow in arrows.items():
        raw.register("_onward_arrow", _conform(arrow, name))
        raw.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _onward_arrow')
        raw.unregister("_onward_arrow")
        tables[name] = con.table(name)
    log = EventLog("duckdb", tables, con, f"{source} (copied into DuckDB)", version)
    if version is not None:
        with _cache_lock:
            _live_cache[url] = (version, log, with_items or dialect != "sqlite")
    return log


def _read_sqlite(path: Path, with_items: bool = False) -> dict[str, pa.Table]:
    """The metric tables of a SQLite store as Arrow, read with the stdlib driver (no pandas on the way);
    the columns in `_NOT_READ` are left empty (measurement items are read when `with_items`)."""
    skipped = _NOT_READ - {("measurements", "items")} if with_items else _NOT_READ
    import sqlite3

    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        present = {
            row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        missing = [name for name in METRIC_TABLES if name not in present]
        if missing:
            raise NotFoundError(f"database {path} has no table(s) {', '.join(missing)} (run `onward init`)")
        out: dict[str, pa.Table] = {}
        for name in METRIC_TABLES:
            spec = TABLES[name]
            read = [c for c in spec.columns if (name, c.name) not in skipped]
            # One JSON object of column arrays, built by SQLite in one scan (so the columns stay aligned)
            # and parsed by Arrow's C++ reader: no Python object per value. Dates arrive as ISO text and
            # booleans as 0/1; `_conform` casts them afterwards.
            pairs = ", ".join(f"'{c.name}', json_group_array(\"{c.name}\")" for c in read)
            rows, text = connection.execute(f'SELECT count(*), json_object({pairs}) FROM "{name}"').fetchone()
            data = text.encode()
            schema = pa.schema([pa.field(c.name, pa.list_(_ARROW_LOOSE[c.kind])) for c in read])
            parsed = pa_json.read_json(
                io.BytesIO(data),
                read_options=pa_json.ReadOptions(block_size=len(data) + 1),
                parse_options=pa_json.ParseOptions(explicit_schema=schema),
            )
            arrays = []
            for column in spec.columns:
                kind = _ARROW_LOOSE[column.kind]
                if (name, column.name) in skipped:
                    arrays.append(pa.nulls(rows, kind))
                else:
                    arrays.append(parsed.column(column.name).combine_chunks().flatten())
            out[name] = pa.Table.from_arrays(arrays, names=list(spec.column_names))
        return out
    finally:
        connection.close()


#: Columns no metric reads: left empty in the DuckDB copy of a SQLite store (item answers are the bulk).
_NOT_READ = {
    ("services", "service_id"),
    ("services", "code"),
    ("referrals", "source"),
    ("referrals", "priority"),
    ("measurements", "items"),
}

_ARROW_LOOSE = {
    "str": pa.string(),
    "int": pa.int64(),
    "json": pa.string(),
    "date": pa.string(),
    "bool": pa.int64(),
}


def _conform(table: pa.Table, name: str) -> pa.Table:
    """Cast to the contract's Arrow schema (SQLite hands back dates and booleans loosely typed)."""
    schema = arrow_schema(name)
    columns = []
    for field_ in schema:
        column = table.column(field_.name)
        if column.type != field_.type:
            column = column.cast(field_.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=pa.schema([f.with_nullable(True) for f in schema]))


_spark_lock = threading.Lock()
_spark: dict[str, Any] = {}


def spark_backend() -> Any:
    """One local SparkSession per process, created on first use (JVM start costs ~5 s)."""
    with _spark_lock:
        if "con" not in _spark:
            from pyspark.sql import SparkSession

            session = (
                SparkSession.builder.master("local[2]")
                .appName("onward-metrics")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.driver.memory", "2g")
                .config("spark.ui.showConsoleProgress", "false")
                .getOrCreate()
            )
            session.sparkContext.setLogLevel("ERROR")
            _spark["con"] = ibis.pyspark.connect(session)
        return _spark["con"]


def _spark_schema(name: str, columns: list[str]) -> Any:
    """The Spark schema of a CSV file whose header names `columns` (in the file's order)."""
    from pyspark.sql import types as st

    kinds = {
        "str": st.StringType(),
        "int": st.LongType(),
        "date": st.DateType(),
        "bool": st.BooleanType(),
        "json": st.StringType(),
    }
    spec = TABLES[name]
    return st.StructType([st.StructField(c, kinds[spec.column(c).kind], True) for c in columns])


def _pyspark_folder(folder: Path) -> EventLog:
    files = _table_files(folder)
    con = spark_backend()
    session = con._session
    prefix = f"onward_{uuid.uuid4().hex[:8]}"
    tables: dict[str, Any] = {}
    for name, path in files.items():
        if path.suffix == ".parquet":
            frame = session.read.parquet(str(path))
        else:
            frame = session.read.csv(
                str(path),
                header=True,
                schema=_spark_schema(name, _csv_header(path)),
                dateFormat="yyyy-MM-dd",
            )
        view = f"{prefix}_{name}"
        frame.createOrReplaceTempView(view)
        tables[name] = con.table(view)
    return EventLog("pyspark", _with_empty_tables(_with_contract_columns(tables)), con, str(folder))
