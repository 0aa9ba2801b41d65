"""Break-glass: a clinician's emergency access to a person outside their caseload.

The clinician gives a reason and their password again; access lasts one hour, every use is audited
with the grant, and the grant appears in the person's accounting of who saw their record (HIPAA
§164.312(a)(2)(ii) emergency access procedure; 42 CFR §2.51 medical emergencies).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from onward.errors import AuthenticationError, NotFoundError, ValidationError
from onward.security.access import Actor, person_basis
from onward.security.audit import append_audit
from onward.security.passwords import verify_password
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.store.tables import Person, User
from onward.store.tables_security import BreakGlassGrant

#: One hour of access per grant (the issue's rule; HIPAA leaves the length to the covered entity).
BREAK_GLASS_LIFETIME = timedelta(hours=1)
MIN_REASON_LENGTH = 15


def break_glass(
    *, session: Session, actor: Actor, person_id: str, reason: str, password: str, now: datetime
) -> BreakGlassGrant:
    """Open one hour of access to `person_id` after re-authentication; audited whatever the outcome."""
    require_permission(actor, Permission.BREAK_GLASS)
    text = " ".join(reason.split())
    if len(text) < MIN_REASON_LENGTH:
        raise ValidationError(
            "say why you need this record now",
            column="reason",
            expected=f"at least {MIN_REASON_LENGTH} characters",
        )
    user = session.get(User, actor.user_id) if actor.user_id else None
    person = session.get(Person, person_id)
    session.commit()
    password_ok = user is not None and verify_password(user.password_hash, password)
    with write_transaction(session):
        outcome = "ok" if password_ok and person is not None else "refused"
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="break_glass",
            entity="person",
            entity_id=person_id,
            person_id=person_id if person is not None else None,
            detail=f"reason: {text}" + ("" if password_ok else " (password not confirmed)"),
            outcome=outcome,
        )
        if not password_ok:
            failed = "password"
        elif person is None:
            failed = "person"
        else:
            failed = ""
            grant = BreakGlassGrant(
                grant_id=uuid.uuid4().hex,
                user_id=actor.user_id or "",
                person_id=person_id,
                reason=text,
                granted_at=now,
                expires_at=now + BREAK_GLASS_LIFETIME,
            )
            session.add(grant)
    if failed == "password":
        raise AuthenticationError("the password is not correct; break-glass needs your password again")
    if failed == "person":
        raise NotFoundError(f"there is no person with id {person_id}")
    return grant


def already_visible(*, session: Session, actor: Actor, person_id: str, now: datetime) -> bool:
    """True when the actor may see the record without breaking the glass."""
    basis = person_basis(session, actor, person_id, now)
    session.commit()
    return basis is not None
