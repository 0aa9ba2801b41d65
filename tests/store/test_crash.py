"""An import killed with SIGKILL at a random moment leaves a sound database holding all or none of it.

Each run picks (from a seeded generator) one of two extracts, sometimes empties the database first (so the
empty-table path, which drops and rebuilds indexes and foreign keys, is killed too), starts the import in
a forked child and kills it after a random delay spread over the import's whole duration. Afterwards the
database must pass its integrity check, hold exactly the rows before the import or exactly the rows after
it (with the import's record only in the second case), and the same import must then complete.

ONWARD_CRASH_RUNS (default 20) and ONWARD_CRASH_SEED (default 20261126) change the runs; a failure names
the seed and the run.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import time
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from onward.interop.extracts import import_extract
from onward.model.eventlog import EVENT_LOG
from onward.sim.synth import write_synthetic_county
from onward.store.engine import create_db_engine
from onward.store.migrate import upgrade_database

RUNS = int(os.environ.get("ONWARD_CRASH_RUNS", "20"))
SEED = int(os.environ.get("ONWARD_CRASH_SEED", "20261126"))
FRESH_SHARE = 0.3
"""Share of runs that empty the database first, so that the fresh-table path is killed too."""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two small synthetic counties over the same ids: importing one over the other updates most rows."""
    root = tmp_path_factory.mktemp("crash-extracts")
    for seed in (1, 2):
        write_synthetic_county(
            root / f"seed{seed}", people=500, years=1, seed=seed, fmt="parquet",
            start=date(2024, 1, 1), progress=False,
        )  # fmt: skip
    return root / "seed1", root / "seed2"


@dataclass(frozen=True)
class State:
    """What a database holds: a digest of every event-log row, and the content hashes of its imports."""

    rows: str
    imports: tuple[str, ...]


def _state(connection: Connection) -> State:
    digest = hashlib.sha256()
    for spec in EVENT_LOG:
        for row in connection.execute(text(f"SELECT * FROM {spec.name} ORDER BY {spec.key}")):
            digest.update(repr(tuple(row)).encode())
        digest.update(b"|")
    imports = connection.execute(text("SELECT content_hash FROM imports ORDER BY import_id")).scalars()
    return State(digest.hexdigest(), tuple(imports))


def _structure(connection: Connection) -> set[tuple[str, ...]]:
    """Every index and foreign key: an import that dropped them to load faster must have put them back."""
    if connection.dialect.name == "sqlite":
        rows = connection.execute(text("SELECT type, name, tbl_name FROM sqlite_master WHERE type = 'index'"))
        found = {tuple(row) for row in rows}
        for spec in EVENT_LOG:
            keys = connection.exec_driver_sql(f"PRAGMA foreign_key_list({spec.name})")
            found |= {("fk", spec.name, row[2], row[3]) for row in keys}
        return found
    indexes = connection.execute(
        text(
            "SELECT 'index', c.relname, i.indisvalid::text FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public'"
        )
    )
    keys = connection.execute(
        text(
            "SELECT 'fk', conname, convalidated::text FROM pg_constraint "
            "WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
        )
    )
    return {tuple(row) for row in [*indexes, *keys]}


def _integrity_problems(connection: Connection) -> list[str]:
    """SQLite's own integrity and foreign-key checks; on PostgreSQL amcheck over every B-tree index
    (heapallindexed: each table row is found in each of its indexes)."""
    if connection.dialect.name == "sqlite":
        problems = [str(r[0]) for r in connection.exec_driver_sql("PRAGMA integrity_check")]
        problems = [] if problems == ["ok"] else problems
        return problems + [repr(tuple(r)) for r in connection.exec_driver_sql("PRAGMA foreign_key_check")]
    indexes = connection.execute(
        text(
            "SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' "
            "AND c.relnamespace = 'public'::regnamespace"
        )
    ).scalars()
    for oid in list(indexes):
        connection.execute(text("SELECT bt_index_check(:oid, true)"), {"oid": oid})  # raises on corruption
    return []


def _empty(connection: Connection) -> None:
    for spec in reversed(EVENT_LOG):
        connection.execute(text(f"DELETE FROM {spec.name}"))
    connection.execute(text("DELETE FROM imports"))


