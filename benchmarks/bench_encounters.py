"""`onward import --encounters` of a one-million-row claims CSV read through a mapping file
(issue 10: under 60 s on SQLite and on PostgreSQL).

The CSV has the columns of examples/encounters/claims.csv (not Onward's names, US dates, a local code,
units): 1,000,000 claim lines of 60,000 people, 400 clinicians in 20 facilities, 120,000
admissions (two a person).
Each run starts from a fresh, migrated database: the first import creates every person, program, staff
member and episode and loads every service; "again" re-imports the same file (nothing changes).
PostgreSQL runs when ONWARD_TEST_POSTGRES_URL is set; ONWARD_BENCH_ROWS changes the size.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from onward.interop.encounters import import_encounters
from onward.store.migrate import upgrade_database

SEED = 20261203
EXAMPLE = Path(__file__).parents[1] / "examples" / "encounters"
#: (code, units drawn from 1..max) from the catalogue, plus the example's local code and one unknown code.
CODES = [
    ("90834", 1), ("90837", 1), ("BH-THER45", 1), ("H0004", 4), ("T1016", 4),
    ("99213", 1), ("90791", 1), ("H0020", 1), ("S9484", 2),
]  # fmt: skip
ROLES = ["LCSW", "MD", "CM"]


def _text(prefix: str, values: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(values), pa.string()), "")


def write_claims(path: Path, rows: int) -> None:
    rng = np.random.default_rng(SEED)
    people = max(1, rows * 6 // 100)
    staff, facilities = max(1, rows // 2500), 20
    person = rng.integers(0, people, rows)
    staff_of = rng.integers(0, staff, rows)
    facility = staff_of % facilities
    offset = rng.integers(0, 5 * 365, rows)
    day = np.datetime64("2021-01-01") + offset.astype("timedelta64[D]")
    admission = person * 2 + (offset >= 5 * 365 // 2)  # two admissions a person: before and after mid-way
    dob = np.datetime64("1940-01-01") + (person * 7919 % 25_000).astype("timedelta64[D]")
    code_index = rng.integers(0, len(CODES), rows)
    units = rng.integers(1, 5, rows)
    units = np.minimum(units, np.array([c[1] for c in CODES])[code_index])

    def us_dates(values: np.ndarray) -> pa.Array:
        return pc.strftime(pa.array(values.astype("datetime64[s]")), format="%m/%d/%Y")

    table = pa.table(
        {
            "Claim Line ID": _text("CL-", np.arange(rows)),
            "Member ID": _text("M-", person),
            "DOB": us_dates(dob),
            "Gender": pa.array(np.array(["F", "M", "U"])[person % 3]),
            "ZIP": _text("98", 100 + person % 800),
            "Date of Service": us_dates(day),
            "Proc Code": pa.array(np.array([c[0] for c in CODES])[code_index]),
            "Units": pa.array(units),
            "Rendering Provider": _text("NPI-", staff_of),
            "Provider Type": pa.array(np.array(ROLES)[staff_of % 3]),
            "Facility": _text("FAC-", facility),
            "Facility Name": _text("Facility ", facility),
            "Admission No": _text("ADM-", admission),
        }
    )
    pa_csv.write_csv(table, path)


@contextmanager
def _postgres() -> Iterator[str | None]:
    base = os.environ.get("ONWARD_TEST_POSTGRES_URL")
    if not base:
        yield None
        return
    name = f"onward_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _time(csv: Path, url: str) -> tuple[float, float, dict[str, int]]:
    upgrade_database(url)
    started = time.perf_counter()
    first = import_encounters(csv, EXAMPLE / "mapping.toml", url, progress=False)
    fresh = time.perf_counter() - started
    started = time.perf_counter()
    again = import_encounters(csv, EXAMPLE / "mapping.toml", url, progress=False)
    repeat = time.perf_counter() - started
    assert not again.changed
    return fresh, repeat, {n: c.inserted for n, c in first.tables.items()}


def main() -> None:
    rows = int(os.environ.get("ONWARD_BENCH_ROWS", "1000000"))
    work = Path(tempfile.mkdtemp(prefix="onward-bench-enc-"))
    try:
        csv = work / "claims.csv"
        started = time.perf_counter()
        write_claims(csv, rows)
        print(
            f"wrote {rows:,} claim lines ({csv.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        fresh, repeat, counts = _time(csv, f"sqlite:///{work / 'bench.sqlite'}")
        print(f"inserted: {counts}")
        print(f"SQLite      fresh import {fresh:6.1f} s   again (unchanged) {repeat:6.1f} s   target < 60")
        with _postgres() as url:
            if url is None:
                print("PostgreSQL  skipped (ONWARD_TEST_POSTGRES_URL not set)")
            else:
                fresh, repeat, _ = _time(csv, url)
                print(
                    f"PostgreSQL  fresh import {fresh:6.1f} s   "
                    f"again (unchanged) {repeat:6.1f} s   target < 60 s"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
