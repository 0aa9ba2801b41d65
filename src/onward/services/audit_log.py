"""Reading the audit log: administrators search it, each person gets an accounting of who saw or
received their record (42 CFR §2.24 and HIPAA §164.528 accounting; Part 2 keeps it for 3 years),
and anyone holding the key verifies the chain. Searching the log is itself audited."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onward.errors import PermissionDeniedError
from onward.security.access import Actor
from onward.security.audit import append_audit
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.store.tables import AuditEntry, User
from onward.store.tables_security import Disclosure

#: 42 CFR §2.24 (2024 rule): an accounting covers disclosures of the past 3 years.
ACCOUNTING_YEARS = 3


@dataclass(frozen=True, slots=True)
class AuditQuery:
    user: str | None = None
    person_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 500


@dataclass(frozen=True, slots=True)
class AuditLine:
    entry_id: int
    at: datetime
    username: str | None
    role: str | None
    action: str
    entity: str
    entity_id: str | None
    person_id: str | None
    outcome: str | None
    detail: str | None
    request_id: str | None


def _lines(session: Session, rows: list[AuditEntry]) -> list[AuditLine]:
    ids = {r.user_id for r in rows if r.user_id}
    names = (
        dict(session.execute(select(User.user_id, User.username).where(User.user_id.in_(ids))).all())
        if ids
        else {}
    )
    return [
        AuditLine(
            entry_id=r.entry_id,
            at=r.at,
            username=names.get(r.user_id) if r.user_id else None,
            role=r.role,
            action=r.action,
            entity=r.entity,
            entity_id=r.entity_id,
            person_id=r.person_id,
            outcome=r.outcome,
            detail=r.detail,
            request_id=r.request_id,
        )
        for r in rows
    ]


def search_audit(*, session: Session, actor: Actor, query: AuditQuery, now: datetime) -> list[AuditLine]:
    """Entries matching `query`, newest first (at most `query.limit`); the search is audited."""
    require_permission(actor, Permission.AUDIT_LOG)
    statement = select(AuditEntry).order_by(AuditEntry.entry_id.desc()).limit(max(1, min(query.limit, 5000)))
    if query.user:
        user_ids = select(User.user_id).where(
            or_(User.username == query.user.lower(), User.user_id == query.user)
        )
        statement = statement.where(AuditEntry.user_id.in_(user_ids))
    if query.person_id:
        statement = statement.where(AuditEntry.person_id == query.person_id)
    if query.action:
        statement = statement.where(AuditEntry.action == query.action)
    if query.since:
        statement = statement.where(AuditEntry.at >= query.since)
    if query.until:
        statement = statement.where(AuditEntry.at < query.until)
    rows = list(session.scalars(statement))
    lines = _lines(session, rows)
    described = (
        ", ".join(f"{k}={v}" for k, v in asdict(query).items() if v is not None and k != "limit") or "all"
    )
    with write_transaction(session):
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="search",
            entity="audit_log",
            person_id=query.person_id,
            detail=f"{described}; {len(lines)} entries",
        )
    return lines


@dataclass(frozen=True, slots=True)
class AccountingLine:
    """One time someone other than the person saw, changed or received their record."""

    at: datetime
    who: str
    role: str | None
    what: str
    detail: str | None


def accounting_for(*, session: Session, actor: Actor, person_id: str, now: datetime) -> list[AccountingLine]:
    """Who accessed or received the person's record in the last 3 years, newest first: every audited
    read and write by someone else (break-glass included) and every disclosure."""
    own = actor.may(Permission.OWN_RECORD) and actor.person_id == person_id
    if not own and actor.role != "operator":
        raise PermissionDeniedError("only the person themself may see their accounting")
    since = now - timedelta(days=365 * ACCOUNTING_YEARS + 1)
    rows = list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.person_id == person_id, AuditEntry.at >= since)
            .where(or_(AuditEntry.user_id.is_(None), AuditEntry.role != "person"))
            .order_by(AuditEntry.entry_id.desc())
        )
    )
    lines = [
        AccountingLine(
            at=line.at,
            who=line.username or "command line operator",
            role=line.role,
            what={"read": "looked at your record", "break_glass": "emergency access (break-glass)"}.get(
                line.action, line.action.replace("_", " ")
            ),
            detail=line.detail,
        )
        for line in _lines(session, rows)
    ]
    for disclosure in session.scalars(
        select(Disclosure)
        .where(Disclosure.person_id == person_id, Disclosure.disclosed_at >= since)
        .order_by(Disclosure.disclosed_at.desc())
    ):
        lines.append(
            AccountingLine(
                at=disclosure.disclosed_at,
                who=disclosure.recipient,
                role=None,
                what=f"received records ({disclosure.purpose.replace('_', ' ')})",
                detail=disclosure.description,
            )
        )
    lines.sort(
        key=lambda line: line.at if line.at.tzinfo else line.at.replace(tzinfo=now.tzinfo), reverse=True
    )
    with write_transaction(session):
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="read",
            entity="accounting",
            entity_id=person_id,
            person_id=person_id,
            detail=f"accounting of access and disclosures: {len(lines)} lines",
        )
    return lines
