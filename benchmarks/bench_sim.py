"""Simulation benchmarks: engine speed and memory at 1M people, the SimPy baseline, and `onward synth`.

Run: .venv/bin/python -m benchmarks sim   (or BENCH_SIM_QUICK=1 for a small smoke run)
"""

from __future__ import annotations

import heapq
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUICK = os.environ.get("BENCH_SIM_QUICK") == "1"
BIG_PEOPLE = 50_000 if QUICK else 1_000_000
SIMPY_PEOPLE = 2_000 if QUICK else 10_000
SYNTH_PEOPLE = 10_000 if QUICK else 100_000
YEARS = 10
_ENGINE_CHILD = """
import json, os, resource, sys, time, tracemalloc
os.sched_setaffinity(0, {0})
from onward.sim.engine import run, BURN_IN_MONTHS
from onward.sim.scenario import load_scenario
people, years, trace = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
if trace:
    tracemalloc.start()
t, c = time.perf_counter(), time.process_time()
result = run(load_scenario("status-quo"), people=people, years=years, seed=1)
seconds, cpu = time.perf_counter() - t, time.process_time() - c
peak = tracemalloc.get_traced_memory()[1] if trace else 0
from benchmarks._memory import peak_rss_mb
rss = peak_rss_mb()  # not ru_maxrss: it carries the parent's peak across exec
print(json.dumps({"seconds": seconds, "cpu": cpu, "maxrss_mb": rss,
                  "traced_peak_mb": peak / 2**20, "steps": result.n_steps + BURN_IN_MONTHS,
                  "summary": result.summary}))
"""


