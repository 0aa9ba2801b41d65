"""`onward targets`: the targets in force per metric and program, their history, and setting them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onward.cli._app import DbOption, app
from onward.cli._db import command_line_operator, open_database

targets_app = typer.Typer(
    name="targets",
    help="Targets per metric and program (docs/targets.md): list with history, set, remove.",
    no_args_is_help=True,
)
app.add_typer(targets_app)

ProgramOption = Annotated[
    str | None,
    typer.Option("--program", help="A program id (default: the whole system).", show_default=False),
]


@targets_app.command("list")
def targets_list(
    metric: Annotated[
        str | None, typer.Option("--metric", help="Only this metric (a key of docs/metrics.md).")
    ] = None,
    show_history: Annotated[
        bool, typer.Option("--history", help="Every change, newest first, with who, when and why.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    db: DbOption = None,
) -> None:
    """The targets in force (set here, or a public default), or with --history every change.

    \b
    Example:
      onward targets list
      onward targets list --metric recovery_rate --history
    """
    from onward.model.own_page_metrics import ALL_METRICS
    from onward.services.targets import history, targets_in_force

    with open_database(db) as database, database.factory() as session:
        records: list[dict[str, object]]
        if show_history:
            rows = history(session, metric)
            records = [
                {
                    "target_id": r.target_id,
                    "metric": r.metric_key,
                    "program_id": r.program_id,
                    "value": r.value,
                    "margin": r.margin,
                    "status": r.status,
                    "reason": r.reason,
                    "set_by": r.set_by_name,
                    "set_at": r.set_at.isoformat(),
                    "decided_by": r.decided_by_name,
                }
                for r in rows
            ]
        else:
            records = [v.to_json() for v in targets_in_force(session) if metric in (None, v.metric_key)]
    if as_json:
        typer.echo(json.dumps(records, indent=2))
        return
    if show_history:
        table = Table("when", "metric", "program", "value", "status", "by", "why")
        for h in records:
            table.add_row(
                str(h["set_at"])[:16],
                str(h["metric"]),
                str(h["program_id"] or "system"),
                "" if h["value"] is None else str(h["value"]),
                str(h["status"]),
                str(h["set_by"]),
                str(h["reason"]),
            )
    else:
        table = Table("metric", "program", "target", "from", "why")
        for v in records:
            title = ALL_METRICS[str(v["metric"])].title
            table.add_row(
                title, str(v["program_id"] or "system"), str(v["target"]), str(v["origin"]), str(v["reason"])
            )
    Console().print(table)


@targets_app.command("set")
def targets_set(
    metric: Annotated[
        str,
        typer.Argument(
            help="The metric key (docs/metrics.md), or skills_coverage / voice_share_implemented (the "
            "system only).",
            show_default=False,
        ),
    ],
    value: Annotated[
        float,
        typer.Argument(help="The target: a share 0-1 for a rate, days for a wait, a number otherwise."),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why the target is set or changed (kept).")],
    program: ProgramOption = None,
    margin: Annotated[
        float | None,
        typer.Option(
            "--margin",
            help="The at-risk band in the metric's unit (default: none; a rate uses its 95 % interval).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Set the target of a metric for the system or one program (audited as the operator).

    \b
    Example:
      onward targets set recovery_rate 0.5 --reason "NHS Talking Therapies standard"
      onward targets set days_to_first_treatment_median 10 --program prog-01 --reason "new intake team"
      onward targets set skills_coverage 0.9 --reason "every lesson planned is taught"
    """
    from onward.services.targets import set_target

    with open_database(db) as database, database.factory() as session:
        row = set_target(
            session=session,
            actor=command_line_operator(),
            metric_key=metric,
            program_id=program,
            value=value,
            margin=margin,
            reason=reason,
            now=datetime.now(UTC),
        )
        scope = row.program_id or "the system"
        Console(soft_wrap=True).print(
            f"target {row.target_id} in force for {metric} ({scope})", highlight=False
        )


@targets_app.command("remove")
def targets_remove(
    metric: Annotated[str, typer.Argument(help="The metric key (docs/metrics.md).", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="Why the target is removed (kept).")],
    program: ProgramOption = None,
    db: DbOption = None,
) -> None:
    """Remove the target of a metric for the system (a public default too) or one program.

    \b
    Example:
      onward targets remove reliable_improvement_rate --reason "we report the US measures only"
    """
    from onward.services.targets import remove_target

    with open_database(db) as database, database.factory() as session:
        remove_target(
            session=session,
            actor=command_line_operator(),
            metric_key=metric,
            program_id=program,
            reason=reason,
            now=datetime.now(UTC),
        )
    Console(soft_wrap=True).print(f"target removed for {metric} ({program or 'the system'})", highlight=False)
