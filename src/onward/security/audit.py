"""The keyed, chained audit log (HIPAA §164.312(b) audit controls, §164.312(c)(1) integrity).

Each entry's hash is HMAC-SHA256, under a key kept outside the database, of the previous entry's hash
and the entry itself; a one-row seal holds a MAC over the newest entry and the number of entries.
Someone who can write to the database but does not hold the key cannot change, remove, reorder or
insert an entry, nor cut off the newest ones, without `verify_audit_chain` naming the first bad row.
Entries written before the keyed chain existed (scheme "sha256") stay verifiable as they were.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from onward.security.keys import session_audit_key
from onward.store.tables import AuditEntry
from onward.store.tables_security import AuditSeal

GENESIS_HASH = "0" * 64
SCHEME_LEGACY = "sha256"
SCHEME_KEYED = "hmac-sha256"
_PG_LOCK_KEY = 0x6F6E77617264  # "onward": one advisory lock serialises appends on PostgreSQL
_SEAL_ID = 1
_TAIL_READ_IN = "onward.audit.tail_read_in"  # session.info: the transaction that read the seal


def _utc_text(at: datetime) -> str:
    # SQLite hands back naive datetimes; both sides of the chain treat naive as UTC.
    aware = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened, by whom, to whose record, with what result: one future audit entry."""

    at: datetime
    user_id: str | None
    action: str
    entity: str
    entity_id: str | None = None
    detail: str | None = None
    role: str | None = None
    person_id: str | None = None
    outcome: str | None = "ok"
    request_id: str | None = None


