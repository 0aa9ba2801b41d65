"""Export the event log to an extract folder and import one back, checked row by row and all-or-nothing.

An import validates every file completely (vectorised, see `validate`) before it writes anything,
then writes every table in one transaction, upserting by id, so a bad row leaves the database as it
was and a repeated import changes nothing. Rows that are absent from an extract are kept: an
extract may be partial (for example last month's services only).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Connection, String, insert

from onward.errors import ConfigurationError, ValidationError
from onward.interop.bulk import (
    Advance,
    TableCounts,
    count_rows,
    existing_ids,
    prepare_bulk,
    read_sorted,
    upsert,
)
from onward.interop.csv_text import first_non_utf8_cell
from onward.interop.files import (
    FORMATS,
    ExtractFormat,
    find_table_file,
    is_synthetic_extract,
    table_path,
    write_table,
)
from onward.interop.outcomes import check_outcomes, fill_outcomes
from onward.interop.scores import check_scores
from onward.interop.service_catalogue import CodeIssue, code_issues, record_issues
from onward.interop.validate import Source, check_references, normalise
from onward.model.eventlog import EVENT_LOG, TABLES, Table
from onward.model.service_codes import ServiceCatalog, default_catalog
from onward.store.engine import create_db_engine, is_sqlite, refresh_statistics
from onward.store.migrate import current_revision, upgrade_database
from onward.store.tables import Base, ImportRecord

REQUIRED_TABLES: tuple[str, ...] = ("people", "programs")
"""Every extract carries the people and programs its events refer to; the other tables are optional."""


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What one import did, per table, and the hash of the files it read."""

    source: Path
    tables: dict[str, TableCounts] = field(default_factory=dict)
    content_hash: str = ""
    seconds: float = 0.0
    code_issues: tuple[CodeIssue, ...] = ()

    @property
    def changed(self) -> bool:
        return any(c.inserted or c.updated for c in self.tables.values())


# --- progress --------------------------------------------------------------------------------------

MakeTask = Callable[[str, int], Advance]


@contextmanager
def progress_bars(enabled: bool) -> Iterator[MakeTask]:
    """Yields `task(description, total) -> advance`; a rich bar per table when enabled, silent otherwise."""
    if not enabled:
        yield lambda _description, _total: lambda _n: None
        return
    bars = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
    with bars:

        def task(description: str, total: int) -> Advance:
            task_id = bars.add_task(description, total=total)
            return lambda n: bars.advance(task_id, n)

        yield task


# --- export ----------------------------------------------------------------------------------------


RowFilter = Callable[[str, pa.Table], pa.Table]
"""keep(table name, rows) -> the rows to write: how a disclosure leaves out records it may not carry."""


def export_extract(
    url: str,
    folder: Path,
    fmt: ExtractFormat = "parquet",
    *,
    progress: bool = True,
    keep: RowFilter | None = None,
) -> dict[str, int]:
    """Write every event-log table to `folder` (one file each, rows sorted by id); returns row counts.

    `keep`, when given, chooses the rows of each table that are written (see `onward.services.disclosure`).
    """
    if fmt not in FORMATS:
        raise ValidationError(f"unknown extract format {fmt!r}", expected=" or ".join(FORMATS))
    for spec in EVENT_LOG:
        for other in FORMATS:
            if other != fmt and table_path(folder, spec.name, other).exists():
                raise ConfigurationError(
                    f"{table_path(folder, spec.name, other)} already exists in another format; "
                    "remove it or export to another folder, so that the folder holds one extract"
                )
    _require_initialised(url)
    engine = create_db_engine(url)
    counts: dict[str, int] = {}
    try:
        # One snapshot for all tables, so the files agree with each other.
        options = {} if is_sqlite(url) else {"isolation_level": "REPEATABLE READ"}
        with (
            engine.connect().execution_options(**options) as connection,
            connection.begin(),
            progress_bars(progress) as task,
        ):
            for spec in EVENT_LOG:
                advance = task(f"export {spec.name}", count_rows(connection, spec.name))
                data = read_sorted(connection, spec, advance)
                if keep is not None:
                    data = keep(spec.name, data)
                write_table(data, folder, spec.name, fmt)
                counts[spec.name] = data.num_rows
    finally:
        engine.dispose()
    return counts


def _require_initialised(url: str) -> None:
    if current_revision(url) is None:
        raise ConfigurationError("the database has no Onward schema yet; run `onward init` first")


