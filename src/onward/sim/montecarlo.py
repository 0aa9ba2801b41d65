"""Monte Carlo: R replications of each scenario, summarised as means with 95 % percentile intervals.

Seeds come from `numpy.random.SeedSequence(seed).spawn(runs)`, and replication i of *every* scenario
uses child seed i (common random numbers), so scenario differences are not drowned by run-to-run
noise, and the numbers are the same whichever engine (in-process, local processes, Dask) runs them.

The interval is a **percentile interval of the replications**: the 2.5th and 97.5th percentiles of the
R run values (linear interpolation), i.e. the range that 95 % of simulated futures fall in. It is not
a confidence interval of the mean, and it covers only the model's chance variation, not uncertainty
in its parameters. Series bands use the same percentiles month by month.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from onward.errors import ValidationError
from onward.sim.engine import StepKind, run
from onward.sim.parameters import Parameters
from onward.sim.perinatal import PERINATAL_LABELS
from onward.sim.result import SUMMARY_KEYS as RUN_SUMMARY_KEYS
from onward.sim.scenario import Scenario

__all__ = [
    "INTERVAL_TEXT",
    "SERIES_KEYS",
    "SUMMARY_KEYS",
    "SUMMARY_LABELS",
    "Engine",
    "Interval",
    "MonteCarloResult",
    "ScenarioResult",
    "replication_seeds",
    "local_dask_cluster",
    "run_scenarios",
]

Engine = Literal["local", "dask"]
Progress = Callable[[int, int], None]
"""progress(replications done, replications in total)."""

SUMMARY_KEYS: tuple[str, ...] = tuple(
    k
    for k in RUN_SUMMARY_KEYS
    if k not in {"admissions", "referrals", "perinatal_births", "perinatal_depression"}
)
"""The headline figures of every scenario (meanings in `onward.sim.result`)."""

SUMMARY_LABELS: dict[str, str] = {
    "waiting": "People waiting (at the end)",
    "mean_wait_days": "Mean wait, referral to admission (days)",
    "in_services": "People in services (at the end)",
    "stuck": "People stuck: open ≥ 12 months, no reliable improvement (at the end)",
    "graduations": "Graduations (whole run)",
    "recoveries": "Recoveries in service (whole run)",
    "relapses": "Relapses (whole run)",
    "dropouts": "Dropouts from treatment (whole run)",
    "dropout_rate": "Dropouts per 100 person-months in treatment",
    "new_cases": "New cases (whole run)",
    "new_cases_school_age": "New cases among school-age residents, 5-18 (whole run)",
    "treatment_share": "Treatment share of staff hours",
    **PERINATAL_LABELS,
}

SERIES_KEYS: tuple[str, ...] = (
    "month",
    "well",
    "unwell",
    "waiting",
    "in_treatment",
    "case_management_only",
    "recovered_in_service",
    "graduated",
    "in_services",
    "residents",
    "admissions",
    "exits",
)
"""Monthly series kept per replication (`month` is the end of the step, in months since the start).

