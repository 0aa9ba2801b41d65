"""`onward staff-mix`: service mix and caseload per clinician (docs/metrics.md, "Per clinician")."""

from __future__ import annotations

import json
from typing import Annotated

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
    source_url,
)


@app.command("staff-mix")
def staff_mix_command(
    data: DataOption = None,
    db: DbOption = None,
    backend: BackendOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    as_of: AsOfOption = None,
    program: Annotated[
        list[str] | None, typer.Option("--program", help="Only this program's staff (repeatable).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Per staff member: treatment and case-management minutes they delivered in the period, the
    treatment share, case-management minutes per treatment minute, and their caseload at its end.

    The same figures as the manager's access dashboard (/programs/access) for the same period. Not
    published figures: no small-cell suppression (staff minutes and caseloads of one's own programs).

    \b
    Example:
      onward staff-mix --from 2025-01-01 --to 2025-03-31 --program PRG001
      onward staff-mix --data ./extract --json
    """
    from onward.metrics.staff_mix import as_rows, compute_staff_mix

    log = open_source(data, source_url(data, db), backend)
    mix = compute_staff_mix(log, period=period_option(from_, to, as_of), program_ids=program or None)
    rows = as_rows(mix)
    if as_json:
        period = {"from": mix.period.start.isoformat(), "to": mix.period.end.isoformat()}
        typer.echo(json.dumps({"period": period, "staff": rows}, indent=2))
        return
    table = Table(title=f"Service mix and caseload per staff member, {mix.period.start} to {mix.period.end}")
    for name in (
        "staff",
        "program",
        "role",
        "hours",
        "treatment min",
        "CM min",
        "treatment share",
        "CM per treatment",
        "caseload",
    ):
        table.add_column(name, justify="left" if name in {"staff", "program", "role"} else "right")
    for r in rows:
        share, ratio = r["treatment_share"], r["cm_per_treatment"]
        table.add_row(
            r["staff_id"],
            r["program_id"],
            r["role"],
            str(r["hours_per_week"]),
            f"{r['treatment_minutes']:,}",
            f"{r['cm_minutes']:,}",
            "–" if share is None else f"{100 * share:.0f} %",
            "–" if ratio is None else f"{ratio:.2f}",
            str(r["caseload"]),
        )
    Console().print(table)
