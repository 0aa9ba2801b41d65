"""`onward metrics`: the metric suite (docs/metrics.md) over an extract folder or the live database.

Exact by default, on any period (an analyst tool over data the analyst already holds). With --suppress it
prints published figures instead: a calendar period from the same suppressed cube as the web, the API and
`onward report`.
"""

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
    PeriodOption,
    ToOption,
    open_source,
    period_option,
    progress_bars,
    published_options,
    source_url,
)
from onward.errors import ValidationError
from onward.metrics.registry import METRICS, MetricDefinition
from onward.security.suppression import SMALL_CELL_MAX, SUPPRESSED

if TYPE_CHECKING:
    from datetime import date

    from onward.metrics.backends import EventLog
    from onward.metrics.period import CalendarPeriod

_HELP = """Compute every metric (docs/metrics.md) for a period, optionally by program and month.

Reads an extract folder (--data, on DuckDB) or the database (--db; a SQLite store is copied into DuckDB
unless --backend sqlite). The default period is the whole data range (the output says so); data_end is the
latest recorded event, or --as-of (later events are ignored). Rates with an empty denominator print as
null/blank, never 0.

Output is exact and not suppressed by default (an analyst tool over data you already hold). --suppress
prints publishable figures, exactly as the web, the API and onward report publish them: one calendar
period (--period YYYY-MM, YYYY-Qn or YYYY; default the latest complete quarter, as on the web) as of a
month end, CMS cell-size rule over the whole linked system; --from/--to are refused with it.

\b
Example:
  onward metrics --data ./extract --from 2024-01-01 --to 2024-12-31 --by program,month
  onward metrics --db sqlite:///onward-data/onward.sqlite --json > metrics.json
  onward metrics --data ./extract --backend pyspark --as-of 2025-06-30
  onward metrics --data ./extract --suppress --period 2025-Q1 --by program

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


def _published(
    log: EventLog, keys: tuple[str, ...], period: CalendarPeriod | None, month_end: date | None
) -> dict[str, Any]:
    """The published answer (`onward.metrics.publish`), shaped like the API's, parts removed."""
    from onward.metrics.publish import answer, period_extras, publish
    from onward.web.api.metrics import public_row

    cube = publish(log, as_of=month_end)
    chosen = period if period is not None else cube.default_period()
    view = answer(cube, chosen, period_extras(log, cube, chosen))
    rows = {
        ("program", "month"): view["by_program_month"],
        ("program",): view["by_program"],
        ("month",): view["by_month"],
    }.get(keys, [])
    return {
        "period": view["period"],
        "metrics": public_row(view["metrics"], ()),
        "groups": [public_row(g, keys) for g in rows],
        "suppression": view["suppression"],
    }


@app.command("metrics", help=_HELP)
def metrics_command(
    data: DataOption = None,
    db: DbOption = None,
    backend: BackendOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    as_of: AsOfOption = None,
    period: PeriodOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Group by program, month, or program,month.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    suppress: Annotated[
        bool, typer.Option("--suppress", help="Published figures: a calendar period, CMS 1-10 rule.")
    ] = False,
) -> None:
    from onward.metrics.suite import compute_metrics

    url = source_url(data, db)
    keys = _by(by)
    if suppress:
        chosen, month_end = published_options(period, from_, to, as_of, why="with --suppress")
    elif period is not None:
        raise ValidationError("--period is for published output: add --suppress, or use --from/--to")
    err = Console(stderr=True)
    with progress_bars(err, label_width=16) as bars:
        task = bars.add_task("opening", total=None)
        log = open_source(data, url, backend)

        def advance(name: str, done: int, total: int) -> None:
            bars.update(task, description=name, completed=done, total=total)

        if suppress:
            payload = _published(log, keys, chosen, month_end)
        else:
            result = compute_metrics(log, period=period_option(from_, to, as_of), by=keys, progress=advance)
            payload = result.to_json()
    if as_json:
        typer.echo(json.dumps(payload, indent=2))
        return
    _print_tables(payload, keys, whole_range=not suppress and from_ is None and to is None)


def _print_tables(payload: dict[str, Any], keys: tuple[str, ...], *, whole_range: bool = False) -> None:
    console = Console()
    p = payload["period"]
    if "period" in p:  # published: a calendar period as of a month end
        title = f"Onward metrics, published: {p['title']} ({p['from']} to {p['to']}), as of {p['as_of']}"
    else:
        as_of = f", as of {p['as_of']}" if p["as_of"] else ""
        whole = " — the whole data range (the default)" if whole_range else ""
        title = f"Onward metrics {p['from']} to {p['to']}{whole} (data_end {p['data_end']}{as_of})"
    overall = Table(title=title)
    overall.add_column("metric")
    overall.add_column("value", justify="right")
    overall.add_column("key", style="dim")
    hidden = set(payload["metrics"].get(SUPPRESSED, []))
    for key, metric in METRICS.items():
        shown = "–" if key in hidden else _format(metric, payload["metrics"].get(key))
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
            shown = "–" if key in hidden else _format(metric, group.get(key))
            groups.add_row(*(str(group[c]) for c in columns), key, shown)
    console.print(groups)
