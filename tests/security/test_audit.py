"""The audit log's hash chain: appends link up, and any edit, deletion or reordering is found."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from onward.security.audit import GENESIS_HASH, append_audit, canonical_entry, verify_audit_chain
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import AuditEntry

T0 = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)


def _session(url: str) -> Session:
    upgrade_database(url)
    return session_factory(create_db_engine(url))()


def _append_three(session: Session) -> list[AuditEntry]:
    entries = [
        append_audit(
            session=session,
            at=T0 + timedelta(minutes=i),
            user_id="u1",
            action="read",
            entity="person",
            entity_id=f"p{i}",
            detail="episodes page",
        )
        for i in range(3)
    ]
    session.commit()
    return entries


def test_entries_chain_from_the_genesis_hash(database_url: str) -> None:
    with _session(database_url) as session:
        first, second, third = _append_three(session)
        assert first.prev_hash == GENESIS_HASH
        assert second.prev_hash == first.hash and third.prev_hash == second.hash
        expected = hashlib.sha256(
            (
                GENESIS_HASH + '{"action":"read","at":"2026-01-05T08:30:00.000000Z","detail":"episodes page",'
                '"entity":"person","entity_id":"p0","user_id":"u1"}'
            ).encode()
        ).hexdigest()
        assert first.hash == expected
        assert verify_audit_chain(session=session) is None


def test_an_edited_entry_breaks_the_chain(database_url: str) -> None:
    with _session(database_url) as session:
        _, second, _ = _append_three(session)
        session.execute(
            update(AuditEntry).where(AuditEntry.entry_id == second.entry_id).values(entity_id="pX")
        )
        session.commit()
        assert verify_audit_chain(session=session) == second.entry_id


def test_a_deleted_entry_breaks_the_chain(database_url: str) -> None:
    with _session(database_url) as session:
        _, second, third = _append_three(session)
        session.execute(delete(AuditEntry).where(AuditEntry.entry_id == second.entry_id))
        session.commit()
        assert verify_audit_chain(session=session) == third.entry_id


def test_canonical_form_treats_naive_times_as_utc() -> None:
    naive = canonical_entry(
        at=T0.replace(tzinfo=None), user_id=None, action="a", entity="e", entity_id=None, detail=None
    )
    other_zone = T0.astimezone(timezone(timedelta(hours=-5)))
    aware = canonical_entry(at=other_zone, user_id=None, action="a", entity="e", entity_id=None, detail=None)
    assert naive == aware


def test_concurrent_appends_keep_one_unbroken_chain(database_url: str) -> None:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    factory = session_factory(engine)

    def writer(worker: int) -> None:
        for i in range(8):
            with factory() as session:
                append_audit(
                    session=session,
                    at=T0,
                    user_id=f"w{worker}",
                    action="read",
                    entity="person",
                    entity_id=str(i),
                )
                session.commit()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with factory() as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.entry_id)))
        assert len(entries) == 32
        assert len({e.prev_hash for e in entries}) == 32  # no two entries claim the same predecessor
        assert verify_audit_chain(session=session) is None
    engine.dispose()
