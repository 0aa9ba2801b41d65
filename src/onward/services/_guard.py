"""What every service write shares: the permission check and one write transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from onward.errors import PermissionDeniedError
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.store.engine import begin_write


def require_permission(actor: Actor, permission: Permission) -> None:
    """Refuse (403) an actor without `permission`: the services check it again whoever calls them."""
    if not actor.may(permission):
        raise PermissionDeniedError(f"your role ({actor.role}) may not do this ({permission.value})")


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One write transaction: `BEGIN IMMEDIATE` on SQLite (wait for the write lock up front, never fail
    half-way), committed when the block ends, rolled back entirely on any error."""
    begin_write(session)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
