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
    return pa.table({f.name: pa.array([r.get(f.name) for r in rows], f.type) for f in schema}, schema=schema)


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
    return dict(found[0])


def random_tables(seed: int, people: int = 40) -> dict[str, list[Row]]:
    """A small but varied event log (every metric has cases) for comparing engines, from one seed."""
    import random
    from datetime import timedelta

    rng = random.Random(seed)
    first = date(2023, 1, 1)

    def day(offset: int) -> str:
        return (first + timedelta(days=offset)).isoformat()

    programs = [
        *DEFAULT_PROGRAMS,
        {
            "program_id": "P3",
            "name": "MOUD",
            "kind": "medication_for_oud",
            "level_of_care": 2,
            "capacity_slots": 20,
        },
    ]
    staff = [{"staff_id": "ST1", "role": "case_manager", "program_id": "P3", "hours_per_week": 30}]
    tables: dict[str, list[Row]] = {"referrals": [], "episodes": [], "services": [], "measurements": []}
    categories = ["treatment", "medication", "case_management", "assessment", "peer_support"]
    for p in range(people):
        person = f"p{p:03d}"
        offset = rng.randrange(0, 500)
        for k in range(rng.choice([1, 2, 2])):
            eid = f"e{p:03d}{k}"
            program = rng.choice(["P1", "P1", "P2", "P3"])
            ref_id = None
            if rng.random() < 0.7:
                ref_id = f"r{p:03d}{k}"
                tables["referrals"].append(
                    referral(ref_id, person, day(offset - rng.randrange(0, 30)), program)
                )
            length = rng.randrange(5, 500)
            closed = rng.random() < 0.6
            reason = rng.choice(["graduated", "graduated", "disengaged", "stepped_down"])
            planned = day(offset + rng.randrange(100, 600)) if rng.random() < 0.3 else None
            tables["episodes"].append(
                episode(
                    eid,
                    person,
                    day(offset),
                    day(offset + length) if closed else None,
                    program_id=program,
                    referral_id=ref_id,
                    planned_end=planned,
                    end_reason=reason if closed else None,
                    is_sud=program == "P3" or rng.random() < 0.2,
                )
            )
            if rng.random() < 0.9:  # most episodes get a first treatment within three weeks
                first_tx = rng.randrange(0, 21)
                burst = [first_tx, first_tx + 3, first_tx + 9] if rng.random() < 0.5 else [first_tx]
                for b, when in enumerate(burst):
                    tables["services"].append(service(f"t{p:03d}{k}{b}", person, eid, day(offset + when)))
            if program == "P2" and closed and rng.random() < 0.7:  # follow-up after a hospital stay
                after = length + rng.choice([0, 2, 6, 7, 8, 15, 30, 31])
                tables["services"].append(
                    service(f"f{p:03d}{k}", person, None, day(offset + after), "case_management", 30, "ST1")
                )
            for s in range(rng.randrange(0, 12)):
                tables["services"].append(
                    service(
                        f"s{p:03d}{k}{s:02d}",
                        person,
                        eid if rng.random() < 0.9 else None,
                        day(offset + rng.randrange(0, length + 40)),
                        rng.choice(categories),
                        rng.choice([15, 30, 45, 60]),
                        staff_id="ST1" if rng.random() < 0.2 else None,
                    )
                )
            score = rng.randrange(6, 25)
            low, high = rng.choice([(-8, 4), (-8, 4), (-2, 8)])  # most improve, some deteriorate
            measured_days = sorted(rng.randrange(0, length + 1) for _ in range(rng.randrange(0, 6)))
            for j, at in enumerate(measured_days):
                instrument = rng.choice(["phq9", "phq9", "gad7"])
                score = max(0, min(27, score + rng.randrange(low, high)))
                tables["measurements"].append(
                    measure(
                        f"m{p:03d}{k}{j}",
                        person,
                        eid if rng.random() < 0.9 else None,
                        instrument,
                        day(offset + at),
                        min(score, 21) if instrument == "gad7" else score,
                    )
                )
            offset += length + rng.randrange(1, 400)
    return {"programs": programs, "staff": staff, **tables}


def write_random_log(folder: Path, *, seed: int, people: int = 40, fmt: ExtractFormat = "parquet") -> Path:
    """`random_tables` written as an extract folder."""
    t = random_tables(seed, people)
    return write_log(
        folder,
        episodes=t["episodes"],
        services=t["services"],
        measurements=t["measurements"],
        referrals=t["referrals"],
        programs=t["programs"],
        staff=t["staff"],
        fmt=fmt,
    )