# --- import ----------------------------------------------------------------------------------------


def _max_lengths(spec: Table) -> dict[str, int | None]:
    table = Base.metadata.tables[spec.name]
    return {c.name: c.type.length if isinstance(c.type, String) else None for c in table.columns}


def _read_csv(path: Path, spec: Table, *, use_threads: bool = True) -> pa.Table:
    broken: list[pa_csv.InvalidRow] = []

    def on_invalid_row(row: pa_csv.InvalidRow) -> str:
        broken.append(row)
        return "error"

    try:
        return pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(use_threads=use_threads),
            parse_options=pa_csv.ParseOptions(invalid_row_handler=on_invalid_row),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in spec.column_names},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,  # "" is an empty text, an empty field is missing
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid:
        if broken and broken[0].number is not None:
            row = broken[0]
            raise ValidationError(
                f"{row.actual_columns} fields instead of {row.expected_columns} (CSV line {row.number})",
                file=str(path),
                row=row.number - 1,
                expected=f"{row.expected_columns} comma-separated fields, as in the header",
            ) from None
        bad = first_non_utf8_cell(path)
        if bad is not None:
            raise ValidationError(
                f"{bad.shown} is not UTF-8 text (CSV line {bad.line})",
                file=str(path),
                row=bad.row if bad.row > 0 else None,
                column=bad.column if bad.row > 0 else None,
                expected="a file saved as UTF-8" + ("" if bad.row > 0 else " (its header line is not)"),
            ) from None
        if use_threads:  # parallel parsing does not know line numbers: find the line on one thread
            return _read_csv(path, spec, use_threads=False)
        raise


def read_table_file(path: Path, spec: Table) -> pa.Table:
    """The raw contents of one extract file; CSV cells are read as text so each can be checked."""
    try:
        table = pq.read_table(path) if path.suffix == ".parquet" else _read_csv(path, spec)
        table.column_names  # noqa: B018  Arrow decodes column names when asked: a bad header fails here
    except (pa.ArrowInvalid, OSError) as error:
        raise ValidationError(f"cannot read the file: {error}", file=str(path)) from None
    except UnicodeDecodeError:
        raise ValidationError(
            "the column names are not UTF-8 text", file=str(path), expected="a file saved as UTF-8"
        ) from None
    return table


def _find_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise ConfigurationError(f"{folder} is not a folder")
    files = {
        spec.name: path for spec in EVENT_LOG if (path := find_table_file(folder, spec.name)) is not None
    }
    for name in REQUIRED_TABLES:
        if name not in files:
            raise ValidationError(
                f"no {name} file in {folder}",
                file=str(table_path(folder, name, "parquet")),
                expected=f"{name}.parquet or {name}.csv: an extract needs people and programs; "
                "staff, referrals, episodes, services and measurements are optional",
            )
    return files


