"""CLI command to serve the web app and the JSON API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from onward.cli._app import DbOption, app
from onward.errors import ConfigurationError
from onward.settings import Settings, load_settings


def require_initialised(url: str) -> None:
    """Refuse to work on a database that `onward init` has not created or upgraded to the newest schema."""
    from sqlalchemy.engine import make_url

    from onward.store.engine import display_url
    from onward.store.migrate import current_revision, head_revision

    parsed = make_url(url)
    database = parsed.database or ""
    is_file = parsed.get_backend_name() == "sqlite" and database and not database.startswith((":", "file:"))
    if is_file and not Path(database).exists():  # do not leave an empty file behind
        raise ConfigurationError(
            f"no database at {display_url(url)}; run `onward init` (or `onward demo`) first"
        )
    try:
        revision = current_revision(url)
    except Exception as error:  # a refused connection, a bad password: say where, not a traceback
        raise ConfigurationError(f"cannot open the database {display_url(url)}: {error}") from None
    if revision is None:
        raise ConfigurationError(
            f"the database {display_url(url)} is not initialised; run `onward init` first"
        )
    if revision != head_revision():
        raise ConfigurationError(
            f"the database {display_url(url)} is at schema {revision}, not {head_revision()}; "
            "run `onward init` to upgrade it"
        )


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: ONWARD_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default: ONWARD_PORT or 8000).")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes; sessions, throttles and the audit chain live in the database, so any "
            "worker answers any request.",
        ),
    ] = 1,
) -> None:
    """Serve the web app and the JSON API (/api/v1) over an initialised database.

    \b
    Example:
      onward init && onward users add admin --role admin
      onward serve --port 8000
      # then open http://127.0.0.1:8000/ and sign in
    """
    import uvicorn

    from onward.web.app import create_app

    settings = load_settings(database_url=db, host=host, port=port)
    settings.check_serving()
    require_initialised(settings.resolved_database_url)
    console = Console(soft_wrap=True, stderr=True)
    if settings.environment == "development":
        console.print(
            "[bold yellow]DEVELOPMENT MODE[/]: for trying Onward on this machine only. The secret key may be "
            "the placeholder and cookies are not marked Secure. Never use it with real records; set "
            "ONWARD_ENVIRONMENT=production and ONWARD_SECRET_KEY for real use.",
            highlight=False,
        )
    console.print(
        f"Onward is at http://{settings.host}:{settings.port}/ (API at /api/v1, {workers} worker"
        f"{'' if workers == 1 else 's'}, Ctrl+C stops)",
        highlight=False,
    )
    if workers == 1:
        uvicorn.run(
            create_app(settings, warm_metrics=True), host=settings.host, port=settings.port, log_level="info"
        )
        return
    # Several processes: each builds its app from the environment, so pass the resolved settings on.
    import os

    os.environ.update(settings_environment(settings))
    uvicorn.run(
        "onward.web.app:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="info",
    )


def settings_environment(settings: Settings) -> dict[str, str]:
    """ONWARD_* variables that reproduce `settings` in a worker process."""
    values = {
        "ONWARD_ENVIRONMENT": settings.environment,
        "ONWARD_DATA_DIR": str(settings.data_dir),
        "ONWARD_DATABASE_URL": settings.resolved_database_url,
        "ONWARD_SECRET_KEY": settings.secret_key,
        "ONWARD_SESSION_IDLE_MINUTES": str(settings.session_idle_minutes),
    }
    if settings.audit_key is not None:
        values["ONWARD_AUDIT_KEY"] = settings.audit_key.get_secret_value()
    if settings.public_url:
        values["ONWARD_PUBLIC_URL"] = settings.public_url
    return values
