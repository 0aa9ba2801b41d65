"""CLI commands for accounts: add staff, invite people, list, deactivate, reactivate, change role,
reset links and grants. Each goes through onward.services and is audited as the command-line operator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from onward.cli._app import DbOption, app
from onward.cli._db import command_line_operator, open_database

users_app = typer.Typer(
    name="users",
    help="Manage login accounts; each has one role: person, clinician, manager, leader, analyst, "
    "council_member or admin. People's own accounts come from invitations (`users invite`).",
    no_args_is_help=True,
)
app.add_typer(users_app)

UsernameArg = Annotated[str, typer.Argument(help="The account's username.", show_default=False)]


def _now() -> datetime:
    return datetime.now(UTC)


def _say(text: str) -> None:
    Console(soft_wrap=True).print(text, highlight=False)


@users_app.command("add")
def users_add(
    username: Annotated[
        str, typer.Argument(help="Login name: letters, digits, '.', '_' or '-'.", show_default=False)
    ],
    role: Annotated[
        str,
        typer.Option("--role", help="clinician, manager, leader, analyst, council_member or admin."),
    ],
    password: Annotated[
        str | None,
        typer.Option(help="The password (default: asked for, hidden). At least 12 characters."),
    ] = None,
    program: Annotated[
        list[str] | None, typer.Option("--program", help="A program id the user works in (repeatable).")
    ] = None,
    staff: Annotated[
        str | None, typer.Option("--staff", help="A clinician's staff id: the episodes they are assigned to.")
    ] = None,
    display_name: Annotated[
        str | None, typer.Option(help="Name shown in the app (default: the username).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a staff account with a role (and its programs, or a clinician's staff record).

    A person's own account is not added here: send them an invitation (`onward users invite`).

    \b
    Example:
      onward users add admin --role admin
      onward users add jlee --role clinician --staff st-0042 --program prog-001 --display-name "J. Lee"
    """
    from onward.services.users import create_user

    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_database(db) as database, database.factory() as session:
        user = create_user(
            session=session,
            username=username,
            role=role,
            password=password,
            display_name=display_name or username,
            program_ids=program or (),
            staff_id=staff,
            actor=command_line_operator(),
        )
        _say(f"added {user.username} ({user.role})")


@users_app.command("invite")
def users_invite(
    person_id: Annotated[str, typer.Argument(help="The person id the account is for.", show_default=False)],
    db: DbOption = None,
) -> None:
    """Print a one-time link with which a person sets up their own account (valid 7 days).

    Give the link to the person privately; they choose their username and password.

    \b
    Example:
      onward users invite person-000123
    """
    from onward.services.accounts import invite_person

    with open_database(db) as database, database.factory() as session:
        link = invite_person(
            session=session,
            actor=command_line_operator(),
            secret_key=database.settings.secret_key,
            person_id=person_id,
            now=_now(),
        )
        _say(
            f"{database.settings.base_url}{link.path}\n"
            f"(works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC)"
        )


@users_app.command("list")
def users_list(db: DbOption = None) -> None:
    """List every account with its role, programs and status.

    \b
    Example:
      onward users list --db sqlite:///onward-data/onward.sqlite
    """
    from onward.services.users import list_users

    with open_database(db) as database, database.factory() as session:
        users = list_users(session=session)
    table = Table("username", "name", "role", "programs", "staff", "person", "status", "last sign-in")
    for u in users:
        status = "inactive" if not u.is_active else "sign-in paused" if u.locked_until else "active"
        table.add_row(
            u.username,
            u.display_name or "",
            u.role,
            ", ".join(u.program_ids),
            u.staff_id or "",
            u.person_id or "",
            status,
            u.last_login_at.isoformat(timespec="minutes") if u.last_login_at else "never",
        )
    Console().print(table)


def _set_active(username: str, db: str | None, active: bool) -> None:
    from onward.services.accounts import set_active, user_by_name

    with open_database(db) as database, database.factory() as session:
        user = user_by_name(session=session, username=username)
        set_active(
            session=session, actor=command_line_operator(), user_id=user.user_id, active=active, now=_now()
        )
    _say(f"{username} {'reactivated' if active else 'deactivated; their sessions have ended'}")


@users_app.command("deactivate")
def users_deactivate(username: UsernameArg, db: DbOption = None) -> None:
    """Deactivate an account: it cannot sign in, and its open sessions end at once.

    \b
    Example:
      onward users deactivate jlee
    """
    _set_active(username, db, active=False)


@users_app.command("reactivate")
def users_reactivate(username: UsernameArg, db: DbOption = None) -> None:
    """Let a deactivated account sign in again.

    \b
    Example:
      onward users reactivate jlee
    """
    _set_active(username, db, active=True)


@users_app.command("role")
def users_role(
    username: UsernameArg,
    role: Annotated[str, typer.Argument(help="The new role.", show_default=False)],
    program: Annotated[
        list[str] | None, typer.Option("--program", help="A program id (repeatable; clinicians, managers).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Change an account's role (and programs); its sessions end so the new rights apply at once.

    \b
    Example:
      onward users role jlee manager --program prog-001 --program prog-002
    """
    from onward.services.accounts import change_role, user_by_name

    with open_database(db) as database, database.factory() as session:
        user = user_by_name(session=session, username=username)
        change_role(
            session=session,
            actor=command_line_operator(),
            user_id=user.user_id,
            role=role,
            program_ids=program,
            now=_now(),
        )
    _say(f"{username} is now a {role}")


@users_app.command("reset-link")
def users_reset_link(username: UsernameArg, db: DbOption = None) -> None:
    """Print a one-time password-reset link for an account (valid 24 hours); nobody else learns the password.

    \b
    Example:
      onward users reset-link jlee
    """
    from onward.services.accounts import reset_link, user_by_name

    with open_database(db) as database, database.factory() as session:
        user = user_by_name(session=session, username=username)
        link = reset_link(
            session=session,
            actor=command_line_operator(),
            secret_key=database.settings.secret_key,
            user_id=user.user_id,
            now=_now(),
        )
        _say(
            f"{database.settings.base_url}{link.path}\n"
            f"(works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC)"
        )


@users_app.command("grant")
def users_grant(
    username: UsernameArg,
    permission: Annotated[str, typer.Argument(help="identified_records", show_default=False)],
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the audit log).")],
    db: DbOption = None,
) -> None:
    """Grant a leader or analyst access to identified records, with a reason, until revoked.

    \b
    Example:
      onward users grant avi identified_records --reason "IRB-approved re-entry study 2026-14"
    """
    from onward.services.accounts import grant, user_by_name

    with open_database(db) as database, database.factory() as session:
        user = user_by_name(session=session, username=username)
        row = grant(
            session=session,
            actor=command_line_operator(),
            user_id=user.user_id,
            permission=permission,
            reason=reason,
            now=_now(),
        )
    _say(f"granted {permission} to {username} (grant {row.grant_id})")


@users_app.command("revoke-grant")
def users_revoke_grant(
    grant_id: Annotated[str, typer.Argument(help="The grant's id (from `users grant`).", show_default=False)],
    db: DbOption = None,
) -> None:
    """Revoke a grant; the account's sessions end at once.

    \b
    Example:
      onward users revoke-grant 3f2a...
    """
    from onward.services.accounts import revoke_grant

    with open_database(db) as database, database.factory() as session:
        revoke_grant(session=session, actor=command_line_operator(), grant_id=grant_id, now=_now())
    _say("grant revoked")
