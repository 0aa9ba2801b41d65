"""File layout of an extract folder: one Parquet or CSV file per event-log table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from onward.model.eventlog import TABLES, Column, Table

ExtractFormat = Literal["parquet", "csv"]

#: Written by `onward synth` beside its tables: `{"synthetic": true, "generator": ..., "seed": ...}`.
SYNTH_MANIFEST = "onward-synth.json"
#: Any other producer of synthetic extracts may simply drop an empty file of this name in the folder.
SYNTHETIC_MARKER = "SYNTHETIC"
FORMATS: tuple[ExtractFormat, ...] = ("parquet", "csv")

_ARROW_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "date": pa.date32(),
    "bool": pa.bool_(),
    "json": pa.string(),  # JSON text, e.g. "[1, 0, 3]"
}


def arrow_type(column: Column) -> pa.DataType:
    return _ARROW_TYPES[column.kind]


def arrow_schema(table: Table | str) -> pa.Schema:
    """The Arrow schema of a contract table, in contract column order."""
    spec = TABLES[table] if isinstance(table, str) else table
    # An optional column may be empty in a file (the importer derives its value).
    return pa.schema(
        [pa.field(c.name, arrow_type(c), nullable=c.nullable or c.optional) for c in spec.columns]
    )


def table_path(folder: Path, name: str, fmt: ExtractFormat) -> Path:
    return folder / f"{name}.{fmt}"


def find_table_file(folder: Path, name: str) -> Path | None:
    """The file holding table `name` in an extract folder, whichever format it was written in."""
    for fmt in FORMATS:
        path = table_path(folder, name, fmt)
        if path.exists():
            return path
    return None


def write_table(table: pa.Table, folder: Path, name: str, fmt: ExtractFormat) -> Path:
    """Write one table deterministically: the same rows always give the same bytes.

    Optional columns (docs/extracts.md, "Versions") that `table` lacks are written empty.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = table_path(folder, name, fmt)
    for column in TABLES[name].columns:
        if column.optional and column.name not in table.column_names:
            table = table.append_column(column.name, pa.nulls(table.num_rows, arrow_type(column)))
    table = table.select(list(arrow_schema(name).names)).cast(arrow_schema(name))
    if fmt == "parquet":
        pq.write_table(table, path, compression="zstd", write_statistics=True, store_schema=True)
    else:
        pa_csv.write_csv(table, path, pa_csv.WriteOptions(include_header=True, quoting_style="needed"))
    return path


def is_synthetic_extract(folder: Path) -> bool:
    """Whether an extract folder says its data is synthetic (a manifest or a marker file), so that
    everything built from it can be labelled as such."""
    if (folder / SYNTHETIC_MARKER).exists():
        return True
    try:
        manifest = json.loads((folder / SYNTH_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("synthetic") is True
