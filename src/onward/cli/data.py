"""CLI commands for the data itself: init, import, export, backup, restore."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

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
    Console(soft_wrap=True).print(
        f"database {display_url(url)} is at schema revision {revision}", highlight=False
    )


@app.command("import")
def import_(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="Extract folder: one .parquet or .csv file per table (with --fhir: .ndjson files).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    fhir: Annotated[
        bool,
        typer.Option("--fhir", help="The folder holds FHIR R4 Bulk Data NDJSON (docs/extracts.md)."),
    ] = False,
    encounters: Annotated[
        Path | None,
        typer.Option(
            "--encounters", help="An encounter or claims CSV, read through --mapping.", show_default=False
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping", help="The TOML file naming the CSV's columns (docs/extracts.md).", show_default=False
        ),
    ] = None,
    codes: Annotated[
        Path | None,
        typer.Option(
            "--codes", help="A site's service codes CSV extending the catalogue.", show_default=False
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Import an extract folder into the database: every row checked first, all or nothing.

    Files are named after the event-log tables; people and programs are required, the rest optional.

    A bad value stops the import, naming file, row (1 = first data row) and column; nothing is written.

    Rows are upserted by id, so importing the same extract again changes nothing.

    With --fhir the folder holds FHIR R4 Bulk Data: .ndjson files, one resource type each.

    They may come from `onward export --fhir` or be Encounters from another system (docs/extracts.md).

    Every line is validated as FHIR R4; a bad one stops the import naming its file, line and element.

    With --encounters FILE.csv --mapping MAP.toml, a site's encounter or claims export is loaded as it
    is: the mapping names its columns; people, programs, staff and episodes are matched or created.

    Service codes are looked up in the catalogue (extended by --codes); unknown codes and categories
    that disagree are counted below and listed at /admin/service-codes, never dropped.

    \b
    Example:
      onward import ./extract --db sqlite:///onward-data/onward.sqlite
      onward import --fhir ./bulk-export
      onward import --encounters claims.csv --mapping mapping.toml
    """
    from onward.errors import ValidationError
    from onward.interop.extracts import import_extract
    from onward.interop.service_catalogue import load_catalogue

    console = Console()
    catalogue = load_catalogue(codes)
    if (folder is None) == (encounters is None):
        raise ValidationError("give an extract folder, or --encounters FILE.csv (not both)")
    if encounters is not None:
        from onward.interop.encounters import import_encounters

        if mapping is None:
            raise ValidationError("--encounters needs --mapping MAP.toml", column="--mapping")
        result = import_encounters(
            encounters, mapping, _database_url(db), progress=progress, catalogue=catalogue
        )
    elif fhir:
        from onward.interop.fhir_read import import_bulk

        assert folder is not None
        result, read = import_bulk(folder, _database_url(db), progress=progress)
        lines = ", ".join(f"{name} {count:,}" for name, count in sorted(read.resources.items()))
        console.print(f"read {sum(read.resources.values()):,} FHIR resources: {lines}", highlight=False)
        for what, count in sorted(read.skipped.items()):
            console.print(f"not imported: {count:,} {what}", highlight=False)
    else:
        assert folder is not None
        result = import_extract(folder, _database_url(db), progress=progress, catalogue=catalogue)
    table = Table(title=f"imported {result.source} in {result.seconds:.1f} s")
    for name in ("table", "inserted", "updated", "unchanged"):
        table.add_column(name, justify="left" if name == "table" else "right")
    for name, counts in result.tables.items():
        table.add_row(name, f"{counts.inserted:,}", f"{counts.updated:,}", f"{counts.unchanged:,}")
    console.print(table)
    _print_code_issues(console, result.code_issues)


def _print_code_issues(console: Console, issues: tuple[object, ...]) -> None:
    from onward.interop.service_catalogue import UNKNOWN, CodeIssue

    found = [i for i in issues if isinstance(i, CodeIssue)]
    if not found:
        return
    unknown = [i for i in found if i.kind == UNKNOWN]
    differ = [i for i in found if i.kind != UNKNOWN]
    console.print(
        f"service codes: {sum(i.rows for i in unknown):,} rows with {len(unknown)} code(s) "
        "not in the catalogue, "
        f"{sum(i.rows for i in differ):,} rows whose category disagrees with it (imported as given; "
        "listed at /admin/service-codes)",
        highlight=False,
    )
    for issue in found[:10]:
        console.print(f"  {issue.describe()}", highlight=False)
    if len(found) > 10:  # noqa: PLR2004
        console.print(f"  … and {len(found) - 10} more", highlight=False)