``in_services`` changes by exactly admissions − exits every step in every replication (leaving
services by death or moving away is an exit), so the means across replications balance too."""

INTERVAL_TEXT = "95 % percentile interval of the replications (2.5th to 97.5th percentile of the runs)"
LOW_PERCENTILE, HIGH_PERCENTILE = 2.5, 97.5
DEFAULT_WORKERS = 2  # the development machine has 2 cores


@dataclass(frozen=True, slots=True)
class Interval:
    """A mean over replications and the 95 % percentile interval of the replications."""

    mean: float
    low: float
    high: float

    def to_json(self) -> dict[str, float | None]:
        return {
            k: (None if math.isnan(v) else v)
            for k, v in (("mean", self.mean), ("low", self.low), ("high", self.high))
        }


@dataclass(frozen=True, slots=True)
class _Task:
    scenario: Scenario
    people: int
    years: float
    seed: int
    step: StepKind
    parameters: Parameters | None
    index: int  # which scenario
    replication: int


@dataclass(frozen=True, slots=True)
class _Output:
    index: int
    replication: int
    summary: dict[str, float]
    series: dict[str, npt.NDArray[np.float64]]


def _replicate(task: _Task) -> _Output:
    """One replication, reduced to what the summary needs (no population arrays cross processes)."""
    result = run(
        task.scenario,
        people=task.people,
        years=task.years,
        seed=task.seed,
        step=task.step,
        parameters=task.parameters,
    )
    return _Output(
        index=task.index,
        replication=task.replication,
        summary={k: float(result.summary[k]) for k in SUMMARY_KEYS},
        series={k: np.asarray(result.series[k], dtype=np.float64) for k in SERIES_KEYS},
    )


@dataclass(slots=True)
class ScenarioResult:
    """One scenario's replications: raw per-run values, their summary, and monthly means with bands."""

    name: str
    description: str
    runs: npt.NDArray[np.float64]  # (replications, len(SUMMARY_KEYS))
    series: dict[str, npt.NDArray[np.float64]]  # key -> (replications, steps)
    summary: dict[str, Interval] = field(init=False)

    def __post_init__(self) -> None:
        self.summary = {key: _interval(self.runs[:, j]) for j, key in enumerate(SUMMARY_KEYS)}

    def band(
        self, key: str
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(mean, 2.5th percentile, 97.5th percentile) of a series key, per step."""
        values = self.series[key]
        low, high = np.percentile(values, [LOW_PERCENTILE, HIGH_PERCENTILE], axis=0)
        return values.mean(axis=0), low, high

    def mean_series(self) -> list[dict[str, float]]:
        """One row per step with the mean across replications of every series key."""
        means = {key: self.series[key].mean(axis=0) for key in SERIES_KEYS}
        steps = means["month"].size
        return [{key: float(means[key][t]) for key in SERIES_KEYS} for t in range(steps)]

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": {key: interval.to_json() for key, interval in self.summary.items()},
            "series": self.mean_series(),
        }


def _interval(values: npt.NDArray[np.float64]) -> Interval:
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return Interval(math.nan, math.nan, math.nan)
    low, high = np.percentile(finite, [LOW_PERCENTILE, HIGH_PERCENTILE])
    return Interval(float(finite.mean()), float(low), float(high))


@dataclass(slots=True)
class MonteCarloResult:
    """Every scenario's replications, and how they were made."""

    scenarios: dict[str, ScenarioResult]
    people: int
    years: float
    runs: int
    seed: int
    step: str
    engine: str
    seeds: list[int]
    interval: str = INTERVAL_TEXT

    def to_json(self) -> dict[str, Any]:
        """`{"scenarios": {NAME: {"summary": {KEY: {"mean", "low", "high"}}, "series": [...]}}}`."""
        return {"scenarios": {name: result.to_json() for name, result in self.scenarios.items()}}


def replication_seeds(seed: int, runs: int) -> list[int]:
    """One engine seed per replication, from SeedSequence(seed).spawn(runs); shared by all scenarios.

    Each child's 64-bit state is shifted to 63 bits so the seed also fits signed 64-bit columns (Parquet).
    """
    if seed < 0:
        raise ValidationError("the seed must not be negative", column="seed")
    return [
        int(child.generate_state(1, dtype=np.uint64)[0]) >> 1
        for child in np.random.SeedSequence(seed).spawn(runs)
    ]


def _unique_names(scenarios: Sequence[Scenario]) -> list[str]:
    names: list[str] = []
    for scenario in scenarios:
        name, k = scenario.name, 2
        while name in names:
            name, k = f"{scenario.name} ({k})", k + 1
        names.append(name)
    return names


def run_scenarios(
    scenarios: Sequence[Scenario],
    *,
    people: int,
    years: float,
    runs: int,
    seed: int,
    engine: Engine = "local",
    scheduler: str | None = None,
    workers: int = DEFAULT_WORKERS,
    step: StepKind = "month",
    parameters: Parameters | None = None,
    progress: Progress | None = None,
) -> MonteCarloResult:
    """Run `runs` replications of every scenario and summarise them; same seed → same numbers on any engine.

    engine "local": a pool of `workers` processes (in this process when workers or the number of tasks
    is 1); "dask": the Dask scheduler at `scheduler`, or a LocalCluster of `workers` single-threaded
    processes when no scheduler is given. `parameters` replaces the defaults every scenario starts from.
    """
    if not scenarios:
        raise ValidationError("give at least one scenario")
    if runs < 1:
        raise ValidationError("runs must be at least 1", column="runs")
    if people < 1:
        raise ValidationError("people must be at least 1", column="people")
    if years <= 0:
        raise ValidationError("years must be positive", column="years")
    if workers < 1:
        raise ValidationError("workers must be at least 1", column="workers")
    if engine not in ("local", "dask"):
        raise ValidationError(f"unknown engine {engine!r}", column="engine", expected="local or dask")
    if scheduler is not None and engine != "dask":
        raise ValidationError("a scheduler address needs the dask engine", column="scheduler")
    seeds = replication_seeds(seed, runs)
    tasks = [
        _Task(sc, people, years, seeds[r], step, parameters, i, r)
        for r in range(runs)  # replication-major: early progress covers every scenario
        for i, sc in enumerate(scenarios)
    ]
    if engine == "dask":
        outputs = _run_dask(tasks, scheduler=scheduler, workers=workers, progress=progress)
    else:
        outputs = _run_local(tasks, workers=workers, progress=progress)
    by_scenario: list[list[_Output]] = [[] for _ in scenarios]
    for out in outputs:
        by_scenario[out.index].append(out)
    results: dict[str, ScenarioResult] = {}
    for name, scenario, outs in zip(_unique_names(scenarios), scenarios, by_scenario, strict=True):
        outs.sort(key=lambda o: o.replication)
        results[name] = ScenarioResult(
            name=name,
            description=scenario.description,
            runs=np.array([[o.summary[k] for k in SUMMARY_KEYS] for o in outs], dtype=np.float64),
            series={k: np.stack([o.series[k] for o in outs]) for k in SERIES_KEYS},
        )
    return MonteCarloResult(
        scenarios=results,
        people=people,
        years=years,
        runs=runs,
        seed=seed,
        step=step,
        engine=engine,
        seeds=seeds,
    )


def _run_local(tasks: list[_Task], *, workers: int, progress: Progress | None) -> list[_Output]:
    total = len(tasks)
    outputs: list[_Output] = []
    if workers == 1 or total == 1:
        for task in tasks:
            outputs.append(_replicate(task))
            if progress is not None:
                progress(len(outputs), total)
        return outputs
    # forkserver, not fork: the caller may be a threaded web server, where fork() can deadlock. The server
    # imports the engine once, so each worker starts without re-importing NumPy and Onward.
    if os.name == "posix":
        context: Any = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["onward.sim.montecarlo"])
    else:
        context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, total), mp_context=context) as pool:
        futures = [pool.submit(_replicate, task) for task in tasks]
        for future in as_completed(futures):
            outputs.append(future.result())
            if progress is not None:
                progress(len(outputs), total)
    return outputs


