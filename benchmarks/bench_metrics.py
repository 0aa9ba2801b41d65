"""Metrics benchmark: the whole suite by program and month on DuckDB, against pandas and hand-written SQL.

`python -m benchmarks metrics` generates (once, cached under benchmarks/output/) a synthetic extract with
1,000,000 people and over 10,000,000 service rows, then times each contender in its own child process
(wall time and peak RSS) and prints the three ratios of issue 3. Synthetic data only.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks._memory import peak_rss_mb
from onward.interop.files import write_table

OUTPUT = Path(__file__).parent / "output"
GENERATOR_VERSION = "1"
FIRST_DAY = date(2020, 1, 1)
YEARS = 5

#: (code, category, minutes) drawn for services; codes and categories as in docs/references.md
#: "Service codes by category" (US Medicaid HCPCS/CPT). The weights here, and the shares and rates below,
#: are illustrative volumes for a load test, not clinical defaults: the simulator's sourced parameters live in
#: onward/sim; this generator only has to be fast and to respect the data contract.
SERVICE_CODES: tuple[tuple[str, str, int, float], ...] = (
    ("90834", "treatment", 45, 0.20),
    ("90837", "treatment", 60, 0.10),
    ("90853", "treatment", 60, 0.06),
    ("H0004", "treatment", 30, 0.06),
    ("99213", "medication", 20, 0.10),
    ("H0020", "medication", 15, 0.05),
    ("T1017", "case_management", 30, 0.18),
    ("T1016", "case_management", 45, 0.07),
    ("90791", "assessment", 60, 0.06),
    ("H0038", "peer_support", 30, 0.06),
    ("H2014", "skills", 45, 0.03),
    ("H2011", "crisis", 60, 0.03),
)
PROGRAM_KINDS = (
    ("outpatient", 1),
    ("intensive_outpatient", 2),
    ("act_team", 3),
    ("case_management", 1),
    ("medication_for_oud", 2),
    ("residential", 4),
    ("inpatient", 5),
    ("crisis", 4),
    ("school", 1),
    ("perinatal", 1),
)
END_REASONS = (
    "graduated",
    "stepped_down",
    "stepped_up",
    "transferred",
    "disengaged",
    "moved",
    "died",
    "other",
)
END_REASON_WEIGHTS = (0.35, 0.12, 0.05, 0.06, 0.30, 0.06, 0.01, 0.05)


def _ids(prefix: str, index: np.ndarray[Any, Any]) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(index), pa.string()), "")


def _dates(days: np.ndarray[Any, Any], mask: np.ndarray[Any, Any] | None = None) -> pa.Array:
    """Day offsets from FIRST_DAY as an Arrow date32 array; `mask` marks nulls."""
    epoch = (FIRST_DAY - date(1970, 1, 1)).days
    values = (days + epoch).astype(np.int32)
    return pa.array(values, type=pa.int32(), mask=mask).cast(pa.date32())


def generate_extract(out: Path, *, people: int, services_target: int, seed: int = 20261125) -> dict[str, int]:
    """Write a contract-conforming extract (Parquet) with numpy, fast: ~1 minute for 1M people / 10M services.

    Episodes get a referral (85 %), a planned end (70 %), an end unless still open at the data end, and
    services and PHQ-9/GAD-7 measurements spread over their observed days. Returns the row counts.
    """
    rng = np.random.default_rng(seed)
    horizon = (date(FIRST_DAY.year + YEARS, 1, 1) - FIRST_DAY).days  # days 0..horizon-1
    counts: dict[str, int] = {}

    n_programs = 30
    kinds = [PROGRAM_KINDS[i % len(PROGRAM_KINDS)] for i in range(n_programs)]
    programs = pa.table(
        {
            "program_id": _ids("p", np.arange(n_programs)),
            "name": pa.array([f"{k.replace('_', ' ').title()} {i}" for i, (k, _) in enumerate(kinds)]),
            "kind": pa.array([k for k, _ in kinds]),
            "level_of_care": pa.array([lvl for _, lvl in kinds], type=pa.int64()),
            "capacity_slots": pa.array(rng.integers(50, 2000, n_programs)),
        }
    )
    inpatient = np.array([k == "inpatient" for k, _ in kinds])
    oud = np.array([k == "medication_for_oud" for k, _ in kinds])

    n_staff = 3000
    staff_program = rng.integers(0, n_programs, n_staff)
    roles = np.array(["clinician", "prescriber", "case_manager", "peer_specialist"])
    staff = pa.table(
        {
            "staff_id": _ids("st", np.arange(n_staff)),
            "role": pa.array(roles[rng.integers(0, len(roles), n_staff)]),
            "program_id": _ids("p", staff_program),
            "hours_per_week": pa.array(rng.integers(16, 41, n_staff)),
        }
    )

    sexes = np.array(["female", "male", "other", "unknown"])
    people_table = pa.table(
        {
            "person_id": _ids("u", np.arange(people)),
            "birth_year": pa.array(rng.integers(1935, 2018, people)),
            "sex": pa.array(sexes[rng.choice(4, people, p=[0.52, 0.46, 0.01, 0.01])]),
            "postcode_prefix": _ids("Z", rng.integers(100, 999, people)),
            "school_grade": pa.nulls(people, pa.int64()),
            "pregnancy_due_date": pa.nulls(people, pa.date32()),
        }
    )

    n_episodes = int(people * 0.9)
    person = rng.integers(0, people, n_episodes)
    program = rng.integers(0, n_programs, n_episodes)
    start = rng.integers(0, horizon, n_episodes)
    length = np.minimum(rng.exponential(200.0, n_episodes).astype(np.int64) + 1, 3000)
    inpatient_ep = inpatient[program]
    length[inpatient_ep] = np.maximum(length[inpatient_ep] // 20, 1)
    end = start + length
    is_open = end >= horizon
    observed_end = np.where(is_open, horizon - 1, end)
    planned = start + rng.integers(90, 400, n_episodes)
    planned_null = rng.random(n_episodes) < 0.3
    reason = rng.choice(len(END_REASONS), n_episodes, p=END_REASON_WEIGHTS)
    has_referral = rng.random(n_episodes) < 0.85
    referral_index = np.cumsum(has_referral) - 1
    n_referrals = int(has_referral.sum())
    referral_date = start[has_referral] - rng.geometric(1 / 18.0, n_referrals) + 1
    referral_date = np.maximum(referral_date, 0)
    sources = np.array(["self", "family", "primary_care", "hospital", "crisis_line", "school", "other"])
    priorities = np.array(["emergent", "urgent", "routine"])
    referrals = pa.table(
        {
            "referral_id": _ids("r", np.arange(n_referrals)),
            "person_id": _ids("u", person[has_referral]),
            "program_id": _ids("p", program[has_referral]),
            "referral_date": _dates(referral_date),
            "source": pa.array(sources[rng.integers(0, len(sources), n_referrals)]),
            "priority": pa.array(priorities[rng.choice(3, n_referrals, p=[0.05, 0.2, 0.75])]),
        }
    )
    episodes = pa.table(
        {
            "episode_id": _ids("e", np.arange(n_episodes)),
            "person_id": _ids("u", person),
            "program_id": _ids("p", program),
            "referral_id": pa.array(
                _ids("r", np.maximum(referral_index, 0)).to_numpy(zero_copy_only=False),
                mask=~has_referral,
            ),
            "start_date": _dates(start),
            "planned_end_date": _dates(planned, planned_null),
            "end_date": _dates(end, is_open),
            "end_reason": pa.array(np.array(END_REASONS)[reason], mask=is_open),
            "is_sud": pa.array(oud[program] | (rng.random(n_episodes) < 0.2)),
        }
    )

    observed = observed_end - start + 1
    rate = services_target * 0.96 / observed.sum()
    per_episode = rng.poisson(rate * observed)
    service_episode = np.repeat(np.arange(n_episodes), per_episode)
    n_linked = len(service_episode)
    n_loose = max(services_target - n_linked, services_target // 25)
    service_date = start[service_episode] + (rng.random(n_linked) * observed[service_episode]).astype(
        np.int64
    )
    service_date = np.concatenate([service_date, rng.integers(0, horizon, n_loose)])
    service_person = np.concatenate([person[service_episode], rng.integers(0, people, n_loose)])
    n_services = n_linked + n_loose
    weights = np.array([w for *_, w in SERVICE_CODES])
    code = rng.choice(len(SERVICE_CODES), n_services, p=weights / weights.sum())
    minutes = np.array([m for _, _, m, _ in SERVICE_CODES])[code] * rng.integers(1, 3, n_services)
    services = pa.table(
        {
            "service_id": _ids("s", np.arange(n_services)),
            "person_id": _ids("u", service_person),
            "episode_id": pa.array(
                _ids("e", np.concatenate([service_episode, np.zeros(n_loose, dtype=np.int64)])).to_numpy(
                    zero_copy_only=False
                ),
                mask=np.arange(n_services) >= n_linked,
            ),
            "staff_id": _ids("st", rng.integers(0, n_staff, n_services)),
            "service_date": _dates(service_date),
            "code": pa.array(np.array([c for c, *_ in SERVICE_CODES])[code]),
            "minutes": pa.array(minutes.astype(np.int64)),
            "category": pa.array(np.array([c for _, c, *_ in SERVICE_CODES])[code]),
        }
    )
    del service_episode, service_date, service_person, code, minutes

    per_episode_m = rng.poisson(np.minimum(observed, 720) / 45.0)
    m_episode = np.repeat(np.arange(n_episodes), per_episode_m)
    n_measurements = len(m_episode)
    offset = (rng.random(n_measurements) * observed[m_episode]).astype(np.int64)
    is_phq = rng.random(n_measurements) < 0.6
    base = rng.integers(3, 25, n_episodes)[m_episode]
    slope = rng.normal(-0.02, 0.03, n_episodes)[m_episode]
    score = np.rint(base + slope * offset + rng.normal(0, 2.0, n_measurements)).astype(np.int64)
    score = np.clip(score, 0, np.where(is_phq, 27, 21))
    measurements = pa.table(
        {
            "measurement_id": _ids("m", np.arange(n_measurements)),
            "person_id": _ids("u", person[m_episode]),
            "episode_id": _ids("e", m_episode),
            "instrument": pa.array(np.where(is_phq, "phq9", "gad7")),
            "measured_on": _dates(start[m_episode] + offset),
            "score": pa.array(score),
            "items": pa.nulls(n_measurements, pa.string()),
        }
    )
    for name, table in (
        ("people", people_table),
        ("programs", programs),
        ("staff", staff),
        ("referrals", referrals),
        ("episodes", episodes),
        ("services", services),
        ("measurements", measurements),
    ):
        write_table(table, out, name, "parquet")
        counts[name] = table.num_rows
    return counts


def cached_extract(people: int, services_target: int) -> Path:
    """The extract for this size, generated on first use and kept under benchmarks/output/."""
    folder = OUTPUT / f"extract-{people}-{services_target}-v{GENERATOR_VERSION}"
    marker = folder / "rows.json"
    if not marker.exists():
        started = time.perf_counter()
        counts = generate_extract(folder, people=people, services_target=services_target)
        marker.write_text(json.dumps(counts))
        print(f"generated {folder.name} in {time.perf_counter() - started:.1f} s: {counts}", flush=True)
    return folder


# --- timed tasks, each run in a fresh child process -------------------------------------------------------

PERIOD_BY = ("program", "month")


def _task_onward(folder: str) -> dict[str, Any]:
    """The whole suite by program and month on DuckDB, with when each aggregate query started."""
    from onward.metrics.backends import open_event_log
    from onward.metrics.period import Period
    from onward.metrics.suite import compute_metrics

    started = time.perf_counter()
    marks: list[tuple[str, float]] = []
    log = open_event_log(data=Path(folder))
    result = compute_metrics(
        log,
        period=Period(),
        by=PERIOD_BY,
        progress=lambda name, done, total: marks.append((name, time.perf_counter() - started)),
    )
    seconds = time.perf_counter() - started
    marks = [("finish in Python" if name == "done" else name, at) for name, at in marks]
    steps = [*marks, ("end", seconds)]
    profile = {name: round(steps[i + 1][1] - at, 2) for i, (name, at) in enumerate(steps[:-1])}
    return {
        "seconds": seconds,
        "groups": len(result.groups),
        "profile": {"open": round(marks[0][1], 2), **profile},
    }


def _task_pandas(folder: str) -> dict[str, Any]:
    from benchmarks import metrics_pandas

    started = time.perf_counter()
    groups = metrics_pandas.compute(Path(folder))
    return {"seconds": time.perf_counter() - started, "groups": len(groups)}


def _task_sql(folder: str) -> dict[str, Any]:
    """Hand-written SQL for the three metrics (data_end included, as the Ibis path computes it too).
    Library imports (DuckDB) happen before the clock starts and are reported as `imports`."""
    imported = time.perf_counter()
    from benchmarks import metrics_sql

    started = time.perf_counter()
    con = metrics_sql.connect(Path(folder))
    end = metrics_sql.data_end(con)
    rows = metrics_sql.compute(Path(folder), start=FIRST_DAY, end=end, data_end=end, con=con)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "imports": started - imported, "rows": sum(len(r) for r in rows.values())}


def _task_ibis(folder: str) -> dict[str, Any]:
    """Onward's own Ibis path for the same three metrics (`compute_metrics(metrics=...)` runs only the
    queries they need), grouped by program and month. As for the SQL, library imports happen before the
    clock starts (ibis loads its DuckDB backend lazily, so it is imported here explicitly: 0.09 s) and are
    reported as `imports`."""
    imported = time.perf_counter()
    import ibis.backends.duckdb  # noqa: F401

    from onward.metrics.backends import open_event_log
    from onward.metrics.period import Period
    from onward.metrics.suite import compute_metrics

    keys = ("treatment_share", "graduation_rate", "days_to_first_treatment_median")
    started = time.perf_counter()
    result = compute_metrics(open_event_log(data=Path(folder)), period=Period(), by=PERIOD_BY, metrics=keys)
    values = sum(g.figures[k].value is not None for g in result.groups for k in keys)
    return {"seconds": time.perf_counter() - started, "imports": started - imported, "values": values}


def _task_live(argument: str) -> dict[str, Any]:
    """The live-database path, `URL::ENGINE::GROUPING`: the suite over the SQLite store as Onward opens it
    (ENGINE default, which may copy it into DuckDB) or on SQLite's own engine; first (cold) call, then a
    second call, which Onward may answer from its per-data-version cache. `imports` is the time to import
    Onward's metrics package in this fresh process (interpreter start not included)."""
    imported = time.perf_counter()
    from onward.metrics.backends import open_event_log
    from onward.metrics.period import Period
    from onward.metrics.suite import compute_metrics

    url, engine, grouping = argument.split("::")
    by = PERIOD_BY if grouping == "by_program_month" else ()
    out: dict[str, Any] = {"imports": time.perf_counter() - imported}
    for attempt in ("cold", "again"):
        started = time.perf_counter()
        log = open_event_log(db=url, backend=None if engine == "default" else engine)
        compute_metrics(log, period=Period(), by=by)
        out[attempt] = time.perf_counter() - started
    out["seconds"] = out["cold"]
    return out