def _engine_in_child(people: int, years: float, *, trace: bool) -> dict[str, float]:
    """One engine run in a fresh process pinned to one core (so peak memory is the run's own)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _ENGINE_CHILD, str(people), str(years), "1" if trace else "0"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    data: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def simpy_person_months_per_second(people: int, months: int, seed: int = 1) -> tuple[float, float]:
    """The same monthly model in SimPy: one process per person, a capacity-limited priority queue,
    PHQ-9 trajectories and the monthly stuck count (skills and the optional levers left out).

    Returns person-months per second of wall time and of CPU time.
    """
    import simpy

    from onward.sim.parameters import load_parameters

    p = load_parameters()
    rnd = random.Random(seed)
    capacity = p.staff_hours_per_1000 * people / 1000 * (1 - p.case_management_share)
    hours = {
        "L1": p.hours_outpatient,
        "L2": p.hours_intensive,
        "L3": p.hours_residential,
        "RIS": p.hours_maintenance,
    }
    state = ["unwell" if rnd.random() < p.prevalence else "well" for _ in range(people)]
    in_state = [0] * people
    phq = [15.5 if s == "unwell" else 0.0 for s in state]
    base = [0.0] * people
    admitted_at = [0] * people
    stuck_series: list[int] = []
    service = {"L1", "L2", "L3", "CM", "RIS"}

    def unwell_score() -> float:
        return min(27.0, max(10.0, round(rnd.gauss(15.5, 4.0))))

    def recovered_score() -> float:
        return min(9.0, max(0.0, round(rnd.gauss(4.5, 2.0))))

    waiting: list[tuple[int, int, int]] = []  # (priority, -month referred… as order key, person)
    env = simpy.Environment()

    def person(i: int) -> simpy.events.ProcessGenerator:
        while True:
            yield env.timeout(1)
            u, s = rnd.random(), state[i]
            in_state[i] += 1
            new = s
            if s == "well":
                new = "unwell" if u < p.incidence else ("left" if u < p.incidence + p.leave else s)
                if new == "unwell":
                    phq[i] = unwell_score()
            elif s == "waiting":
                if u < p.remission_untreated:
                    new = "well"
                elif u < p.remission_untreated + p.leave:
                    new = "left"
            elif s == "unwell":
                if u < p.help_seeking:
                    new = "waiting"
                    prio = (
                        0 if rnd.random() < p.emergent_share else (1 if rnd.random() < p.urgent_share else 2)
                    )
                    heapq.heappush(waiting, (prio, int(env.now), i))
                    base[i] = phq[i]
                elif u < p.help_seeking + p.remission_untreated:
                    new = "well"
            elif s in ("L1", "L2", "L3"):
                if u < p.treatment_recovery:
                    new = "RIS"
                    phq[i] = recovered_score()
                elif u < p.treatment_recovery + p.dropout:
                    new = "unwell"
                elif s == "L1" and in_state[i] >= p.course_months and u < 0.5:
                    new = "CM"
                elif s != "L1" and in_state[i] >= p.intensive_course_months:
                    new = "L1"
                else:
                    phq[i] = min(27.0, max(0.0, phq[i] + rnd.gauss(-0.6, 1.5)))
            elif s == "CM":
                if u < p.cm_recovery:
                    new = "RIS"
                    phq[i] = recovered_score()
                elif u < p.cm_recovery + p.cm_disengage:
                    new = "unwell"
                else:
                    phq[i] = min(27.0, max(0.0, phq[i] + rnd.gauss(0.0, 1.0)))
            elif s == "RIS":
                if u < p.relapse_in_service:
                    new = "L1"
                    phq[i] = unwell_score()
                elif u < p.relapse_in_service + p.maintenance_discharge:
                    new = "graduated"
            elif s == "graduated" and u < p.relapse_after_discharge:
                new = "unwell"
                phq[i] = unwell_score()
            if new != s:
                state[i], in_state[i] = new, 0
            if s == "left":
                return

    def admissions() -> simpy.events.ProcessGenerator:
        while True:
            yield env.timeout(1.0001)  # just after everyone's monthly transition
            used = sum(hours.get(s, 0.0) for s in state)
            free = capacity - used
            held: list[tuple[int, int, int]] = []
            while waiting:
                prio, referred, i = heapq.heappop(waiting)
                if state[i] != "waiting":
                    continue
                level = ("L3", "L2", "L1")[prio]
                if hours[level] <= free or prio == 0:
                    state[i], in_state[i] = level, 0
                    admitted_at[i], base[i] = int(env.now), phq[i]
                    free -= hours[level]
                else:
                    held.append((prio, referred, i))
                    break
            for item in held:
                heapq.heappush(waiting, item)
            now = int(env.now)
            stuck_series.append(
                sum(
                    1
                    for j in range(people)
                    if state[j] in service and now - admitted_at[j] >= 12 and base[j] - phq[j] < 6
                )
            )

    for i in range(people):
        env.process(person(i))
    env.process(admissions())
    t, c = time.perf_counter(), time.process_time()
    env.run(until=months + 0.5)
    return people * months / (time.perf_counter() - t), people * months / (time.process_time() - c)


def _synth(people: int, years: float) -> dict[str, float]:
    from onward.interop.files import write_table
    from onward.model.eventlog import EVENT_LOG
    from onward.sim.engine import run
    from onward.sim.eventlog import to_event_log
    from onward.sim.scenario import load_scenario
    from onward.sim.synth import write_synthetic_county

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        counts = write_synthetic_county(
            Path(tmp) / "county", people=people, years=years, seed=1, progress=False
        )
        total = time.perf_counter() - t
        t = time.perf_counter()
        result = run(load_scenario("status-quo"), people=people, years=years, seed=1, record_events=True)
        engine = time.perf_counter() - t
        t = time.perf_counter()
        tables = to_event_log(result)
        build = time.perf_counter() - t
        t = time.perf_counter()
        for spec in EVENT_LOG:
            write_table(tables[spec.name], Path(tmp) / "again", spec.name, "parquet")
        write = time.perf_counter() - t
    return {
        "total": total,
        "engine": engine,
        "event_log_build": build,
        "write": write,
        "services": counts["services"],
        "measurements": counts["measurements"],
        "episodes": counts["episodes"],
    }


def main() -> None:
    print(f"engine: {BIG_PEOPLE:,} people x {YEARS} years, monthly, summary only, one core", flush=True)
    timed = _engine_in_child(BIG_PEOPLE, YEARS, trace=False)
    traced = _engine_in_child(BIG_PEOPLE, YEARS, trace=True)
    steps = timed["steps"]
    onward_rate = BIG_PEOPLE * steps / timed["cpu"]
    print(
        f"  wall {timed['seconds']:.2f} s, CPU {timed['cpu']:.2f} s (target <= 15 s), {steps:.0f} steps "
        f"(incl. {steps - YEARS * 12:.0f} burn-in); {onward_rate / 1e6:.1f} M person-months per CPU second"
    )
    print(
        f"  peak RSS {timed['maxrss_mb']:.0f} MB; tracemalloc peak {traced['traced_peak_mb']:.0f} MB "
        "(target <= 2048 MB)"
    )
    print("  summary: " + ", ".join(f"{k}={v:,.1f}" for k, v in timed["summary"].items()))  # type: ignore[attr-defined]

    print(
        f"SimPy baseline: {SIMPY_PEOPLE:,} people x {YEARS * 12} months, one process per person", flush=True
    )
    simpy_wall, simpy_cpu = simpy_person_months_per_second(SIMPY_PEOPLE, YEARS * 12)
    print(
        f"  {simpy_cpu / 1e6:.3f} M person-months per CPU second ({simpy_wall / 1e6:.3f} M per wall second)"
    )
    print(
        f"  ratio Onward / SimPy per person-month (CPU time): {onward_rate / simpy_cpu:.0f}x (target >= 100x)"
    )

    years = 5
    print(f"synth: {SYNTH_PEOPLE:,} people x {years} years, Parquet", flush=True)
    s = _synth(SYNTH_PEOPLE, years)
    print(
        f"  write_synthetic_county {s['total']:.1f} s (target < 60 s): engine {s['engine']:.1f} s, "
        f"event log {s['event_log_build']:.1f} s + write {s['write']:.1f} s = "
        f"{s['event_log_build'] + s['write']:.1f} s (target < 30 s)"
    )
    print(
        f"  rows: {s['episodes']:,.0f} episodes, {s['services']:,.0f} services, "
        f"{s['measurements']:,.0f} measurements"
    )


if __name__ == "__main__":
    main()
