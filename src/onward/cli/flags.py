"""`onward flags`: what needs a clinician's attention in every open episode (docs/flags.md)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onward.cli._app import DbOption, app
from onward.cli._options import AsOfOption, BackendOption, DataOption, parse_date, progress_bars, source_url

_HELP = """List the clinician flags of every open episode on a day (default: the latest recorded event).

Flags, most urgent first: risk (a risk item answered above 0: PHQ-9 item 9, EPDS item 10), deteriorating
(reliable deterioration), not_improving (no reliable improvement by week 8 of treatment), stuck (exactly the
episodes of the metric stuck_count), exit_passed (the planned exit is behind us), measure_overdue (no
measurement in 30 days while in treatment), ready_to_graduate (below caseness on two measurements in a
row, or reliable recovery held 4 weeks). Each row gives the day the flag's condition began (`since`) and
the scores and dates behind it. Rules, thresholds and sources: docs/flags.md.

Computed in the engine (DuckDB over an extract folder or a copy of a SQLite store; PostgreSQL on its
server), for all open episodes at once.

\b
Example:
  onward flags --data ./county --json > flags.json
  onward flags --db sqlite:///onward-data/onward.sqlite --as-of 2025-06-30
  onward flags --data ./county --episode EPI00000023 --episode EPI00000222
"""


@app.command("flags", help=_HELP)
def flags_command(
    data: DataOption = None,
    db: DbOption = None,
    backend: BackendOption = None,
    as_of: AsOfOption = None,
    episode: Annotated[
        list[str] | None, typer.Option("--episode", help="Only this episode (repeat for several).")
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print a JSON list of {episode_id, person_id, flag, since, reason}."),
    ] = False,
) -> None:
    from onward.metrics.backends import open_event_log
    from onward.metrics.flags import compute_flags, rules_from_settings
    from onward.settings import load_settings

    url = source_url(data, db)
    day = parse_date(as_of, "--as-of")
    err = Console(stderr=True)
    with progress_bars(err, label_width=12) as bars:
        task = bars.add_task("opening", total=2)
        log = open_event_log(data=data, db=url, backend=backend, with_items=True)
        bars.update(task, description="flagging", completed=1)
        result = compute_flags(
            log, as_of=day, episode_ids=episode, rules=rules_from_settings(load_settings())
        )
        bars.update(task, completed=2)
    if as_json:
        typer.echo(json.dumps([f.to_json() for f in result.flags], indent=2, ensure_ascii=False))
        return
    counts = Counter(f.flag for f in result.flags)
    summary = "".join(f", {name} {n:,}" for name, n in counts.items())
    table = Table(title=f"Flags on {result.as_of} ({result.open_episodes:,} open episodes{summary})")
    for column in ("flag", "episode", "person", "since", "reason"):
        table.add_column(column)
    for f in result.flags:
        table.add_row(f.flag, f.episode_id, f.person_id, f.since.isoformat(), f.reason)
    Console().print(table)