def _wait_until_alone(url: str) -> None:
    """PostgreSQL: wait until the killed client's server process has noticed and rolled back."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            deadline = time.monotonic() + 60
            while connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one():
                assert time.monotonic() < deadline, "the killed import's server process never ended"
                time.sleep(0.02)
                connection.rollback()
    finally:
        engine.dispose()


def _import_in_child(folder: Path, url: str) -> multiprocessing.process.BaseProcess:
    """Run the import in a forked child, which starts at once with everything already imported.

    The parent holds no open database connection when it forks (every engine here is disposed after use).
    """
    context = multiprocessing.get_context("fork")
    child = context.Process(target=import_extract, args=(folder, url), kwargs={"progress": False})
    with warnings.catch_warnings():  # Python >= 3.12 warns about forking a threaded process
        warnings.simplefilter("ignore", DeprecationWarning)
        child.start()
    return child


def _timed_child(folder: Path, url: str) -> float:
    started = time.perf_counter()
    child = _import_in_child(folder, url)
    child.join(120)
    assert child.exitcode == 0, f"an import without a kill failed ({child.exitcode})"
    return time.perf_counter() - started


def _crash_runs(url: str, extracts: tuple[Path, Path]) -> dict[str, int]:
    upgrade_database(url)
    engine = create_db_engine(url)
    postgres = engine.dialect.name == "postgresql"
    try:
        with engine.begin() as connection:
            if postgres:
                connection.execute(text("CREATE EXTENSION IF NOT EXISTS amcheck"))
            structure = _structure(connection)

        # Load every module the import needs before the children fork, then time a child's import of
        # each extract, so that the kills spread over a whole import.
        for folder in extracts:
            import_extract(folder, url, progress=False)
        duration = max(_timed_child(folder, url) for folder in extracts)

        rng = random.Random(SEED)
        outcomes = {"none": 0, "all": 0, "fresh": 0}
        with engine.connect() as connection:
            after = _state(connection)
        for run in range(RUNS):
            where = f"run {run} of seed {SEED} on {engine.dialect.name}"
            folder = rng.choice(extracts)
            fresh = rng.random() < FRESH_SHARE
            delay = rng.uniform(0.0, duration * 1.1)  # some kills land after the commit, most before
            before = after
            if fresh:
                with engine.begin() as connection:
                    _empty(connection)
                    before = _state(connection)
            engine.dispose()

            child = _import_in_child(folder, url)
            time.sleep(delay)
            child.kill()  # SIGKILL
            child.join(30)
            if postgres:
                _wait_until_alone(url)

            with engine.connect() as connection:
                assert _integrity_problems(connection) == [], where
                assert _structure(connection) == structure, where
                killed = _state(connection)
            engine.dispose()
            result = import_extract(folder, url, progress=False)  # the next import completes
            # Follow the machine's load: the next kills spread over an import as long as this one.
            duration = result.seconds
            with engine.connect() as connection:
                after = _state(connection)
            engine.dispose()

            assert after.imports == (*killed.imports, result.content_hash), where
            committed = killed.imports == (*before.imports, result.content_hash)
            if committed:  # all of it: the import's rows together with its record
                assert killed.rows == after.rows, where
            else:  # none of it
                assert killed == before, f"{where}: the killed import left part of its rows"
                assert child.exitcode != 0, where
            outcomes["all" if committed else "none"] += 1
            outcomes["fresh"] += fresh
    finally:
        engine.dispose()
    return outcomes


def test_sqlite_import_killed_at_random_moments(sqlite_url: str, extracts: tuple[Path, Path]) -> None:
    outcomes = _crash_runs(sqlite_url, extracts)
    assert outcomes["none"] >= RUNS // 4, outcomes  # the kills did land inside imports


@pytest.mark.postgres
def test_postgres_import_killed_at_random_moments(postgres_url: str, extracts: tuple[Path, Path]) -> None:
    outcomes = _crash_runs(postgres_url, extracts)
    assert outcomes["none"] >= RUNS // 4, outcomes
