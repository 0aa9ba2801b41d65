"""CLI commands for the web app and its accounts: serve, users add, users list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onward.cli._app import DbOption, app
from onward.errors import ConfigurationError
from onward.settings import load_settings

users_app = typer.Typer(
    name="users",
    help="Manage login accounts; each has one role: person, clinician, manager, leader, analyst, "
    "council_member or admin.",
    no_args_is_help=True,
)
app.add_typer(users_app)


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
    require_initialised(settings.resolved_database_url)
    Console(soft_wrap=True).print(
        f"Onward is at http://{settings.host}:{settings.port}/ (API at /api/v1, Ctrl+C stops)",
        highlight=False,
    )
    uvicorn.run(
        create_app(settings, warm_metrics=True), host=settings.host, port=settings.port, log_level="info"
    )


@users_app.command("add")
def users_add(
    username: Annotated[
        str, typer.Argument(help="Login name: letters, digits, '.', '_' or '-'.", show_default=False)
    ],
    role: Annotated[
        str,
        typer.Option("--role", help="person, clinician, manager, leader, analyst, council_member or admin."),
    ],
    password: Annotated[
        str | None,
        typer.Option(help="The password (default: asked for, hidden). Staff: at least 12 characters."),
    ] = None,
    program: Annotated[
        list[str] | None, typer.Option("--program", help="A program id the user works in (repeatable).")
    ] = None,
    person: Annotated[
        str | None, typer.Option("--person", help="Person id a person account belongs to.")
    ] = None,
    display_name: Annotated[
        str | None, typer.Option(help="Name shown in the app (default: the username).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a login account with a role (and its programs, or the person it belongs to).

    \b
    Example:
      onward users add admin --role admin
      onward users add jlee --role clinician --program prog-001 --display-name "J. Lee"
    """
    from onward.services.users import create_user
    from onward.store.engine import create_db_engine, session_factory

    url = load_settings(database_url=db).resolved_database_url
    require_initialised(url)
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            user = create_user(
                session=session,
                username=username,
                role=role,
                password=password,
                display_name=display_name or username,
                program_ids=program or (),
                person_id=person,
            )
            Console(soft_wrap=True).print(f"added {user.username} ({user.role})", highlight=False)
    finally:
        engine.dispose()


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """List every account with its role, programs and status.

    \b
    Example:
      onward users list --db sqlite:///onward-data/onward.sqlite
    """
    from onward.services.users import list_users
    from onward.store.engine import create_db_engine, session_factory

    url = load_settings(database_url=db).resolved_database_url
    require_initialised(url)
    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            users = list_users(session=session)
    finally:
        engine.dispose()
    table = Table("username", "name", "role", "programs", "person", "active", "last sign-in")
    for u in users:
        table.add_row(
            u.username,
            u.display_name or "",
            u.role,
            ", ".join(u.program_ids),
            u.person_id or "",
            "yes" if u.is_active else "no",
            u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "never",
        )
    Console().print(table)
