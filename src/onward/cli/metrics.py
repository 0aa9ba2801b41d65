"""`onward metrics`: the docs/metrics.md suite over an extract folder or the live database."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from onward.cli._app import DbOption, app
from onward.cli._options import (
    AsOfOption,
    BackendOption,
    DataOption,
    FromOption,
    ToOption,
    open_source,
    period_option,
    progress_bars,
    source_url,
)
from onward.errors import ValidationError
from onward.metrics.registry import METRICS, MetricDefinition
from onward.security.suppression import SMALL_CELL_MAX, SUPPRESSED

if TYPE_CHECKING:
    from onward.metrics.suite import MetricsResult

_HELP = """Compute every metric of docs/metrics.md for a period, optionally by program and month.

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


def _by(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()
    keys = tuple(part.strip() for part in text.split(",") if part.strip())
    if not set(keys) <= {"program", "month"} or len(set(keys)) != len(keys):
        raise ValidationError(f"--by {text!r}", expected="program, month or program,month")
    return keys


#: The legend the report prints under its tables (onward.metrics.report.render_html).
_SUPPRESSED_NOTE = (
    f"– = suppressed: a count from 1 to {SMALL_CELL_MAX}, or a figure from which one could be derived "
    "(CMS cell-size suppression policy)."
)


def _format(metric: MetricDefinition, value: Any) -> str:
    if value is None:
        return ""
    if metric.kind == "rate":
        return f"{100 * value:.1f} %"
    if metric.kind == "ratio":
        return f"{value:.2f}"
    return f"{value:,}"


def _suppressed(result: MetricsResult) -> dict[str, Any]:
    """The JSON result with small cells hidden exactly as the report and the web hide them
    (`onward.metrics.report.suppression_cells`, the counts behind each figure), parts removed."""
    from onward.metrics.report import flat_figures, suppression_cells
    from onward.security.suppression import suppress_result

    payload = {
        "period": result.period.to_json(),
        "metrics": flat_figures(result.figures),
        "groups": [{**g.key, **flat_figures(g.figures)} for g in result.groups],
    }
    out = suppress_result(payload, suppression_cells())

    def strip(row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if "__" not in k}

    out["metrics"] = strip(out["metrics"])
    out["groups"] = [strip(g) for g in out["groups"]]
    return out


@app.command("metrics", help=_HELP)
def metrics_command(
    data: DataOption = None,
    db: DbOption = None,
    backend: BackendOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    as_of: AsOfOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Group by program, month, or program,month.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    suppress: Annotated[bool, typer.Option("--suppress", help="Hide small cells (CMS 1-10 rule).")] = False,
) -> None:
    from onward.metrics.suite import compute_metrics

    url = source_url(data, db)
    period = period_option(from_, to, as_of)
    keys = _by(by)
    err = Console(stderr=True)
    with progress_bars(err, label_width=16) as bars:
        task = bars.add_task("opening", total=None)
        log = open_source(data, url, backend)

        def advance(name: str, done: int, total: int) -> None:
            bars.update(task, description=name, completed=done, total=total)

        result = compute_metrics(log, period=period, by=keys, progress=advance)
    payload = _suppressed(result) if suppress else result.to_json()
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
    hidden = set(payload["metrics"].get(SUPPRESSED, []))
    for key, metric in METRICS.items():
        shown = "–" if key in hidden else _format(metric, payload["metrics"][key])
        overall.add_row(metric.title, shown, key)
    console.print(overall)
    if "suppression" in payload:
        console.print(_SUPPRESSED_NOTE, highlight=False)
    if not keys:
        return
    columns = [{"program": "program_id", "month": "month"}[k] for k in keys]
    groups = Table(title="by " + " and ".join(keys))
    for column in columns:
        groups.add_column(column)
    groups.add_column("metric")
    groups.add_column("value", justify="right")
    for group in payload["groups"]:
        hidden = set(group.get(SUPPRESSED, []))
        for key, metric in METRICS.items():
            shown = "–" if key in hidden else _format(metric, group[key])
            groups.add_row(*(str(group[c]) for c in columns), key, shown)
    console.print(groups)
