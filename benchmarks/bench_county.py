"""The demo county at scale (issue 9, item 6): `onward synth` of 1,000,000 people × 5 years, `onward
import` and `onward metrics` on it, and the engine's speed against the engine before issue 9.

Baselines, run in the same command:
- engine: the engine as it was before issue 9 (closed population, one shared Generator), taken from the
  repository's history (commit BASELINE_COMMIT) into a temporary folder; both run 1,000,000 people ×
  10 years, summary only, in fresh processes pinned to one core, alternating, best of three CPU times;
- synth: the extract's own tables read back and written again with plain `pyarrow.parquet` (the I/O
  floor of writing that many rows);
- import: the checked import's time per row against `bench_import.py`'s baseline (pandas `to_sql`) is
  not rerun at this size (it would take over ten minutes); the import is timed alone.

Run: .venv/bin/python -m benchmarks county   (BENCH_COUNTY_QUICK=1: 100,000 people, no import;
BENCH_COUNTY_ENGINE_ONLY=1: the engine rows alone)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUICK = os.environ.get("BENCH_COUNTY_QUICK") == "1"
ENGINE_ONLY = os.environ.get("BENCH_COUNTY_ENGINE_ONLY") == "1"
PEOPLE = 100_000 if QUICK else 1_000_000
YEARS = 5
ENGINE_PEOPLE = 200_000 if QUICK else 1_000_000
ENGINE_YEARS = 10
BASELINE_COMMIT = "47bcce8"  # main before issue 9's engine (2026-12-03)
ROOT = Path(__file__).resolve().parent.parent

_ENGINE_CHILD = """
import json, os, sys, time
os.sched_setaffinity(0, {0})
from onward.sim.engine import run
from onward.sim.scenario import load_scenario
people, years = int(sys.argv[1]), float(sys.argv[2])
c, t = time.process_time(), time.perf_counter()
result = run(load_scenario("status-quo"), people=people, years=years, seed=1)
print(json.dumps({"cpu": time.process_time() - c, "wall": time.perf_counter() - t}))
"""

_TIMED_CHILD = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
                  "code": done.returncode, "err": done.stderr[-2000:]}))
"""


def _engine(src: Path, people: int, years: float) -> float:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _ENGINE_CHILD, str(people), str(years)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    )
    cpu: float = json.loads(out.stdout.strip().splitlines()[-1])["cpu"]
    return cpu


def _baseline_source(tmp: Path) -> Path | None:
    """The engine before issue 9, from git history (None outside a git checkout)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", BASELINE_COMMIT, "src"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        return None
    tmp.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive.stdout, check=True)
    return tmp / "src"


def _timed(args: list[str]) -> dict[str, float]:
    """Run a command in a fresh process; wall, CPU (user + system) and peak RSS of that process alone."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", _TIMED_CHILD, *args], capture_output=True, text=True, check=True, env=env
    )
    data: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    if data["code"] != 0:
        raise SystemExit(f"{' '.join(args)} failed: {data['err']}")
    return data


def _rewrite_with_pyarrow(folder: Path, out: Path) -> float:
    import pyarrow.parquet as pq

    out.mkdir()
    t = time.perf_counter()
    for path in sorted(folder.glob("*.parquet")):
        pq.write_table(pq.read_table(path), out / path.name)
    return time.perf_counter() - t


def main() -> None:
    onward = [sys.executable, "-m", "onward"]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(f"engine: {ENGINE_PEOPLE:,} people x {ENGINE_YEARS} years, summary only, one core", flush=True)
        old_src = _baseline_source(tmp / "baseline")
        new, old = [], []
        for _ in range(3):
            new.append(_engine(ROOT / "src", ENGINE_PEOPLE, ENGINE_YEARS))
            if old_src is not None:
                old.append(_engine(old_src, ENGINE_PEOPLE, ENGINE_YEARS))
        print(f"  now: CPU {min(new):.2f} s (runs {', '.join(f'{x:.2f}' for x in new)})")
        if old:
            print(
                f"  before issue 9 ({BASELINE_COMMIT}): CPU {min(old):.2f} s "
                f"(runs {', '.join(f'{x:.2f}' for x in old)}); ratio {min(new) / min(old):.2f}"
            )
        if ENGINE_ONLY:
            return

        county = tmp / "county"
        print(f"synth: {PEOPLE:,} people x {YEARS} years, Parquet", flush=True)
        synth = _timed(
            [
                *onward,
                "synth",
                "--people",
                str(PEOPLE),
                "--years",
                str(YEARS),
                "--seed",
                "1",
                "--out",
                str(county),
            ]
        )
        manifest = json.loads((county / "onward-synth.json").read_text())
        rows = sum(manifest["rows"].values())
        print(
            f"  wall {synth['wall']:.1f} s, CPU {synth['cpu']:.1f} s, "
            f"peak RSS {synth['peak_mb'] / 1024:.2f} GB (targets < 60 s, < 8 GB); "
            f"{rows:,} rows: {manifest['rows']}"
        )
        floor = _rewrite_with_pyarrow(county, tmp / "rewrite")
        print(f"  baseline: the same tables read and written again with pyarrow: {floor:.1f} s")

        print("metrics: onward metrics --data (DuckDB over the folder)", flush=True)
        metrics = _timed([*onward, "metrics", "--data", str(county)])
        print(
            f"  wall {metrics['wall']:.1f} s, CPU {metrics['cpu']:.1f} s, "
            f"peak RSS {metrics['peak_mb'] / 1024:.2f} GB"
        )
        if QUICK:
            return
        print("import: onward init + onward import into a fresh SQLite file", flush=True)
        url = f"sqlite:///{tmp / 'county.sqlite'}"
        _timed([*onward, "init", "--db", url])
        imported = _timed([*onward, "import", str(county), "--db", url])
        print(
            f"  wall {imported['wall']:.1f} s, CPU {imported['cpu']:.1f} s, "
            f"peak RSS {imported['peak_mb'] / 1024:.2f} GB; {rows / imported['wall']:,.0f} rows a second"
        )


if __name__ == "__main__":
    main()
