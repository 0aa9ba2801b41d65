"""CLI commands for voice: the report for regulators and payers (`onward report voice`), and the council's
seats (`onward voice council`, `seat`, `unseat`). Writes go through onward.services and are audited as
the command-line operator."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onward.cli._app import DbOption, app
from onward.cli._db import command_line_operator, open_database
from onward.cli.report import report_app
from onward.errors import ValidationError

voice_app = typer.Typer(
    name="voice",
    help="The advisory council behind voice: its seats, composition and rule (docs/voice.md). Ideas, "
    "decisions and plans are made on the web pages.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(voice_app)


def _say(text: str) -> None:
    Console(soft_wrap=True).print(text, highlight=False)


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"{option} {value!r} is not a day", column=option, expected="YYYY-MM-DD"
        ) from None


@report_app.command("voice")
def report_voice(
    from_: Annotated[
        str, typer.Option("--from", help="First day of the period (YYYY-MM-DD).", show_default=False)
    ],
    to: Annotated[str, typer.Option("--to", help="Last day of the period (YYYY-MM-DD).", show_default=False)],
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write voice.html and voice.csv into.", show_default=False)
    ],
    db: DbOption = None,
) -> None:
    """Write the voice report for regulators and payers: ideas received by
    author role, council decisions, days to a decision, ideas implemented and
    evaluated, the results measured (before/after, not causal), and the
    council's composition at each month end against its rule. Counts of
    ideas and decisions from 1 to 10 are suppressed (CMS cell-size policy),
    with complementary cells; a demo database is labelled synthetic.

    \b
    Example:
      onward report voice --from 2025-01-01 --to 2025-12-31 --out ./voice
    """
    from onward.metrics.voice_report import write_voice_report
    from onward.services.provenance import database_holds_synthetic_data

    start, end = _day(from_, "--from"), _day(to, "--to")
    if end < start:
        raise ValidationError(f"--to {end} is before --from {start}", column="--to")
    with open_database(db) as database:
        synthetic = database_holds_synthetic_data(database.url)
        html_path, csv_path = write_voice_report(
            database.url, start, end, out, database.settings.council_rule, synthetic=synthetic
        )
    label = " (labelled synthetic)" if synthetic else ""
    _say(f"wrote {html_path} and {csv_path}{label}: {start} to {end}")


@voice_app.command("council")
def council(
    db: DbOption = None, on: Annotated[str | None, typer.Option("--on", help="Day (default today).")] = None
) -> None:
    """List the council's seated members, their composition and whether it
    meets the composition rule (settings ONWARD_VOICE_*).

    \b
    Example:
      onward voice council --on 2025-06-30
    """
    from onward.services.voice_council import all_members, council_state

    day = _day(on, "--on") if on else datetime.now(UTC).date()
    with open_database(db) as database, database.factory() as session:
        state = council_state(session, day, database.settings.council_rule)
        table = Table(title=f"Council on {day}: {state.text}")
        for column in ("member id", "name", "group", "seat", "joined", "left"):
            table.add_column(column)
        for m in all_members(session):
            table.add_row(m.member_id, m.name, m.member_group, m.seat, str(m.joined_on), str(m.left_on or ""))
    Console().print(table)
    _say(f"rule: {state.rule}")
    _say("meets the rule" if not state.problems else "does NOT meet the rule: " + "; ".join(state.problems))


@voice_app.command("seat")
def seat(
    name: Annotated[
        str, typer.Argument(help="The member's name as the council publishes it.", show_default=False)
    ],
    group: Annotated[
        str, typer.Option("--group", help="lived_experience | clinician | other.", show_default=False)
    ],
    seat_: Annotated[str, typer.Option("--seat", help="co_chair | member.")] = "member",
    username: Annotated[str | None, typer.Option("--username", help="Their Onward account, if any.")] = None,
    joined: Annotated[str | None, typer.Option("--joined", help="Day they join (default today).")] = None,
    db: DbOption = None,
) -> None:
    """Seat a council member (audited).

    \b
    Example:
      onward voice seat "Lee Park" --group lived_experience --seat co_chair
    """
    from onward.services.voice_council import seat_member

    now = datetime.now(UTC)
    with open_database(db) as database, database.factory() as session:
        row = seat_member(
            session=session,
            actor=command_line_operator(),
            name=name,
            group=group,
            seat=seat_,
            username=username,
            joined_on=_day(joined, "--joined") if joined else now.date(),
            now=now,
        )
    _say(f"seated {row.name} ({row.member_group}, {row.seat}) as {row.member_id}")


@voice_app.command("unseat")
def unseat(
    member_id: Annotated[
        str, typer.Argument(help="The member id (`onward voice council`).", show_default=False)
    ],
    left: Annotated[str | None, typer.Option("--left", help="Day they leave (default today).")] = None,
    db: DbOption = None,
) -> None:
    """A council member leaves the council (audited).

    \b
    Example:
      onward voice unseat 3f2a9c0d1e2b4a5c --left 2025-06-30
    """
    from onward.services.voice_council import unseat_member

    now = datetime.now(UTC)
    with open_database(db) as database, database.factory() as session:
        row = unseat_member(
            session=session,
            actor=command_line_operator(),
            member_id=member_id,
            left_on=_day(left, "--left") if left else now.date(),
            now=now,
        )
    _say(f"{row.name} left the council on {row.left_on}")
