"""Monte Carlo benchmarks: 16 replications of 200,000 people on a 2-worker local Dask cluster vs one worker,
and the local process pool vs one process (same seeds, so the same numbers, checked).

Run: .venv/bin/python -m benchmarks simulate   (BENCH_SIM_QUICK=1 for a small smoke run)
Each configuration runs 3 times and the best wall time counts (the machine is shared).

The event-log figure (100,000 people over 5 years, < 30 s) and the SimPy baseline are measured once, by
bench_sim.py; this file does not measure them again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

QUICK = os.environ.get("BENCH_SIM_QUICK") == "1"
PEOPLE = 20_000 if QUICK else 200_000
RUNS = 4 if QUICK else 16
YEARS = 10.0
TARGET_SPEEDUP = 1.6


REPEATS = 1 if QUICK else 3  # best of N: the development machine is shared, so single timings are noisy


def _timed(label: str, work: Callable[[], object]) -> tuple[float, object]:
    """Best wall time of REPEATS runs of `work` (and its last result)."""
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    print(f"  {label}: best {min(times):.2f} s of {', '.join(f'{t:.2f}' for t in times)}", flush=True)
    return min(times), result


def _runs_array(result: object) -> np.ndarray:
    return np.concatenate([sc.runs for sc in result.scenarios.values()])  # type: ignore[attr-defined]


def main() -> None:
    import psutil
    from distributed import Client

    from onward.sim.montecarlo import local_dask_cluster, run_scenarios
    from onward.sim.scenario import load_scenario

    scenarios = [load_scenario("status-quo")]
    args = {"people": PEOPLE, "years": YEARS, "runs": RUNS, "seed": 1}
    print(
        f"Monte Carlo: {RUNS} replications x {PEOPLE:,} people x {YEARS:g} years (+5 burn-in), monthly",
        flush=True,
    )

    timings: dict[str, float] = {}
    results: dict[str, object] = {}
    for workers in (1, 2):
        # Cluster start-up is outside the timing: a real cluster is up before work is sent to it.
        with (
            local_dask_cluster(workers) as cluster,
            Client(cluster) as client,
        ):
            address = cluster.scheduler_address
            run_scenarios(scenarios, engine="dask", scheduler=address, **{**args, "runs": workers})  # warm-up
            procs = [psutil.Process(pid) for pid in client.run(os.getpid).values()]
            before = sum(sum(p.cpu_times()[:2]) for p in procs)
            timings[f"dask-{workers}"], results[f"dask-{workers}"] = _timed(
                f"Dask LocalCluster, {workers} worker{'s' if workers > 1 else ''}",
                lambda address=address: run_scenarios(scenarios, engine="dask", scheduler=address, **args),
            )
            cpu = (sum(sum(p.cpu_times()[:2]) for p in procs) - before) / REPEATS
            print(f"    worker CPU per repeat {cpu:.1f} s", flush=True)
    for workers in (1, 2):
        timings[f"local-{workers}"], results[f"local-{workers}"] = _timed(
            f"local engine, {workers} process{'es' if workers > 1 else ''}",
            lambda workers=workers: run_scenarios(scenarios, engine="local", workers=workers, **args),
        )
    reference = _runs_array(results["local-1"])
    same = all(np.array_equal(_runs_array(r), reference, equal_nan=True) for r in results.values())
    dask_speedup = timings["dask-1"] / timings["dask-2"]
    local_speedup = timings["local-1"] / timings["local-2"]
    person_months = RUNS * PEOPLE * (YEARS + 5) * 12
    print(
        f"  Dask 2 workers vs 1: {dask_speedup:.2f}x (target >= {TARGET_SPEEDUP}x); "
        f"local 2 processes vs 1: {local_speedup:.2f}x"
    )
    print(
        f"  throughput on 2 Dask workers: {person_months / timings['dask-2'] / 1e6:.1f} M person-months/s "
        f"(incl. burn-in); identical numbers on every engine: {'yes' if same else 'NO'}"
    )


if __name__ == "__main__":
    main()