def _content_hash(files: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for name, path in files.items():
        digest.update(f"{name}:{path.suffix}\n".encode())
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def import_extract(
    folder: Path, url: str, *, progress: bool = True, catalogue: ServiceCatalog | None = None
) -> ImportResult:
    """Check every row of the extract in `folder`, then upsert it all in one transaction.

    Creates or upgrades the schema first, like `onward init`. Raises ValidationError naming the
    file, row (1 = first data row; CSV also gives the line), column and expectation of the first
    bad row; nothing is written then.
    """
    files = _find_files(folder)

    def load(name: str) -> tuple[pa.Table, Source]:
        path, spec = files[name], TABLES[name]
        return read_table_file(path, spec), Source(file=str(path), is_csv=path.suffix == ".csv")

    return import_tables(
        list(files),
        load,
        url,
        source=folder,
        content_hash=_content_hash(files),
        synthetic=is_synthetic_extract(folder),
        progress=progress,
        catalogue=catalogue,
    )


TableLoader = Callable[[str], tuple[pa.Table, Source]]
"""load(table name) -> (its raw rows, where they came from for error messages)."""


def import_tables(
    names: list[str],
    load: TableLoader,
    url: str,
    *,
    source: Path,
    content_hash: str,
    synthetic: bool,
    progress: bool = True,
    catalogue: ServiceCatalog | None = None,
) -> ImportResult:
    """Check the event-log tables `names` (rows from `load`), then upsert them all in one transaction.

    The checks and the load are those of `import_extract`, whatever the rows were read from (an
    extract folder, FHIR NDJSON): the first bad row stops the import and nothing is written. Service
    codes are looked up in `catalogue` (default: the built-in one); unknown codes and disagreeing
    categories are counted in the result and kept in `service_code_issues`, the rows imported as given.
    """
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    upgrade_database(url)
    engine = create_db_engine(url)
    try:
        with (
            engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection,
            connection.begin(),
            progress_bars(progress) as task,
        ):
            checked: dict[str, pa.Table] = {}
            known: dict[str, pa.Array] = {}

            def known_ids(parent: str) -> pa.Array:
                if parent not in known:
                    ids = [existing_ids(connection, parent, TABLES[parent].key)]
                    if parent in checked:
                        ids.append(checked[parent].column(TABLES[parent].key).combine_chunks())
                    known[parent] = pa.concat_arrays(ids).unique()
                return known[parent]

            check = task("check files", len(names))
            for spec in EVENT_LOG:
                if spec.name not in names:
                    continue
                raw, where = load(spec.name)
                data = normalise(raw, spec, where, max_lengths=_max_lengths(spec))
                if spec.name == "referrals":
                    check_outcomes(data, spec, where)
                check_references(data, spec, where, known_ids)
                if spec.name == "measurements":
                    check_scores(data, where)
                checked[spec.name] = data
                check(1)
            if "referrals" in checked:
                checked["referrals"] = fill_outcomes(
                    checked["referrals"],
                    checked.get("episodes"),
                    stored_starts=lambda ids: _stored_starts(connection, ids),
                    stored_outcomes=lambda ids: _stored_outcomes(connection, ids),
                )

            issues = (
                code_issues(checked["services"], catalogue or default_catalog())
                if "services" in checked
                else []
            )
            counts: dict[str, TableCounts] = {}
            prepare_bulk(connection)
            for name, data in checked.items():
                counts[name] = upsert(connection, TABLES[name], data, task(f"import {name}", data.num_rows))
            record = connection.execute(
                insert(ImportRecord).values(
                    started_at=started_at,
                    finished_at=datetime.now(UTC),
                    source=str(source.resolve()),
                    tables=json.dumps({n: _counts_json(c) for n, c in counts.items()}),
                    content_hash=content_hash,
                    synthetic=synthetic,
                )
            )
            record_issues(connection, int(record.inserted_primary_key[0]), issues)  # type: ignore[index]
        refresh_statistics(engine, list(checked))
    finally:
        engine.dispose()
    return ImportResult(
        source=source,
        tables=counts,
        content_hash=content_hash,
        seconds=time.perf_counter() - started,
        code_issues=tuple(issues),
    )


def _dates(values: list[object]) -> pa.Array:
    """A date32 array from what a driver returns: date objects (psycopg) or ISO text (sqlite3)."""
    if any(isinstance(v, str) for v in values):
        return pa.array(values, pa.string()).cast(pa.date32())
    return pa.array(values, pa.date32())


def _stored_starts(connection: Connection, ids: pa.Array) -> pa.Table:
    """(referral_id, start_date) of the earliest stored episode naming each of `ids`."""
    rows = connection.exec_driver_sql(
        "SELECT referral_id, min(start_date) FROM episodes WHERE referral_id IS NOT NULL GROUP BY referral_id"
    ).all()
    table = pa.table(
        {
            "referral_id": pa.array([r[0] for r in rows], pa.string()),
            "start_date": _dates([r[1] for r in rows]),
        }
    )
    return table.filter(pc.is_in(table.column("referral_id"), ids))


def _stored_outcomes(connection: Connection, ids: pa.Array) -> pa.Table:
    """The stored outcome, outcome_date and outcome_reason of those of `ids` already in the database."""
    rows = connection.exec_driver_sql(
        "SELECT referral_id, outcome, outcome_date, outcome_reason FROM referrals"
    ).all()
    table = pa.table(
        {
            "referral_id": pa.array([r[0] for r in rows], pa.string()),
            "outcome": pa.array([r[1] for r in rows], pa.string()),
            "outcome_date": _dates([r[2] for r in rows]),
            "outcome_reason": pa.array([r[3] for r in rows], pa.string()),
        }
    )
    return table.filter(pc.is_in(table.column("referral_id"), ids))


def _counts_json(counts: TableCounts) -> dict[str, int]:
    return {"inserted": counts.inserted, "updated": counts.updated, "unchanged": counts.unchanged}
