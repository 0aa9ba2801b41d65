"""CLI commands for the data itself: init, import, export, backup."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from onward.cli._app import DbOption, app
from onward.settings import load_settings


def _database_url(db: str | None) -> str:
    return load_settings(database_url=db).resolved_database_url


@app.command()
def init(db: DbOption = None) -> None:
    """Create the database, or upgrade it to the newest schema. Safe to run again.

    \b
    Example:
      onward init
      onward init --db postgresql+psycopg://onward@localhost/onward
    """
    from onward.store.engine import display_url
    from onward.store.migrate import upgrade_database

    url = _database_url(db)
    revision = upgrade_database(url)
    Console(soft_wrap=True).print(f"database {display_url(url)} is at schema revision {revision}", highlight=False)


@app.command()
def backup(
    out: Annotated[Path, typer.Argument(help="File to write the backup to.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Copy the live database to a file, safely while it is in use.

    SQLite uses its online backup API (the copy is a SQLite file); PostgreSQL runs pg_dump
    (custom format, restore with pg_restore), which must be on PATH.

    \b
    Example:
      onward backup backups/onward-2026-11-25.sqlite
    """
    from onward.store.backup import backup_database
    from onward.store.engine import display_url

    url = _database_url(db)
    path = backup_database(url, out)
    size = path.stat().st_size
    Console(soft_wrap=True).print(f"backed up {display_url(url)} to {path} ({size:,} bytes)", highlight=False)
