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
    PeriodOption,
    ToOption,
    open_source,
    progress_bars,
    published_options,
    source_url,
)
from onward.errors import ValidationError
from onward.model.targets import Targets

_HELP = """Write the report: each metric's value for one calendar period, its
trend by month, its breakdown by program, its definition and source, with
charts. HTML is one self-contained file (no network needed to open it);
--format pdf or png renders the charts, titled with values and definitions,
through vl-convert.

The report is published output: it covers a calendar month, quarter or year
(--period 2025-03, 2025-Q1 or 2025; default the latest complete quarter),
read as of a month end (--as-of; default the last month end on or before the
latest event), and states both. --from/--to ranges are refused: two
overlapping ranges subtract to a smaller one (docs/metrics.md, "Published
figures"). The figures are the ones the web and the API show.

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
  onward report --data ./extract --out q1.html --period 2024-Q1 \\
      --as-of 2024-06

Each figure is printed beside its target and status (docs/targets.md) when the
report reads a database (--db); an extract folder holds no targets. With --db
the report also gives the two direction numbers published on their own pages,
prevention coverage (skills lessons delivered of those due, the calendar year
to the month end) and ideas implemented (the voice metrics of the period),
each with its target and status.
"""


def _targets(url: str) -> Targets:
    """The targets in force in the database at `url`."""
    from onward.services.targets import targets_in_force
    from onward.store.engine import create_db_engine, session_factory

    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            return targets_in_force(session)
    finally:
        engine.dispose()


report_app = typer.Typer(name="report", help=_HELP, invoke_without_command=True)
app.add_typer(report_app)


@report_app.callback()
def report_command(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (report.html, charts.pdf, charts.png).")
    ] = None,
    data: DataOption = None,
    db: DbOption = None,
    fmt: Annotated[str, typer.Option("--format", help="html | pdf | png.")] = "html",
    backend: BackendOption = None,
    period: PeriodOption = None,
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

    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise ValidationError(
            "--out is required", expected="--out report.html (or a subcommand: regulator, voice)"
        )
    url = source_url(data, db)
    if fmt not in FORMATS:
        raise ValidationError(f"--format {fmt!r}", expected=" | ".join(FORMATS))
    chosen, month_end = published_options(period, from_, to, as_of, why="by onward report")
    err = Console(stderr=True)
    with progress_bars(err, label_width=40) as bars:
        task = bars.add_task("opening the event log", total=None)
        log = open_source(data, url, backend)
        synthetic = synthetic_label if synthetic_label is not None else is_synthetic_source(data=data, db=url)

        def advance(step: str, done: int, total: int) -> None:
            bars.update(task, description=step[:40], completed=done, total=total + 1)

        report_data = gather(
            log, period=chosen, as_of=month_end, suppress=suppress, progress=advance, synthetic=synthetic
        )
        if url is not None:
            from onward.metrics.direction_extras import own_page_figures, report_line

            report_data.targets = _targets(url)
            bars.update(task, description="prevention coverage, ideas")
            report_data.own_page = [
                report_line(f, report_data.targets)
                for f in own_page_figures(url, report_data.period, trend=False)
            ]
        bars.update(task, description=f"writing {fmt}")
        written = build_report(report_data, out=out, fmt=fmt)
        bars.update(task, completed=bars.tasks[0].total)
    notes = []
    if not suppress:
        notes.append("[bold red]suppression OFF: internal use only[/]")
    if synthetic:
        notes.append("labelled synthetic")
    extra = f" ({'; '.join(notes)})" if notes else ""
    p = report_data.period
    Console(soft_wrap=True).print(
        f"wrote {written}{extra}: period {p['period']} ({p['from']} to {p['to']}), "
        f"figures as of {p['as_of']}",
        highlight=False,
    )


_REGULATOR_HELP = """Write one report for regulators and payers into DIR: regulator.html,
regulator.pdf (the same page printed by headless Chromium; needs the pdf extra
and Chromium) and regulator.csv (one row per figure and scope).

It holds the quality measures (IET, FUH), access (waits, treated within 14
days), outcomes (recovery, reliable improvement, DRR-E, graduation, people
stuck, re-entry) overall and by program, each beside its target and status;
skills coverage for the calendar year of the period's end; ideas received and
acted on (the voice metrics); and the council's composition on the period's
last day. Small cells are suppressed as on every published output, and every
page and row states the period and the month end the figures are read as of.

--from and --to give the first and last day of one calendar month, quarter
or year (published figures answer on those only); --period is the same in
short. Default: the latest complete quarter.

\b
Example:
  onward report regulator --from 2025-01-01 --to 2025-03-31 --out ./q1
  onward report regulator --period 2025 --out ./2025 --db postgresql+psycopg://onward@db/onward
"""


@report_app.command("regulator", help=_REGULATOR_HELP)
def regulator_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write regulator.html, .pdf and .csv into.")],
    from_: FromOption = None,
    to: ToOption = None,
    period: PeriodOption = None,
    as_of: AsOfOption = None,
    db: DbOption = None,
    synthetic_label: Annotated[
        bool | None,
        typer.Option(
            "--synthetic-label/--no-synthetic-label",
            help="Label the data as synthetic (default: detected from the database).",
            show_default=False,
        ),
    ] = None,
) -> None:
    from datetime import date

    from onward.cli.regulator import build, write
    from onward.metrics.period import CalendarPeriod, parse_as_of
    from onward.metrics.regulator import period_from_dates
    from onward.metrics.report import is_synthetic_source

    url = source_url(None, db)
    assert url is not None
    if (from_ is None) != (to is None):
        raise ValidationError("give both --from and --to (the first and last day of a calendar period)")
    chosen: CalendarPeriod | None = None
    if from_ is not None and to is not None:
        try:
            start, end = date.fromisoformat(from_), date.fromisoformat(to)
        except ValueError:
            raise ValidationError(f"--from {from_} --to {to}", expected="YYYY-MM-DD dates") from None
        chosen = period_from_dates(start, end)
        if period is not None and CalendarPeriod.parse(period, name="--period") != chosen:
            raise ValidationError("--period and --from/--to name different periods")
    elif period is not None:
        chosen = CalendarPeriod.parse(period, name="--period")
    month_end = parse_as_of(as_of, name="--as-of") if as_of is not None else None
    synthetic = synthetic_label if synthetic_label is not None else is_synthetic_source(db=url)
    if chosen is None:
        from onward.metrics.backends import open_event_log
        from onward.metrics.publish import publish

        chosen = publish(open_event_log(db=url), as_of=month_end, suppress=False).default_period()
    report = build(url=url, period=chosen, as_of=month_end, targets=_targets(url), synthetic=synthetic)
    written = write(report, out)
    p = report.period
    Console(soft_wrap=True).print(
        f"wrote {', '.join(str(w) for w in written)}: period {p['period']} ({p['from']} to {p['to']}), "
        f"figures as of {p['as_of']}" + (" (labelled synthetic)" if synthetic else ""),
        highlight=False,
    )
