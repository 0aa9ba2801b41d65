"""`onward simulate` (Monte Carlo comparison of scenarios) and `onward calibrate` (fit parameters to data)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from onward.cli._app import DbOption, app
from onward.errors import ValidationError

_PROGRESS_COLUMNS = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())


@app.command()
def simulate(
    scenarios: Annotated[
        list[str], typer.Argument(help="Built-in scenario names (see `onward scenarios list`) or TOML paths.")
    ],
    people: Annotated[int, typer.Option(min=1, help="Simulated residents per run.")] = 100_000,
    years: Annotated[
        float, typer.Option(min=0.1, max=50, help="Years to simulate (after a 5-year burn-in).")
    ] = 5.0,
    runs: Annotated[int, typer.Option(min=1, help="Replications per scenario.")] = 20,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed: the same seed gives the same numbers on any engine.")
    ] = 1,
    engine: Annotated[
        Literal["local", "dask"],
        typer.Option(help="local processes, or a Dask cluster (local when no --scheduler)."),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (needs --engine dask)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Local worker processes (local engine or local Dask).")
    ] = 2,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for series.parquet, summary.parquet, runs.parquet, report.html."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON on stdout.")] = False,
) -> None:
    """Compare SIMULATED what-if scenarios: mean and 95 % interval of each headline figure.

    Each scenario runs R replications with common random numbers (replication i of every scenario uses
    the same seed). The interval is the 2.5th-97.5th percentile of the replications: the range 95 % of
    simulated futures fall in (chance variation only, not parameter uncertainty).

    \b
    Example:
      onward simulate status-quo built-to-be-left treatment-first --runs 20 --out ./whatif
      onward simulate status-quo ./my-scenario.toml --people 50000 --years 3 --json
      onward simulate status-quo all-together --engine dask --scheduler tcp://10.0.0.5:8786
    """
    from onward.sim.montecarlo import SUMMARY_KEYS, SUMMARY_LABELS, run_scenarios
    from onward.sim.report import format_interval, write_outputs
    from onward.sim.scenario import load_scenario

    if scheduler is not None and engine != "dask":
        raise ValidationError("--scheduler needs --engine dask", column="--scheduler")
    loaded = [load_scenario(name) for name in scenarios]
    err = Console(stderr=True)
    with Progress(*_PROGRESS_COLUMNS, console=err, transient=True) as bar:
        task = bar.add_task(f"simulating ({engine})", total=runs * len(loaded))

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_scenarios(
            loaded,
            people=people,
            years=years,
            runs=runs,
            seed=seed,
            engine=engine,
            scheduler=scheduler,
            workers=workers,
            progress=advance,
        )
    if out is not None:
        paths = write_outputs(result, out)
        err.print(f"wrote {', '.join(str(p) for p in paths.values())}", highlight=False)
    if as_json:
        typer.echo(json.dumps(result.to_json(), allow_nan=False))
        return
    table = Table(
        title=f"SIMULATED: {people:,} residents, {years:g} years, {runs} runs per scenario, seed {seed}",
        caption="mean [2.5th, 97.5th percentile of the runs]",
    )
    table.add_column("figure")
    for name in result.scenarios:
        table.add_column(name, justify="right")
    for key in SUMMARY_KEYS:
        cells = []
        for sc in result.scenarios.values():
            iv = sc.summary[key]
            cells.append(format_interval(key, iv.mean, iv.low, iv.high))
        table.add_row(SUMMARY_LABELS[key], *cells)
    Console(soft_wrap=True).print(table)


@app.command()
def calibrate(
    out: Annotated[Path, typer.Option("--out", help="Scenario TOML to write with the fitted [parameters].")],
    data: Annotated[
        Path | None, typer.Option("--data", help="Extract folder (one file per event-log table).")
    ] = None,
    db: DbOption = None,
    people: Annotated[
        int | None,
        typer.Option(min=1, help="Residents the system serves (default: rows of the people table)."),
    ] = None,
    seed: Annotated[
        int, typer.Option(min=0, help="Seed of the common random numbers used while fitting.")
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fit report as JSON on stdout.")] = False,
) -> None:
    """Fit incidence, help-seeking, treatment response, dropout and relapse to a system's measured data.

    Targets come from the event log: referrals and admissions per person-month, the metric library's
    graduation rate, and episode endings by reason. The fit is a simulated method of moments with
    fixed seeds; the report shows every target (observed vs simulated) and every parameter (fitted vs
    the sourced default).

    \b
    Example:
      onward calibrate --data ./county --out calibrated.toml
      onward calibrate --db sqlite:///onward-data/onward.sqlite --out calibrated.toml --json
      onward simulate ./calibrated.toml built-to-be-left
    """
    from onward.metrics.backends import open_event_log
    from onward.settings import load_settings
    from onward.sim.calibrate import calibrate_event_log, write_calibrated_scenario

    if (data is None) == (db is None):
        raise ValidationError("give exactly one of --data DIR or --db URL")
    url = load_settings(database_url=db).resolved_database_url if db is not None else None
    log = open_event_log(data=data, db=url)
    err = Console(stderr=True)
    with Progress(*_PROGRESS_COLUMNS, console=err, transient=True) as bar:
        task = bar.add_task("calibrating", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        fit = calibrate_event_log(log, people=people, seed=seed, progress=advance)
    write_calibrated_scenario(fit, out, source=str(data) if data is not None else "database")
    if as_json:
        typer.echo(json.dumps(fit.to_json(), allow_nan=False))
        return
    console = Console(soft_wrap=True)
    targets = Table(title="fit: observed vs simulated (SIMULATED column from the calibrated model)")
    for column in ("target", "observed", "simulated", "meaning"):
        targets.add_column(column, justify="right" if column in ("observed", "simulated") else "left")
    for t in fit.targets:
        targets.add_row(t.name, _num(t.observed), _num(t.simulated), t.description)
    console.print(targets)
    params = Table(title=f"parameters written to {out}")
    for column in ("parameter", "fitted", "default", "plausible range", "source of the default"):
        params.add_column(column)
    for p in fit.parameters:
        params.add_row(p.name, f"{p.value:.4g}", f"{p.default:.4g}", f"{p.low:g}-{p.high:g}", p.source)
    console.print(params)
    console.print(
        f"{fit.iterations} iterations, largest relative error {fit.max_relative_error:.1%}; "
        f"{fit.people:,} simulated residents, {fit.years:g} years, seed {fit.seed}",
        highlight=False,
    )


def _num(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.4g}"
