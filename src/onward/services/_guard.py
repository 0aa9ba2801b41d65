"""What every service write shares: the permission check and one write transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.orm import Session

from onward.errors import PermissionDeniedError
from onward.security.access import Actor
from onward.security.audit import append_audit
from onward.security.policy import Permission
from onward.store.engine import begin_write
from onward.store.write_gate import write_gate


def require_permission(actor: Actor, permission: Permission) -> None:
    """Refuse (403) an actor without `permission`: the services check it again whoever calls them."""
    if not actor.may(permission):
        raise PermissionDeniedError(f"your role ({actor.role}) may not do this ({permission.value})")


def audit_by(
    session: Session,
    actor: Actor,
    now: datetime,
    action: str,
    entity: str,
    entity_id: str,
    detail: str,
    *,
    person_id: str | None = None,
) -> None:
    """Append the audit row of a service write by `actor` (who, role, request id), in its transaction."""
    append_audit(
        session=session,
        at=now,
        user_id=actor.user_id,
        role=actor.role,
        request_id=actor.request_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        person_id=person_id,
        detail=detail,
    )


@contextmanager
def write_transaction(session: Session) -> Iterator[Session]:
    """One write transaction: `BEGIN IMMEDIATE` on SQLite (wait for the write lock up front, never fail
    half-way), committed when the block ends, rolled back entirely on any error. On SQLite the writers
    queue at the database's writer gate first (`onward.store.write_gate`)."""
    with write_gate(session):
        begin_write(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
