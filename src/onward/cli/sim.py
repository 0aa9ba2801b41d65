"""CLI commands of the simulator: `synth` (the synthetic county) and `scenarios list|show`."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from onward.cli._app import app
from onward.errors import ValidationError

scenarios_app = typer.Typer(
    name="scenarios",
    help="What-if scenarios: list the built-in ones, show levers and sourced parameters.",
    no_args_is_help=True,
)
app.add_typer(scenarios_app)


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="Folder to write (one file per event-log table).")],
    people: Annotated[int, typer.Option(min=1, help="Residents of the synthetic county.")] = 20_000,
    years: Annotated[float, typer.Option(min=0.1, max=50, help="Years of activity to simulate.")] = 3.0,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes byte-identical files.")] = 1,
    fmt: Annotated[Literal["parquet", "csv"], typer.Option("--format", help="File format.")] = "parquet",
    start: Annotated[str, typer.Option(help="First day of the simulated period (ISO date).")] = "2023-01-01",
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Write a SYNTHETIC county's event log, simulated by Onward's microsimulation (status quo).

    People, programs, staff, referrals, episodes, coded services and PHQ-9 / GAD-7 / AUDIT-C /
    DAST-10 / EPDS measurements; a file onward-synth.json marks the folder as synthetic.

    \b
    Example:
      onward synth --people 100000 --years 5 --seed 1 --out ./county
      onward synth --people 2000 --years 1 --out ./small --format csv
    """
    from onward.sim.synth import write_synthetic_county

    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        raise ValidationError(
            f"not an ISO date: {start!r}", column="--start", expected="YYYY-MM-DD"
        ) from None
    console = Console(soft_wrap=True)
    began = time.perf_counter()
    counts = write_synthetic_county(
        out, people=people, years=years, seed=seed, fmt=fmt, start=first_day, progress=progress
    )
    table = Table(title=f"synthetic county written to {out} ({fmt})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(
        f"{people:,} people, {years:g} years, seed {seed}: {time.perf_counter() - began:.1f} s",
        highlight=False,
    )


@scenarios_app.command("list")
def scenarios_list() -> None:
    """List the built-in scenarios with their descriptions.

    \b
    Example:
      onward scenarios list
    """
    from onward.sim.scenario import builtin_scenarios, load_scenario

    table = Table(title="built-in scenarios")
    table.add_column("name", no_wrap=True)
    table.add_column("levers")
    table.add_column("description")
    for name in builtin_scenarios():
        scenario = load_scenario(name)
        levers = ", ".join(f"{k}={v:g}" for k, v in scenario.levers.items()) or "(defaults)"
        table.add_row(name, levers, " ".join(scenario.description.split()))
    Console().print(table)


@scenarios_app.command("show")
def scenarios_show(
    name: Annotated[str, typer.Argument(help="A built-in scenario name or a path to a scenario TOML file.")],
) -> None:
    """Show a scenario: its levers, then every parameter with value, plausible range and public source.

    \b
    Example:
      onward scenarios show built-to-be-left
      onward scenarios show ./my-scenario.toml
    """
    from onward.sim.parameters import load_specs
    from onward.sim.scenario import load_scenario

    scenario = load_scenario(name)
    specs = load_specs()
    params = scenario.parameters().as_dict()
    console = Console(soft_wrap=True)
    console.print(f"[bold]{scenario.name}[/]: {' '.join(scenario.description.split())}", highlight=False)
    levers = Table(title="levers (policy choices)")
    for column in ("lever", "value", "default", "range", "meaning"):
        levers.add_column(column)
    for key, spec in specs.items():
        if spec.lever:
            changed = key in scenario.levers
            levers.add_row(
                f"[bold]{key}[/]" if changed else key,
                f"{params[key]:g}",
                f"{spec.value:g}",
                f"{spec.low:g}-{spec.high:g}",
                spec.description,
            )
    console.print(levers)
    table = Table(title="parameters (monthly; evidence)")
    for column in ("parameter", "value", "range", "unit", "source"):
        table.add_column(column)
    for key, spec in specs.items():
        if spec.lever:
            continue
        value = f"{params[key]:g}" + (" (overridden)" if key in scenario.overrides else "")
        source = spec.source + (f" [dim]({spec.conversion})[/]" if spec.conversion else "")
        table.add_row(key, value, f"{spec.low:g}-{spec.high:g}", spec.unit, source)
    console.print(table)
