"""Tiny hand-built event logs for the metric tests: row builders, an extract writer, and a runner."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from onward.interop.files import ExtractFormat, arrow_schema, write_table
from onward.metrics.backends import open_event_log
from onward.metrics.period import Period
from onward.metrics.suite import MetricsResult, compute_metrics
from onward.model.eventlog import TABLES

Row = dict[str, Any]
LogFactory = Callable[..., Path]

DEFAULT_PROGRAMS: list[Row] = [
    {
        "program_id": "P1",
        "name": "Outpatient",
        "kind": "outpatient",
        "level_of_care": 1,
        "capacity_slots": 50,
    },
    {"program_id": "P2", "name": "Inpatient", "kind": "inpatient", "level_of_care": 5, "capacity_slots": 10},
]


def d(text: str) -> date:
    return date.fromisoformat(text)


def episode(
    episode_id: str,
    person_id: str,
    start: str,
    end: str | None = None,
    *,
    program_id: str = "P1",
    referral_id: str | None = None,
    planned_end: str | None = None,
    end_reason: str | None = None,
    is_sud: bool = False,
) -> Row:
    return {
        "episode_id": episode_id,
        "person_id": person_id,
        "program_id": program_id,
        "referral_id": referral_id,
        "start_date": d(start),
        "planned_end_date": d(planned_end) if planned_end else None,
        "end_date": d(end) if end else None,
        "end_reason": end_reason if end_reason else ("other" if end else None),
        "is_sud": is_sud,
    }


def service(
    service_id: str,
    person_id: str,
    episode_id: str | None,
    on: str,
    category: str = "treatment",
    minutes: int = 60,
    staff_id: str | None = None,
) -> Row:
    return {
        "service_id": service_id,
        "person_id": person_id,
        "episode_id": episode_id,
        "staff_id": staff_id,
        "service_date": d(on),
        "code": "90837",
        "minutes": minutes,
        "category": category,
    }


def measure(
    measurement_id: str, person_id: str, episode_id: str | None, instrument: str, on: str, score: int
) -> Row:
    return {
        "measurement_id": measurement_id,
        "person_id": person_id,
        "episode_id": episode_id,
        "instrument": instrument,
        "measured_on": d(on),
        "score": score,
        "items": None,
    }


def referral(referral_id: str, person_id: str, on: str, program_id: str = "P1") -> Row:
    return {
        "referral_id": referral_id,
        "person_id": person_id,
        "program_id": program_id,
        "referral_date": d(on),
        "source": "self",
        "priority": "routine",
    }


def _table(name: str, rows: Iterable[Row]) -> pa.Table:
    schema = arrow_schema(name)
    rows = list(rows)
    return pa.table({f.name: pa.array([r[f.name] for r in rows], f.type) for f in schema}, schema=schema)


def write_log(
    folder: Path,
    *,
    episodes: Iterable[Row] = (),
    services: Iterable[Row] = (),
    measurements: Iterable[Row] = (),
    referrals: Iterable[Row] = (),
    programs: Iterable[Row] | None = None,
    staff: Iterable[Row] = (),
    fmt: ExtractFormat = "parquet",
) -> Path:
    """Write an extract folder (people derived from the ids used) and return its path."""
    tables = {
        "programs": list(programs) if programs is not None else DEFAULT_PROGRAMS,
        "staff": list(staff),
        "referrals": list(referrals),
        "episodes": list(episodes),
        "services": list(services),
        "measurements": list(measurements),
    }
    people = sorted(
        {
            r["person_id"]
            for name in ("referrals", "episodes", "services", "measurements")
            for r in tables[name]
        }
    )
    tables["people"] = [
        {
            "person_id": p,
            "birth_year": 1990,
            "sex": "unknown",
            "postcode_prefix": "X1",
            "school_grade": None,
            "pregnancy_due_date": None,
        }
        for p in people
    ]
    for name in TABLES:
        write_table(_table(name, tables[name]), folder, name, fmt)
    return folder


def compute(
    folder: Path,
    *,
    start: str | None = None,
    end: str | None = None,
    as_of: str | None = None,
    by: tuple[str, ...] = (),
) -> MetricsResult:
    """The whole suite on DuckDB over `folder` for the period given as ISO strings."""
    period = Period(
        d(start) if start else None,
        d(end) if end else None,
        d(as_of) if as_of else None,
    )
    return compute_metrics(open_event_log(data=folder), period=period, by=by)


def group(result: MetricsResult, **key: str | None) -> dict[str, Any]:
    """The JSON group whose keys match `key` (exactly one must)."""
    found = [g for g in result.to_json()["groups"] if all(g[k] == v for k, v in key.items())]
    assert len(found) == 1, f"{len(found)} groups match {key}"
    return found[0]
