"""The synthetic county: a status-quo simulation written as an event-log extract (`onward synth`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow as pa

from onward.interop.files import SYNTH_MANIFEST, ExtractFormat, write_table
from onward.model.eventlog import EVENT_LOG
from onward.sim.engine import run
from onward.sim.eventlog import to_event_log
from onward.sim.scenario import load_scenario

MANIFEST = SYNTH_MANIFEST
"""Marker file beside the tables: says the extract is synthetic and how it was made."""

Report = Callable[[str, float], None]
"""progress(what, fraction_done): called as the work advances."""


def synthesize(
    *,
    people: int,
    years: float,
    seed: int,
    start: date = date(2023, 1, 1),
    scenario: str = "status-quo",
    progress: Report | None = None,
) -> dict[str, pa.Table]:
    """Simulate a county of `people` residents for `years` and return its event log (one table per name)."""

    def engine_progress(done: int, total: int) -> None:
        if progress is not None:
            progress("simulating", 0.6 * done / total)

    result = run(
        load_scenario(scenario),
        people=people,
        years=years,
        seed=seed,
        record_events=True,
        start_year=start.year,
        progress=engine_progress,
    )
    if progress is not None:
        progress("building the event log", 0.6)
    return to_event_log(result, start=start)


def write_synthetic_county(
    out: Path,
    *,
    people: int,
    years: float,
    seed: int,
    fmt: ExtractFormat = "parquet",
    start: date = date(2023, 1, 1),
    progress: bool | Report = True,
) -> dict[str, int]:
    """Write the synthetic county as an extract folder; returns rows per table. Same seed → same bytes.

    `progress=True` shows a rich progress bar; a callable receives (what, fraction) instead.
    """
    if callable(progress):
        return _write(out, people=people, years=years, seed=seed, fmt=fmt, start=start, report=progress)
    if not progress:
        return _write(out, people=people, years=years, seed=seed, fmt=fmt, start=start, report=None)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("synthetic county", total=1.0)

        def report(what: str, fraction: float) -> None:
            bar.update(task, completed=fraction, description=what)

        return _write(out, people=people, years=years, seed=seed, fmt=fmt, start=start, report=report)


def _write(
    out: Path, *, people: int, years: float, seed: int, fmt: ExtractFormat, start: date, report: Report | None
) -> dict[str, int]:
    tables = synthesize(people=people, years=years, seed=seed, start=start, progress=report)
    counts: dict[str, int] = {}
    for i, spec in enumerate(EVENT_LOG):
        if report is not None:
            report(f"writing {spec.name}", 0.7 + 0.3 * i / len(EVENT_LOG))
        write_table(tables[spec.name], out, spec.name, fmt)
        counts[spec.name] = tables[spec.name].num_rows
    manifest = {
        "synthetic": True,
        "generator": "onward synth",
        "scenario": "status-quo",
        "people": people,
        "years": years,
        "seed": seed,
        "start": start.isoformat(),
        "format": fmt,
        "rows": counts,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if report is not None:
        report("done", 1.0)
    return counts
