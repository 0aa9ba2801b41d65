"""Import of a county-sized extract: Onward's checked upsert against a plain pandas `to_sql` baseline.

Uses two extracts: the county `onward synth --people 100000 --years 5` writes, and a larger valid
event log synthesised here with NumPy (100,000 people over 5 years, >= 2 million services, ~0.5
million measurements). For each it times, each into a fresh database: `import_extract`, the same
import again (idempotent, nothing changes), `export_extract` back to Parquet, and
`DataFrame.to_sql` of the same rows (no checks, no upsert). PostgreSQL runs too when
ONWARD_TEST_POSTGRES_URL is set. ONWARD_BENCH_PEOPLE changes the size, ONWARD_BENCH_IMPORT_DATA
(synth, numpy or both, comma-separated) the extracts.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from onward.interop.extracts import export_extract, import_extract
from onward.interop.files import arrow_schema, write_table
from onward.model.eventlog import EVENT_LOG
from onward.store.engine import create_db_engine
from onward.store.migrate import upgrade_database

SEED = 20261125
YEARS = 5
START = np.datetime64("2021-01-01")

# Codes and minutes from docs/references.md "Service codes by category" (US Medicaid HCPCS / CPT).
SERVICE_CODES = [
    ("90834", 45, "treatment"),
    ("90837", 60, "treatment"),
    ("90853", 90, "treatment"),
    ("99213", 20, "medication"),
    ("90791", 60, "assessment"),
    ("T1017", 30, "case_management"),
    ("H0038", 60, "peer_support"),
    ("H2014", 60, "skills"),
    ("H2011", 45, "crisis"),
]
PROGRAM_KINDS = ["outpatient", "intensive_outpatient", "act_team", "case_management", "medication_for_oud",
                 "residential", "inpatient", "crisis", "school", "perinatal"]  # fmt: skip


def _ids(prefix: str, n: int) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(np.arange(n)), pa.string()), "")


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array((START + days.astype("timedelta64[D]")).astype("datetime64[D]"), pa.date32())


def synthesise(folder: Path, people: int, seed: int = SEED) -> dict[str, int]:
    """A valid extract in `folder` (Parquet); returns row counts. Vectorised: seconds for 100k people."""
    rng = np.random.default_rng(seed)
    span = 365 * YEARS
    n_programs, n_staff = 40, max(50, people // 100)
    n_episodes = int(people * 2.5)
    n_services = n_episodes * 10
    n_measurements = n_episodes * 2

    tables: dict[str, dict[str, object]] = {}
    tables["people"] = {
        "person_id": _ids("p", people),
        "birth_year": rng.integers(1940, 2020, people),
        "sex": pa.array(
            rng.choice(["female", "male", "other", "unknown"], people, p=[0.5, 0.47, 0.02, 0.01])
        ),
        "postcode_prefix": pc.cast(pa.array(rng.integers(970, 995, people)), pa.string()),
        "school_grade": pa.array(rng.integers(0, 13, people), mask=rng.random(people) > 0.15),
        "pregnancy_due_date": pa.array(
            (START + rng.integers(0, span, people).astype("timedelta64[D]")).astype("datetime64[D]"),
            pa.date32(),
            mask=rng.random(people) > 0.02,
        ),
    }
    tables["programs"] = {
        "program_id": _ids("prog", n_programs),
        "name": _ids("Program ", n_programs),
        "kind": pa.array([PROGRAM_KINDS[i % len(PROGRAM_KINDS)] for i in range(n_programs)]),
        "level_of_care": rng.integers(1, 6, n_programs),
        "capacity_slots": rng.integers(20, 400, n_programs),
    }
    staff_program = rng.integers(0, n_programs, n_staff)
    tables["staff"] = {
        "staff_id": _ids("s", n_staff),
        "role": pa.array(rng.choice(["clinician", "prescriber", "case_manager", "peer_specialist"], n_staff)),
        "program_id": pc.take(tables["programs"]["program_id"], pa.array(staff_program)),
        "hours_per_week": rng.integers(10, 41, n_staff),
    }
    person = rng.integers(0, people, n_episodes)
    program = rng.integers(0, n_programs, n_episodes)
    start = rng.integers(0, span, n_episodes)
    referral_day = np.maximum(start - rng.integers(0, 60, n_episodes), 0)
    person_ids = pc.take(tables["people"]["person_id"], pa.array(person))
    program_ids = pc.take(tables["programs"]["program_id"], pa.array(program))
    tables["referrals"] = {
        "referral_id": _ids("r", n_episodes),
        "person_id": person_ids,
        "program_id": program_ids,
        "referral_date": _dates(referral_day),
        "source": pa.array(rng.choice(["self", "family", "primary_care", "hospital", "school"], n_episodes)),
        "priority": pa.array(rng.choice(["emergent", "urgent", "routine"], n_episodes, p=[0.05, 0.2, 0.75])),
    }
    length = rng.integers(7, 720, n_episodes)
    ended = start + length < span
    tables["episodes"] = {
        "episode_id": _ids("e", n_episodes),
        "person_id": person_ids,
        "program_id": program_ids,
        "referral_id": pa.array(tables["referrals"]["referral_id"], mask=rng.random(n_episodes) < 0.1),
        "start_date": _dates(start),
        "planned_end_date": _dates(start + 180),
        "end_date": pa.array(_dates(start + length), mask=~ended),
        "end_reason": pa.array(
            rng.choice(["graduated", "stepped_down", "disengaged", "moved"], n_episodes), mask=~ended
        ),
        "is_sud": rng.random(n_episodes) < 0.3,
    }
    episode = rng.integers(0, n_episodes, n_services)
    code = rng.integers(0, len(SERVICE_CODES), n_services)
    codes, minutes, categories = (np.array([c[i] for c in SERVICE_CODES]) for i in range(3))
    tables["services"] = {
        "service_id": _ids("v", n_services),
        "person_id": pc.take(person_ids, pa.array(episode)),
        "episode_id": pc.take(tables["episodes"]["episode_id"], pa.array(episode)),
        "staff_id": pc.take(tables["staff"]["staff_id"], pa.array(rng.integers(0, n_staff, n_services))),
        "service_date": _dates(start[episode] + rng.integers(0, 180, n_services)),
        "code": pa.array(codes[code]),
        "minutes": minutes[code].astype(np.int64),
        "category": pa.array(categories[code]),
    }
    episode = rng.integers(0, n_episodes, n_measurements)
    answers = rng.integers(0, 4, (1000, 9))
    pick = rng.integers(0, 1000, n_measurements)
    items = np.array(["[" + ", ".join(map(str, row)) + "]" for row in answers])
    tables["measurements"] = {
        "measurement_id": _ids("m", n_measurements),
        "person_id": pc.take(person_ids, pa.array(episode)),
        "episode_id": pc.take(tables["episodes"]["episode_id"], pa.array(episode)),
        "instrument": pa.array(np.full(n_measurements, "phq9")),
        "measured_on": _dates(start[episode] + rng.integers(0, 180, n_measurements)),
        "score": answers.sum(axis=1)[pick],
        "items": pa.array(items[pick]),
    }
    counts = {}
    for name, columns in tables.items():
        table = pa.table(columns).cast(arrow_schema(name))
        write_table(table, folder, name, "parquet")
        counts[name] = table.num_rows
    return counts


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _pandas_to_sql(folder: Path, url: str) -> None:
    """The baseline: plain `DataFrame.to_sql` appends into the same migrated schema, no checks."""
    import pyarrow.parquet as pq

    engine = create_db_engine(url)
    try:
        with engine.begin() as connection:
            for spec in EVENT_LOG:
                frame = pq.read_table(folder / f"{spec.name}.parquet").to_pandas()
                frame.to_sql(spec.name, connection, if_exists="append", index=False, chunksize=50_000)
    finally:
        engine.dispose()


@contextmanager
def _postgres_database(base: str) -> Iterator[str]:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"onward_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run_backend(label: str, folder: Path, fresh: Callable[[], Iterator[str]], total: int) -> None:
    def report(step: str, seconds: float) -> None:
        print(f"{label + ': ' + step:<52} {seconds:>8.1f} {total / seconds:>12,.0f}", flush=True)

    with contextmanager(fresh)() as url:
        upgrade_database(url)
        report("onward import (fresh database)", _timed(lambda: import_extract(folder, url, progress=False)))
        second = import_extract(folder, url, progress=False)
        assert not second.changed, "second import changed rows"
        report("onward import again (all unchanged)", second.seconds)
        out = folder.parent / f"export-{uuid.uuid4().hex[:8]}"
        report("onward export (Parquet)", _timed(lambda: export_extract(url, out, "parquet", progress=False)))
    with contextmanager(fresh)() as url:
        upgrade_database(url)
        report("baseline pandas to_sql (no checks)", _timed(lambda: _pandas_to_sql(folder, url)))


def _synth_county(folder: Path, people: int) -> dict[str, int]:
    """The extract `onward synth --people N --years 5 --seed 1` writes (the simulator's own county)."""
    from datetime import date

    from onward.sim.synth import write_synthetic_county

    return write_synthetic_county(
        folder, people=people, years=YEARS, seed=1, fmt="parquet", start=date(2021, 1, 1), progress=False
    )


DATASETS: dict[str, tuple[str, Callable[[Path, int], dict[str, int]]]] = {
    "synth": ("onward synth county", _synth_county),
    "numpy": ("NumPy stress extract (>= 2 M services)", synthesise),
}


def _bench_dataset(label: str, make: Callable[[Path, int], dict[str, int]], people: int) -> None:
    with tempfile.TemporaryDirectory(prefix="onward-bench-") as tmp:
        root = Path(tmp)
        folder = root / "extract"
        started = time.perf_counter()
        counts = make(folder, people)
        written = time.perf_counter() - started
        print(f"\n{label}: {people:,} people, {YEARS} years, written in {written:.1f} s: "
              + ", ".join(f"{n} {c:,}" for n, c in counts.items()), flush=True)  # fmt: skip
        total = sum(counts[spec.name] for spec in EVENT_LOG)

        def sqlite_db() -> Iterator[str]:
            yield f"sqlite:///{(root / f'{uuid.uuid4().hex[:8]}.sqlite').as_posix()}"

        print(f"{'step':<52} {'seconds':>8} {'rows/s':>12}", flush=True)
        _run_backend("SQLite", folder, sqlite_db, total)
        postgres = os.environ.get("ONWARD_TEST_POSTGRES_URL")
        if postgres:

            def postgres_db() -> Iterator[str]:
                with _postgres_database(postgres) as url:
                    yield url

            _run_backend("PostgreSQL", folder, postgres_db, total)


def main() -> None:
    people = int(os.environ.get("ONWARD_BENCH_PEOPLE", "100000"))
    for key in os.environ.get("ONWARD_BENCH_IMPORT_DATA", "synth,numpy").split(","):
        label, make = DATASETS[key]
        _bench_dataset(label, make, people)
