"""Opening the database from a command: settings, the keyed session factory, and the operator."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from onward.security.access import Actor, operator
from onward.settings import Settings, load_settings


@dataclass(frozen=True, slots=True)
class Database:
    settings: Settings
    url: str
    factory: sessionmaker[Session]


@contextmanager
def open_database(db: str | None, *, initialised: bool = True) -> Iterator[Database]:
    """The database of `--db` (or the settings), with sessions keyed for the audit log."""
    from onward.cli.web import require_initialised
    from onward.security.keys import audit_key
    from onward.store.engine import create_db_engine, session_factory

    settings = load_settings(database_url=db)
    url = settings.resolved_database_url
    if initialised:
        require_initialised(url)
    engine = create_db_engine(url)
    try:
        yield Database(settings, url, session_factory(engine, audit_key=audit_key(settings)))
    finally:
        engine.dispose()


def command_line_operator() -> Actor:
    """Whoever runs the command: audited as the operator, under their system login name."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return operator(f"cli:{name}")
