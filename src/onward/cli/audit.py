"""CLI commands for the audit log: verify the keyed chain, search it, and a person's accounting."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onward.cli._app import DbOption, app
from onward.cli._db import command_line_operator, open_database
from onward.errors import ValidationError

audit_app = typer.Typer(
    name="audit",
    help="The audit log: verify its keyed chain, search it, and list a person's accounting of access.",
    no_args_is_help=True,
)
app.add_typer(audit_app)


@audit_app.command("verify")
def audit_verify(db: DbOption = None) -> None:
    """Check every entry of the audit log and the seal over its newest entry.

    Exits 0 when the log is intact; otherwise exits 1 and names the first bad entry. Needs the audit
    key (ONWARD_AUDIT_KEY, or the key file in the data folder).

    \b
    Example:
      onward audit verify --db sqlite:///onward-data/onward.sqlite
    """
    from onward.security.audit import verify_audit_chain

    with open_database(db) as database, database.factory() as session:
        verdict = verify_audit_chain(session=session)
    console = Console(soft_wrap=True)
    if verdict.intact:
        console.print(
            f"audit log intact: {verdict.entries:,} entries, chain and seal verified", highlight=False
        )
        return
    where = f"entry {verdict.first_bad_entry_id}: " if verdict.first_bad_entry_id is not None else ""
    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]audit log NOT intact[/] ({verdict.entries:,} entries read): {where}{verdict.reason}",
        highlight=False,
    )
    raise typer.Exit(1)


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"--{name} {value!r} is not a date", column=name, expected="YYYY-MM-DD"
        ) from None


@audit_app.command("search")
def audit_search(
    user: Annotated[str | None, typer.Option(help="Username or user id.")] = None,
    person: Annotated[str | None, typer.Option(help="Person id whose record was touched.")] = None,
    action: Annotated[
        str | None, typer.Option(help="read, login, export, disclose, break_glass, ...")
    ] = None,
    since: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Last day (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=5000, help="At most this many entries.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    db: DbOption = None,
) -> None:
    """Search the audit log, newest first (the search itself is audited).

    \b
    Example:
      onward audit search --action break_glass --from 2026-11-01
    """
    from onward.services.audit_log import AuditQuery, search_audit

    start, end = _day(since, "from"), _day(until, "to")
    query = AuditQuery(
        user=user,
        person_id=person,
        action=action,
        since=datetime.combine(start, time.min, UTC) if start else None,
        until=datetime.combine(end, time.min, UTC) + timedelta(days=1) if end else None,
        limit=limit,
    )
    with open_database(db) as database, database.factory() as session:
        lines = search_audit(
            session=session, actor=command_line_operator(), query=query, now=datetime.now(UTC)
        )
    if as_json:
        for line in lines:
            row = {k: getattr(line, k) for k in line.__slots__}
            print(json.dumps(row, default=str))
        return
    table = Table("#", "when (UTC)", "who", "action", "record", "person", "outcome", "detail")
    for line in lines:
        table.add_row(
            str(line.entry_id),
            f"{line.at:%Y-%m-%d %H:%M:%S}",
            f"{line.username or 'operator'} ({line.role or '-'})",
            line.action,
            f"{line.entity} {line.entity_id or ''}".strip(),
            line.person_id or "",
            line.outcome or "",
            (line.detail or "")[:80],
        )
    Console().print(table)


@audit_app.command("accounting")
def audit_accounting(
    person_id: Annotated[
        str, typer.Argument(help="The person whose accounting to list.", show_default=False)
    ],
    db: DbOption = None,
) -> None:
    """A person's accounting: who else saw, changed or received their record in the last 3 years.

    \b
    Example:
      onward audit accounting person-000123
    """
    from onward.services.audit_log import accounting_for

    with open_database(db) as database, database.factory() as session:
        lines = accounting_for(
            session=session, actor=command_line_operator(), person_id=person_id, now=datetime.now(UTC)
        )
    table = Table("when (UTC)", "who", "what", "detail", title=f"accounting for {person_id}")
    for line in lines:
        table.add_row(f"{line.at:%Y-%m-%d %H:%M}", line.who, line.what, (line.detail or "")[:80])
    Console().print(table)