@app.command()
def export(
    folder: Annotated[Path, typer.Argument(help="Folder to write the extract to.", show_default=False)],
    recipient: Annotated[
        str | None,
        typer.Option("--for", help="Disclose to this recipient (named in the people's Part 2 consents)."),
    ] = None,
    purpose: Annotated[
        str | None, typer.Option(help="Why the records are disclosed (with --for), e.g. treatment.")
    ] = None,
    db: DbOption = None,
    fmt: Annotated[
        Literal["parquet", "csv"], typer.Option("--format", help="File format of the extract.")
    ] = "parquet",
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Export the event log to a folder, one file per table, rows sorted by id.

    With --for and --purpose it is a disclosure: substance-use (42 CFR Part 2) records are included
    only for people whose consent covers that recipient and purpose; the others are withheld and
    counted, the Part 2 notice is attached, and each disclosure is logged. Without --for it is an
    internal copy, audited and marked not for disclosure in its manifest.

    \b
    Example:
      onward export ./copy --format csv
      onward export ./for-riverside --for "Riverside Primary Care" --purpose treatment
    """
    from datetime import UTC, datetime

    from onward.cli._db import command_line_operator, open_database
    from onward.services.disclosure import export_records

    with open_database(db) as database:
        result = export_records(
            url=database.url,
            factory=database.factory,
            actor=command_line_operator(),
            folder=folder,
            fmt=fmt,
            now=datetime.now(UTC),
            recipient=recipient,
            purpose=purpose,
            progress=progress,
        )
    kind = (
        "internal copy, not for disclosure" if result.internal else f"disclosure to {recipient} for {purpose}"
    )
    table = Table(title=f"exported to {folder} ({fmt}): {kind}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("withheld (Part 2, no consent)", justify="right")
    for name, rows in result.rows.items():
        table.add_row(name, f"{rows:,}", f"{result.withheld_rows.get(name, 0):,}")
    Console().print(table)
    if not result.internal:
        Console(soft_wrap=True).print(
            f"{result.people_disclosed:,} people's records disclosed "
            f"({result.part2_people_disclosed:,} with Part 2 "
            f"records under consent); Part 2 records of {result.withheld_people:,} people withheld.",
            highlight=False,
        )


@app.command()
def backup(
    out: Annotated[Path, typer.Argument(help="File to write the backup to.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Copy the live database to a file, safely while it is in use.

    SQLite: its online backup API writes a SQLite file.

    PostgreSQL: runs pg_dump (custom format; restore with pg_restore), which must be on PATH.

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


@app.command()
def restore(
    backup_file: Annotated[
        Path, typer.Argument(metavar="FILE", help="A file `onward backup` wrote.", show_default=False)
    ],
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that already holds data.")
    ] = False,
) -> None:
    """Replace the database with a backup, checked first; all or nothing.

    The backup is checked before anything is touched (SQLite: integrity and foreign-key checks;
    PostgreSQL: pg_restore reads the whole archive) and must carry a schema revision this Onward knows.
    A database that holds data is replaced only with --force. The restore is one transaction: if it
    fails, the database is as it was. A backup from an older Onward is upgraded afterwards, and the
    restore is written to the audit log.

    \b
    Example:
      onward restore backups/onward-2026-11-25.sqlite
      onward restore backups/onward.dump --db postgresql+psycopg://onward@localhost/onward --force
    """
    from onward.store.engine import display_url
    from onward.store.restore import restore_database

    url = _database_url(db)
    result = restore_database(backup_file, url, force=force)
    console = Console(soft_wrap=True)
    replaced = sum(result.replaced.values())
    console.print(
        f"restored {backup_file} (sha256 {result.backup.sha256[:12]}, schema {result.backup.revision}) "
        f"into {display_url(url)}"
        + (f", replacing {replaced:,} rows" if replaced else "")
        + f"; schema now {result.revision}",
        highlight=False,
    )
    console.print(", ".join(f"{name} {rows:,}" for name, rows in result.rows.items()), highlight=False)
