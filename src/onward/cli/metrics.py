"""`onward metrics`: the DESIGN section 5 suite over an extract folder or the live database."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from onward.cli._app import DbOption, app
from onward.errors import ValidationError
from onward.metrics.registry import METRICS, MetricDefinition

_HELP = """Compute every metric of DESIGN section 5 for a period, optionally by program and month.

Reads an extract folder (--data, on DuckDB) or the database (--db; a SQLite store is copied into DuckDB
unless --backend sqlite). The default period is the whole data range; data_end is the latest recorded
event, or --as-of (later events are ignored). Rates with an empty denominator print as null/blank, never 0.

Output is not suppressed by default (an analyst tool over data you already hold); pass --suppress for
publishable output (CMS cell-size rule: counts 1-10 and derivable cells hidden).

\b
Example:
  onward metrics --data ./extract --from 2024-01-01 --to 2024-12-31 --by program,month
  onward metrics --db sqlite:///onward-data/onward.sqlite --json > metrics.json
  onward metrics --data ./extract --backend pyspark --as-of 2025-06-30

Metrics:

""" + "\n\n".join(
    f"{m.key}: {m.definition} [{m.source}; by month: {m.month_grouping}]" for m in METRICS.values()
)


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{option} {text!r} is not a date", expected="YYYY-MM-DD") from None


def _by(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    keys = tuple(part.strip() for part in text.split(",") if part.strip())
    if not set(keys) <= {"program", "month"} or len(set(keys)) != len(keys):
        raise ValidationError(f"--by {text!r}", expected="program, month or program,month")
    return keys


def _format(metric: MetricDefinition, value: Any) -> str:
    if value is None:
        return ""
    if metric.kind == "rate":
        return f"{100 * value:.1f} %"
    if metric.kind == "ratio":
        return f"{value:.2f}"
    return f"{value:,}"


def _suppressed(payload: dict[str, Any]) -> dict[str, Any]:
    """Apply small-cell suppression (onward.security.suppression) to the JSON result with its parts."""
    from onward.security.suppression import MetricCells, suppress_result

    cells: list[MetricCells] = []
    for m in METRICS.values():
        if m.key == "stuck_share":
            cells.append(MetricCells(m.key, m.kind, ("stuck_count", "active_census")))
        elif m.kind == "count":
            cells.append(MetricCells(m.key, m.kind, additive=m.key not in {"active_census", "stuck_count"}))
        else:
            cells.append(MetricCells(m.key, m.kind, (f"{m.key}__numerator", f"{m.key}__denominator")))
    out = suppress_result(payload, cells)

    def strip(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if "__" not in k}

    out["metrics"] = strip(out["metrics"])
    out["groups"] = [strip(g) for g in out["groups"]]
    return out


@app.command("metrics", help=_HELP)
def metrics_command(
    data: Annotated[
        Path | None, typer.Option("--data", help="Extract folder (Parquet or CSV, one file per table).")
    ] = None,
    db: DbOption = None,
    backend: Annotated[
        str | None,
        typer.Option(
            help="Engine: duckdb | sqlite | postgres | pyspark (default: duckdb; postgres for a PG URL)."
        ),
    ] = None,
    from_: Annotated[str | None, typer.Option("--from", help="First day of the period (YYYY-MM-DD).")] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Last day of the period (default: data_end).")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Treat this day as data_end: later events are ignored.")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Group by program, month, or program,month.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    suppress: Annotated[bool, typer.Option("--suppress", help="Hide small cells (CMS 1-10 rule).")] = False,
) -> None:
    from onward.metrics.backends import open_event_log
    from onward.metrics.period import Period
    from onward.metrics.suite import compute_metrics
    from onward.settings import load_settings

    if data is not None and db is not None:
        raise ValidationError("give either --data DIR or --db URL, not both")
    period = Period(_date(from_, "--from"), _date(to, "--to"), _date(as_of, "--as-of"))
    keys = _by(by)
    url = None if data is not None else load_settings(database_url=db).resolved_database_url
    err = Console(stderr=True)
    with Progress(
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bars:
        task = bars.add_task("opening", total=None)
        log = open_event_log(data=data, db=url, backend=backend)

        def advance(name: str, done: int, total: int) -> None:
            bars.update(task, description=name, completed=done, total=total)

        result = compute_metrics(log, period=period, by=keys, progress=advance)
    payload = result.to_json(with_parts=suppress)
    if suppress:
        payload = _suppressed(payload)
    if as_json:
        typer.echo(json.dumps(payload, indent=2))
        return
    _print_tables(payload, keys)


def _print_tables(payload: dict[str, Any], keys: tuple[str, ...]) -> None:
    console = Console()
    p = payload["period"]
    as_of = f", as of {p['as_of']}" if p["as_of"] else ""
    overall = Table(title=f"Onward metrics {p['from']} to {p['to']} (data_end {p['data_end']}{as_of})")
    overall.add_column("metric")
    overall.add_column("value", justify="right")
    overall.add_column("key", style="dim")
    hidden = set(payload["metrics"].get("suppressed", []))
    for key, metric in METRICS.items():
        shown = "≤10" if key in hidden else _format(metric, payload["metrics"][key])
        overall.add_row(metric.title, shown, key)
    console.print(overall)
    if not keys:
        return
    columns = [{"program": "program_id", "month": "month"}[k] for k in keys]
    groups = Table(title="by " + " and ".join(keys))
    for column in columns:
        groups.add_column(column)
    groups.add_column("metric")
    groups.add_column("value", justify="right")
    for group in payload["groups"]:
        hidden = set(group.get("suppressed", []))
        for key, metric in METRICS.items():
            shown = "≤10" if key in hidden else _format(metric, group[key])
            groups.add_row(*(str(group[c]) for c in columns), key, shown)
    console.print(groups)
