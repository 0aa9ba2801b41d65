"""The hash-chained audit log: each entry's hash covers the previous hash and the entry itself.

Changing, removing or reordering any entry breaks every hash after it, which `verify_audit_chain`
finds (HIPAA 164.312(b) audit controls and (c)(1) integrity).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from onward.store.tables import AuditEntry

GENESIS_HASH = "0" * 64
_PG_LOCK_KEY = 0x6F6E77617264  # "onward": one advisory lock serialises appends on PostgreSQL


def _utc_text(at: datetime) -> str:
    # SQLite hands back naive datetimes; both sides of the chain treat naive as UTC.
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_entry(
    *, at: datetime, user_id: str | None, action: str, entity: str, entity_id: str | None, detail: str | None
) -> str:
    """The entry as canonical JSON (sorted keys, no spaces, UTC time): what the hash covers."""
    body = {
        "action": action,
        "at": _utc_text(at),
        "detail": detail,
        "entity": entity,
        "entity_id": entity_id,
        "user_id": user_id,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, canonical: str) -> str:
    """sha256(prev_hash + canonical JSON of the entry), hex."""
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def append_audit(
    *,
    session: Session,
    at: datetime,
    user_id: str | None,
    action: str,
    entity: str,
    entity_id: str | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction; the caller commits it with the work it records."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    entry = AuditEntry(
        at=at,
        user_id=user_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        detail=detail,
        prev_hash=GENESIS_HASH,
        hash=GENESIS_HASH,
    )
    session.add(entry)
    # Inserting first takes SQLite's write lock, so no other append can slip in before we read the tail.
    session.flush()
    previous = session.scalar(
        select(AuditEntry.hash)
        .where(AuditEntry.entry_id < entry.entry_id)
        .order_by(AuditEntry.entry_id.desc())
        .limit(1)
    )
    entry.prev_hash = previous or GENESIS_HASH
    entry.hash = chain_hash(
        entry.prev_hash,
        canonical_entry(
            at=at, user_id=user_id, action=action, entity=entity, entity_id=entity_id, detail=detail
        ),
    )
    session.flush()
    return entry


def verify_audit_chain(*, session: Session) -> int | None:
    """The entry_id of the first entry whose link or hash is wrong, or None when the chain is intact."""
    expected_prev = GENESIS_HASH
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.entry_id)).yield_per(1000):
        recomputed = chain_hash(
            entry.prev_hash,
            canonical_entry(
                at=entry.at,
                user_id=entry.user_id,
                action=entry.action,
                entity=entry.entity,
                entity_id=entry.entity_id,
                detail=entry.detail,
            ),
        )
        if entry.prev_hash != expected_prev or entry.hash != recomputed:
            return entry.entry_id
        expected_prev = entry.hash
    return None
