from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from onward.interop.files import find_table_file
from onward.model.eventlog import TABLES
from onward.sim.synth import MANIFEST, synthesize, write_synthetic_county


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_writes_byte_identical_files(tmp_path: Path, fmt: str) -> None:
    a = write_synthetic_county(tmp_path / "a", people=1_500, years=1, seed=9, fmt=fmt, progress=False)  # type: ignore[arg-type]
    b = write_synthetic_county(tmp_path / "b", people=1_500, years=1, seed=9, fmt=fmt, progress=False)  # type: ignore[arg-type]
    assert a == b
    files_a, files_b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert set(files_a) == {f"{name}.{fmt}" for name in TABLES} | {MANIFEST}
    assert files_a == files_b


def test_a_different_seed_writes_different_files(tmp_path: Path) -> None:
    write_synthetic_county(tmp_path / "a", people=1_500, years=1, seed=1, progress=False)
    write_synthetic_county(tmp_path / "b", people=1_500, years=1, seed=2, progress=False)
    assert (tmp_path / "a" / "services.parquet").read_bytes() != (
        tmp_path / "b" / "services.parquet"
    ).read_bytes()


def test_counts_match_the_files_and_the_manifest_marks_synthetic_data(tmp_path: Path) -> None:
    seen: list[float] = []
    counts = write_synthetic_county(
        tmp_path, people=1_000, years=1, seed=3, progress=lambda what, done: seen.append(done)
    )
    for name, rows in counts.items():
        path = find_table_file(tmp_path, name)
        assert path is not None and pq.read_metadata(path).num_rows == rows
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["synthetic"] is True and manifest["seed"] == 3 and manifest["rows"] == counts
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


def test_synthesize_respects_the_start_date() -> None:
    tables = synthesize(people=800, years=0.5, seed=4, start=date(2020, 7, 1))
    days = tables["services"].column("service_date").to_pylist()
    assert min(days) >= date(2020, 7, 1) and max(days) < date(2021, 1, 1)