def _canonical_legacy(entry: AuditEntry) -> str:
    body = {
        "action": entry.action,
        "at": _utc_text(entry.at),
        "detail": entry.detail,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "user_id": entry.user_id,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_event(event: AuditEvent) -> str:
    """The entry as canonical JSON (sorted keys, no spaces, UTC time): what the keyed hash covers."""
    body = {
        "action": event.action,
        "at": _utc_text(event.at),
        "detail": event.detail,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "outcome": event.outcome,
        "person_id": event.person_id,
        "request_id": event.request_id,
        "role": event.role,
        "user_id": event.user_id,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def keyed_hash(key: bytes, prev_hash: str, canonical: str) -> str:
    return hmac.new(key, (prev_hash + canonical).encode("utf-8"), hashlib.sha256).hexdigest()


def legacy_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def seal_mac(key: bytes, last_entry_id: int, last_hash: str, entries: int) -> str:
    message = f"onward-audit-seal|{last_entry_id}|{last_hash}|{entries}"
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def _event_of(entry: AuditEntry) -> AuditEvent:
    return AuditEvent(
        at=entry.at,
        user_id=entry.user_id,
        action=entry.action,
        entity=entry.entity,
        entity_id=entry.entity_id,
        detail=entry.detail,
        role=entry.role,
        person_id=entry.person_id,
        outcome=entry.outcome,
        request_id=entry.request_id,
    )


def _seal_of_transaction(session: Session) -> AuditSeal | None:
    """The seal over the newest entry, read fresh once per transaction after taking PostgreSQL's append
    lock; later appends of the same transaction (the audit writer's batches) use the same object, which
    they keep current. Sessions keep objects after commit, so a seal from an earlier transaction must
    never be trusted: `populate_existing` reads it again."""
    transaction = session.get_transaction()
    if session.info.get(_TAIL_READ_IN) is not transaction:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        seal = session.get(AuditSeal, _SEAL_ID, populate_existing=True)
        session.info[_TAIL_READ_IN] = transaction
        return seal
    return session.get(AuditSeal, _SEAL_ID)


def append_event(session: Session, event: AuditEvent, *, key: bytes | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction; the caller commits it with the work it records.

    On SQLite the caller's transaction should hold the write lock (BEGIN IMMEDIATE, see
    `onward.store.engine.begin_write`), so reading the tail and writing the entry cannot be interleaved
    (without it, SQLite refuses the write of a transaction whose snapshot another writer has outdated:
    an error, never a forked chain). On PostgreSQL an advisory lock, held to the end of the transaction,
    serialises appends. The seal holds the newest entry's hash, so the tail is read from it: one
    INSERT and one UPDATE of the seal per entry (two reads more for the first of a transaction).
    """
    secret = key if key is not None else session_audit_key(session)
    seal = _seal_of_transaction(session)
    canonical = canonical_event(event)
    if seal is None:  # the first entry, or a log from before the seal: count and read the tail once
        count = int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
        previous = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.entry_id.desc()).limit(1))
        seal = AuditSeal(
            seal_id=_SEAL_ID, last_entry_id=0, last_hash=previous or GENESIS_HASH, entries=count, mac=""
        )
        session.add(seal)
    prev_hash = seal.last_hash
    entry = AuditEntry(
        at=event.at,
        user_id=event.user_id,
        action=event.action,
        entity=event.entity,
        entity_id=event.entity_id,
        detail=event.detail,
        role=event.role,
        person_id=event.person_id,
        outcome=event.outcome,
        request_id=event.request_id,
        prev_hash=prev_hash,
        hash=keyed_hash(secret, prev_hash, canonical),
        scheme=SCHEME_KEYED,
    )
    session.add(entry)
    session.flush()  # the entry's id, which the seal names
    seal.entries += 1
    seal.last_entry_id = entry.entry_id
    seal.last_hash = entry.hash
    seal.mac = seal_mac(secret, seal.last_entry_id, seal.last_hash, seal.entries)
    session.flush()
    return entry


def append_audit(
    *,
    session: Session,
    at: datetime,
    user_id: str | None,
    action: str,
    entity: str,
    entity_id: str | None = None,
    detail: str | None = None,
    role: str | None = None,
    person_id: str | None = None,
    outcome: str | None = "ok",
    request_id: str | None = None,
) -> AuditEntry:
    """`append_event` with keyword arguments, for services that record their own writes."""
    return append_event(
        session,
        AuditEvent(
            at=at,
            user_id=user_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            detail=detail,
            role=role,
            person_id=person_id,
            outcome=outcome,
            request_id=request_id,
        ),
    )


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    """The result of checking the whole log: intact, or the first bad entry and why."""

    entries: int
    first_bad_entry_id: int | None
    reason: str | None

    @property
    def intact(self) -> bool:
        return self.first_bad_entry_id is None and self.reason is None


def _entries(session: Session) -> Iterator[AuditEntry]:
    yield from session.scalars(select(AuditEntry).order_by(AuditEntry.entry_id)).yield_per(2000)


def verify_audit_chain(*, session: Session, key: bytes | None = None) -> ChainVerdict:
    """Walk the log in order, recompute every link, and check the seal over the newest entry."""
    secret = key if key is not None else session_audit_key(session)
    expected_prev = GENESIS_HASH
    count = 0
    last: AuditEntry | None = None
    keyed_seen = False
    for entry in _entries(session):
        count += 1
        if entry.prev_hash != expected_prev:
            return ChainVerdict(count, entry.entry_id, "its link to the previous entry is broken")
        if entry.scheme == SCHEME_KEYED:
            keyed_seen = True
            recomputed = keyed_hash(secret, entry.prev_hash, canonical_event(_event_of(entry)))
        elif entry.scheme == SCHEME_LEGACY and not keyed_seen:
            recomputed = legacy_hash(entry.prev_hash, _canonical_legacy(entry))
        else:
            return ChainVerdict(count, entry.entry_id, f"unexpected hash scheme {entry.scheme!r}")
        if not hmac.compare_digest(entry.hash, recomputed):
            return ChainVerdict(count, entry.entry_id, "its content does not match its hash")
        expected_prev = entry.hash
        last = entry
    seal = session.get(AuditSeal, _SEAL_ID)
    if seal is None:
        if keyed_seen:
            return ChainVerdict(count, None, "the seal over the newest entry is missing")
        return ChainVerdict(count, None, None)
    if not hmac.compare_digest(seal.mac, seal_mac(secret, seal.last_entry_id, seal.last_hash, seal.entries)):
        return ChainVerdict(
            count, None, "the seal does not match its key (wrong key, or the seal was altered)"
        )
    if last is None or seal.last_entry_id != last.entry_id or seal.last_hash != last.hash:
        after = last.entry_id if last is not None else 0
        return ChainVerdict(
            count,
            seal.last_entry_id,
            f"entries after {after} are missing: the seal names entry {seal.last_entry_id}",
        )
    if seal.entries != count:
        return ChainVerdict(count, None, f"the seal counts {seal.entries} entries but {count} remain")
    return ChainVerdict(count, None, None)
