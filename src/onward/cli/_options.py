"""The options `onward metrics` and `onward report` share: where the event log is and which period."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from onward.errors import ValidationError

if TYPE_CHECKING:
    from onward.metrics.backends import EventLog
    from onward.metrics.period import CalendarPeriod, Period

DataOption = Annotated[
    Path | None, typer.Option("--data", help="Extract folder (Parquet or CSV, one file per table).")
]
BackendOption = Annotated[
    str | None,
    typer.Option(
        help="Engine: duckdb | sqlite | postgres | pyspark (default: duckdb; postgres for a PG URL)."
    ),
]
FromOption = Annotated[str | None, typer.Option("--from", help="First day of the period (YYYY-MM-DD).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Last day of the period (default: data_end).")]
PeriodOption = Annotated[
    str | None,
    typer.Option(
        "--period",
        help="Calendar period: YYYY-MM, YYYY-Qn or YYYY (default: the latest complete quarter).",
    ),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help=(
            "Treat this day as data_end: later events are ignored. Published output (onward report, "
            "metrics --suppress) snaps it to the last month end on or before it; YYYY-MM: that month's end."
        ),
    ),
]


def parse_date(text: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value, or None when the option was not given."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{option} {text!r} is not a date", expected="YYYY-MM-DD") from None


def period_option(from_: str | None, to: str | None, as_of: str | None) -> Period:
    """The period asked with --from / --to / --as-of (open ends resolve against the data later)."""
    from onward.metrics.period import Period

    return Period(parse_date(from_, "--from"), parse_date(to, "--to"), parse_date(as_of, "--as-of"))


def published_options(
    period: str | None, from_: str | None, to: str | None, as_of: str | None, *, why: str
) -> tuple[CalendarPeriod | None, date | None]:
    """--period and --as-of for published output (`why` names it); --from/--to ranges are refused."""
    from onward.metrics.period import PERIOD_FORMS, CalendarPeriod, parse_as_of

    for option, value in (("--from", from_), ("--to", to)):
        if value is not None:
            raise ValidationError(
                f"{option} is not accepted {why}: published figures answer only on calendar periods "
                "(two overlapping date ranges subtract to a smaller one)",
                expected=f"--period {PERIOD_FORMS}",
            )
    chosen = CalendarPeriod.parse(period, name="--period") if period is not None else None
    return chosen, parse_as_of(as_of, name="--as-of") if as_of is not None else None


def source_url(data: Path | None, db: str | None) -> str | None:
    """The database URL to read (None for an extract folder): --db, else the configured database."""
    from onward.settings import load_settings

    if data is not None and db is not None:
        raise ValidationError("give either --data DIR or --db URL, not both")
    return None if data is not None else load_settings(database_url=db).resolved_database_url


def open_source(data: Path | None, url: str | None, backend: str | None) -> EventLog:
    """Open the event log from --data or the resolved database URL on the chosen engine."""
    from onward.metrics.backends import open_event_log

    return open_event_log(data=data, db=url, backend=backend)


def progress_bars(err: Console, *, label_width: int) -> Progress:
    """One transient progress bar on stderr, shown only on a terminal (JSON on stdout stays clean)."""
    return Progress(
        TextColumn(f"{{task.description:<{label_width}}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
