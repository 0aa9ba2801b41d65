"""CLI command: demo — a synthetic county to browse, in one step."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onward.cli._app import DbOption, app
from onward.settings import load_settings

#: The demo county's size (issue 2: 20,000 people over 3 years) and seed; the same seed gives the same county.
DEMO_PEOPLE = 20_000
DEMO_YEARS = 3.0
DEMO_SEED = 2026


@app.command()
def demo(
    people: Annotated[int, typer.Option(min=100, help="People in the synthetic county.")] = DEMO_PEOPLE,
    years: Annotated[float, typer.Option(min=0.5, max=20, help="Years of history to simulate.")] = DEMO_YEARS,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same county.")] = DEMO_SEED,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the web app afterwards.")] = True,
    db: DbOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: ONWARD_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: ONWARD_PORT).")] = None,
) -> None:
    """Build a SYNTHETIC county and serve it: init + synth + import + one demo user per role + serve.

    Everything in the demo database is simulated; no real person is in it. Running it again with
    the same seed changes no data (imports are idempotent) and gives the demo users new passwords.

    \b
    Example:
      onward demo                       # 20,000 people over 3 years, then serve on :8000
      onward demo --people 2000 --no-serve
    """
    from onward.interop.extracts import import_extract
    from onward.metrics.voice import measure
    from onward.security.keys import audit_key
    from onward.services.skills_demo import seed_skills_demo
    from onward.services.users import ensure_demo_users
    from onward.services.voice_demo import seed_voice_demo
    from onward.sim.synth import write_synthetic_county
    from onward.store.engine import create_db_engine, display_url, session_factory
    from onward.store.migrate import upgrade_database

    console = Console(soft_wrap=True)
    # The demo is synthetic and local: development mode (a placeholder secret, cookies without Secure).
    settings = load_settings(database_url=db, host=host, port=port, environment="development")
    url = settings.resolved_database_url
    started = time.perf_counter()

    revision = upgrade_database(url)
    console.print(f"[bold]1/4[/] database {display_url(url)} at schema {revision}", highlight=False)

    extract = Path(settings.data_dir) / "demo-extract"
    console.print(
        f"[bold]2/4[/] simulating {people:,} people over {years:g} years (seed {seed}) into {extract}"
    )
    written = write_synthetic_county(
        extract, people=people, years=years, seed=seed, fmt="parquet", progress=True
    )
    console.print("     " + ", ".join(f"{name} {count:,}" for name, count in written.items()))

    console.print("[bold]3/4[/] importing the synthetic event log")
    result = import_extract(extract, url, progress=True)
    inserted = sum(c.inserted for c in result.tables.values())
    updated = sum(c.updated for c in result.tables.values())
    unchanged = sum(c.unchanged for c in result.tables.values())
    console.print(
        f"     {inserted:,} rows inserted, {updated:,} updated, {unchanged:,} unchanged "
        f"in {result.seconds:.1f} s",
        highlight=False,
    )

    engine = create_db_engine(url)
    try:
        with session_factory(engine, audit_key=audit_key(settings))() as session:
            accounts = ensure_demo_users(session=session)
            accounts += seed_skills_demo(session=session)  # SYNTHETIC classes, parents, logs, screens
            seed_voice_demo(  # SYNTHETIC council, campaign and ideas at every stage
                session=session,
                measure=lambda key, start, end: measure(url, key, start, end),
                rule=settings.council_rule,
            )
    finally:
        engine.dispose()
    table = Table(title="[bold]4/4[/] demo users (synthetic data; passwords change at every run)")
    for column in ("username", "role", "password"):
        table.add_column(column)
    for username, role, password in accounts:
        table.add_row(username, role, password)
    console.print(table)
    console.print(f"Ready in {time.perf_counter() - started:.1f} s.")

    if serve:
        import uvicorn

        from onward.web.app import create_app

        console.print(f"Serving on http://{settings.host}:{settings.port}/ (Ctrl+C stops)")
        uvicorn.run(
            create_app(settings, warm_metrics=True),
            host=settings.host,
            port=settings.port,
            log_level="warning",
        )