TASKS: dict[str, Callable[[str], dict[str, Any]]] = {
    "onward": _task_onward,
    "pandas": _task_pandas,
    "sql": _task_sql,
    "ibis": _task_ibis,
    "live": _task_live,
}


def _run_child(task: str, argument: str) -> dict[str, Any]:
    """Run one task in a fresh interpreter; its peak RSS is its own."""
    root = Path(__file__).resolve().parent.parent
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_metrics", task, argument],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if completed.returncode != 0:
        raise SystemExit(f"benchmark task {task} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _best(task: str, argument: str, repeats: int) -> dict[str, Any]:
    runs = [_run_child(task, argument) for _ in range(repeats)]
    best = min(runs, key=lambda r: r["seconds"])
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best


def live_county_database(people: int = 20_000) -> str:
    """A SQLite store holding a 20,000-person county (3 years of services), built once with onward import."""
    folder = cached_extract(people, people * 12)
    database = OUTPUT / f"live-{people}.sqlite"
    url = f"sqlite:///{database.as_posix()}"
    if not database.exists():
        onward = [sys.executable, "-m", "onward"]
        subprocess.run([*onward, "init", "--db", url], check=True, capture_output=True)
        subprocess.run(
            [*onward, "import", str(folder), "--db", url, "--no-progress"], check=True, capture_output=True
        )
    return url


def main() -> None:
    from rich.console import Console
    from rich.progress import Progress

    console = Console()
    with Progress(console=console, transient=True) as progress:
        step = progress.add_task("metrics benchmark", total=7)
        folder = str(cached_extract(1_000_000, 10_500_000))
        progress.advance(step)
        rows = json.loads((Path(folder) / "rows.json").read_text())
        onward = _best("onward", folder, 2)
        progress.advance(step)
        ibis = _best("ibis", folder, 3)
        progress.advance(step)
        sql = _best("sql", folder, 3)
        progress.advance(step)
        pandas = _best("pandas", folder, 1)
        progress.advance(step)
        url = live_county_database()
        progress.advance(step)
        live = {
            f"{engine}_{grouping}": _best("live", f"{url}::{engine}::{grouping}", 3)
            for engine in ("default", "sqlite")
            for grouping in ("overall", "by_program_month")
        }
        progress.advance(step)

    speedup = pandas["seconds"] / onward["seconds"]
    overhead = ibis["seconds"] / sql["seconds"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"extract: {rows['people']:,} people, {rows['episodes']:,} episodes, {rows['services']:,} services, "
        f"{rows['measurements']:,} measurements"
    )
    print(
        f"Onward suite by program x month on DuckDB: {onward['seconds']:.1f} s, peak RSS "
        f"{onward['peak_rss_mb'] / 1024:.2f} GiB, {onward['groups']} groups (target <= 10 s, <= 4 GB)"
    )
    print(
        f"pandas baseline, same suite:                {pandas['seconds']:.1f} s, peak RSS "
        f"{pandas['peak_rss_mb'] / 1024:.2f} GiB"
    )
    print(
        f"3 metrics, Onward Ibis tallies:             {ibis['seconds']:.2f} s "
        f"(+ {ibis['imports']:.2f} s imports)"
    )
    print(
        f"3 metrics, hand-written DuckDB SQL:         {sql['seconds']:.2f} s "
        f"(+ {sql['imports']:.2f} s imports)"
    )
    print("live SQLite store, 20,000 people, full suite (target <= 2 s), first call / second call:")
    for name, run in live.items():
        print(
            f"  {name:28s} {run['cold']:.2f} s / {run['again']:.2f} s (+ {run['imports']:.2f} s imports), "
            f"CPU {run['cpu_seconds']:.2f} s, peak RSS {run['peak_rss_mb']:.0f} MB"
        )
    print(f"(wall times: best of the repeats; load average at the end {load} on {os.cpu_count()} cores)")
    print(
        f"CPU seconds: Onward {onward['cpu_seconds']:.1f}, pandas {pandas['cpu_seconds']:.1f}, "
        f"Ibis 3 metrics {ibis['cpu_seconds']:.2f}, SQL 3 metrics {sql['cpu_seconds']:.2f}"
    )
    print("ratios:")
    print(f"  suite wall time / 10 s target:  {onward['seconds'] / 10:.2f}x")
    print(f"  Onward speed-up over pandas:    {speedup:.1f}x (target >= 5x)")
    print(f"  Ibis overhead over SQL:         {overhead:.2f}x (target <= 1.3x)")
    with_imports = (ibis["seconds"] + ibis["imports"]) / (sql["seconds"] + sql["imports"])
    print(f"  the same, imports included:     {with_imports:.2f}x")
    print(f"  the same, CPU seconds:          {ibis['cpu_seconds'] / sql['cpu_seconds']:.2f}x")
    print("Onward suite profile (seconds per aggregate query, in order):")
    print("  " + ", ".join(f"{k} {v}" for k, v in onward["profile"].items()))
    summary = {
        "load_average": os.getloadavg(),
        "rows": rows,
        "onward": onward,
        "pandas": pandas,
        "ibis": ibis,
        "sql": sql,
        "live": live,
    }
    (OUTPUT / "metrics-latest.json").write_text(json.dumps(summary, indent=2))


def _cpu_seconds() -> float:
    """CPU time of this process and its threads: a fairer yardstick than wall time on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in TASKS:
        cpu_before = _cpu_seconds()
        answer = TASKS[sys.argv[1]](sys.argv[2])
        answer["cpu_seconds"] = _cpu_seconds() - cpu_before
        answer["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(answer))
    else:
        main()