def local_dask_cluster(workers: int) -> Any:
    """A LocalCluster of single-threaded worker processes tuned for the engine (no dashboard).

    Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers (to hand memory back to the OS). Setting
    it switches off glibc's adaptive mmap threshold, so every large per-step temporary of the engine is
    mmapped and page-faulted afresh: about 230,000 minor faults and twice the time per 200,000-person
    replication. The workers here keep glibc's defaults. (Start remote workers without that variable too.)
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )


def _run_dask(
    tasks: list[_Task], *, scheduler: str | None, workers: int, progress: Progress | None
) -> list[_Output]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    total = len(tasks)
    cluster = None
    try:
        if scheduler is None:
            cluster = local_dask_cluster(workers)
            client = Client(cluster)  # type: ignore[no-untyped-call]
        else:
            try:
                client = Client(scheduler, timeout="10s")  # type: ignore[no-untyped-call]
            except OSError as error:
                raise ValidationError(
                    f"cannot reach the Dask scheduler: {error}",
                    column="scheduler",
                    expected="tcp://HOST:PORT",
                ) from error
        with client:
            futures = client.map(_replicate, tasks, pure=False)
            outputs: list[_Output] = []
            for future in dask_completed(futures):  # type: ignore[no-untyped-call]
                outputs.append(future.result())
                if progress is not None:
                    progress(len(outputs), total)
            return outputs
    finally:
        if cluster is not None:
            cluster.close()
