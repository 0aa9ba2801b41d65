"""The Typer application and the options every data command shares."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="onward",
    help="Onward: run a public mental-health and SUD treatment system so that people get better and move on.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: ONWARD_DATABASE_URL, else a SQLite file under ./onward-data/).",
        show_default=False,
    ),
]
