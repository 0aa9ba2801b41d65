"""`onward report`: the published report (self-contained HTML, or the charts as PDF/PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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

_HELP = """Write the report: each metric's value for the period, its trend by
month, its breakdown by program, its definition and source, with charts.
HTML is one self-contained file (no network needed to open it); --format
pdf or png renders the charts, titled with values and definitions, through
vl-convert.

Small-cell suppression (CMS cell-size policy: counts 1-10 and cells that
would reveal them) is on by default; --no-suppress is for internal use and
marks every page so. Synthetic data is labelled: a demo database (demo
accounts present) or an extract written by `onward synth` (its
onward-synth.json says "synthetic": true; a SYNTHETIC file works too) is
detected; --synthetic-label or --no-synthetic-label overrides that.

\b
Example:
  onward report --data ./extract --out report.html
  onward report --db sqlite:///onward-data/onward.sqlite \\
      --out charts.pdf --format pdf
  onward report --data ./extract --out q1.html --from 2024-01-01 \\
      --to 2024-03-31 --as-of 2024-06-30
"""


@app.command("report", help=_HELP)
def report_command(
    out: Annotated[Path, typer.Option("--out", help="File to write (report.html, charts.pdf, charts.png).")],
    data: DataOption = None,
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="html | pdf | png.")] = "html",
    backend: BackendOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    as_of: AsOfOption = None,
    suppress: Annotated[
        bool, typer.Option("--suppress/--no-suppress", help="Hide small cells (off: internal use only).")
    ] = True,
    synthetic_label: Annotated[
        bool | None,
        typer.Option(
            "--synthetic-label/--no-synthetic-label",
            help="Label the data as synthetic (default: detected from the source).",
            show_default=False,
        ),
    ] = None,
) -> None:
    from onward.metrics.report import FORMATS, build_report, gather, is_synthetic_source

    url = source_url(data, db)
    if fmt not in FORMATS:
        raise ValidationError(f"--format {fmt!r}", expected=" | ".join(FORMATS))
    period = period_option(from_, to, as_of)
    err = Console(stderr=True)
    with progress_bars(err, label_width=40) as bars:
        task = bars.add_task("opening the event log", total=None)
        log = open_source(data, url, backend)
        synthetic = synthetic_label if synthetic_label is not None else is_synthetic_source(data=data, db=url)

        def advance(step: str, done: int, total: int) -> None:
            bars.update(task, description=step[:40], completed=done, total=total + 1)

        report_data = gather(log, period=period, progress=advance, synthetic=synthetic)
        bars.update(task, description=f"writing {fmt}")
        written = build_report(report_data, out=out, fmt=fmt, suppress=suppress)
        bars.update(task, completed=bars.tasks[0].total)
    notes = []
    if not suppress:
        notes.append("[bold red]suppression OFF: internal use only[/]")
    if synthetic:
        notes.append("labelled synthetic")
    extra = f" ({'; '.join(notes)})" if notes else ""
    Console(soft_wrap=True).print(f"wrote {written}{extra}", highlight=False)
