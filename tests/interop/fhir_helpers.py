"""Shared by the FHIR tests: the small event log written as Bulk Data, and the lines of a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
from tests.interop.test_extracts import small_event_log

from onward.interop.fhir_write import write_bulk


def quiet(_description: str, _total: int) -> Any:
    return lambda _n: None


def write_small(folder: Path, tables: dict[str, pa.Table] | None = None) -> dict[str, int]:
    return write_bulk(tables or small_event_log(), folder, task=quiet)


def resources(folder: Path, resource_type: str) -> list[dict[str, Any]]:
    path = folder / f"{resource_type}.ndjson"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def by_id(folder: Path, resource_type: str) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in resources(folder, resource_type)}


def write_lines(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path
