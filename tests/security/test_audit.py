"""The keyed audit chain: appends link up under HMAC; an edit, deletion, reordering, insertion or cut-off
tail is found, also by someone who rewrites hashes without the key; the never-failing writer."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from onward.security.audit import (
    GENESIS_HASH,
    SCHEME_LEGACY,
    AuditEvent,
    append_audit,
    canonical_event,
    legacy_hash,
    verify_audit_chain,
)
from onward.security.audit_writer import AuditWriter
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import AuditEntry
from onward.store.tables_security import AuditSeal

T0 = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
KEY = b"k" * 16 + b"0123456789abcdef0123456789abcdef"
OTHER_KEY = b"x" * 48


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    with session_factory(engine, audit_key=KEY)() as s:
        yield s
    engine.dispose()


def _append_three(session: Session) -> list[AuditEntry]:
    entries = [
        append_audit(
            session=session,
            at=T0 + timedelta(minutes=i),
            user_id="u1",
            role="clinician",
            action="read",
            entity="person",
            entity_id=f"p{i}",
            person_id=f"p{i}",
            detail="episodes page",
            request_id=f"r{i}",
        )
        for i in range(3)
    ]
    session.commit()
    return entries


def test_entries_chain_from_the_genesis_hash_under_the_key(session: Session) -> None:
    first, second, third = _append_three(session)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    canonical = (
        '{"action":"read","at":"2026-01-05T08:30:00.000000Z","detail":"episodes page","entity":"person",'
        '"entity_id":"p0","outcome":"ok","person_id":"p0","request_id":"r0","role":"clinician","user_id":"u1"}'
    )
    assert first.hash == hmac.new(KEY, (GENESIS_HASH + canonical).encode(), hashlib.sha256).hexdigest()
    verdict = verify_audit_chain(session=session)
    assert verdict.intact and verdict.entries == 3


def test_the_wrong_key_does_not_verify(session: Session) -> None:
    _append_three(session)
    verdict = verify_audit_chain(session=session, key=OTHER_KEY)
    assert not verdict.intact and verdict.first_bad_entry_id is not None


def test_an_edited_entry_is_named(session: Session) -> None:
    _, second, _ = _append_three(session)
    session.execute(update(AuditEntry).where(AuditEntry.entry_id == second.entry_id).values(detail="nothing"))
    session.commit()
    verdict = verify_audit_chain(session=session)
    assert verdict.first_bad_entry_id == second.entry_id
    assert "content" in (verdict.reason or "")


def test_rewriting_hashes_without_the_key_is_found(session: Session) -> None:
    """Someone who can write to the database recomputes every hash with plain SHA-256: still caught."""
    first, _, _ = _append_three(session)
    previous = GENESIS_HASH
    for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.entry_id)):
        entry.detail = "rewritten"
        forged = AuditEvent(
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
        entry.prev_hash = previous
        entry.hash = hashlib.sha256((previous + canonical_event(forged)).encode()).hexdigest()
        previous = entry.hash
    session.commit()
    assert verify_audit_chain(session=session).first_bad_entry_id == first.entry_id


def test_a_deleted_middle_entry_is_named_by_its_successor(session: Session) -> None:
    _, second, third = _append_three(session)
    session.execute(delete(AuditEntry).where(AuditEntry.entry_id == second.entry_id))
    session.commit()
    assert verify_audit_chain(session=session).first_bad_entry_id == third.entry_id


def test_a_cut_off_tail_is_found_by_the_seal(session: Session) -> None:
    first, second, third = _append_three(session)
    session.execute(delete(AuditEntry).where(AuditEntry.entry_id == third.entry_id))
    session.commit()
    verdict = verify_audit_chain(session=session)
    assert not verdict.intact
    assert verdict.first_bad_entry_id == third.entry_id
    assert "missing" in (verdict.reason or "")


def test_a_forged_seal_over_a_shorter_log_is_found(session: Session) -> None:
    _, second, third = _append_three(session)
    session.execute(delete(AuditEntry).where(AuditEntry.entry_id == third.entry_id))
    seal = session.get(AuditSeal, 1)
    assert seal is not None
    seal.last_entry_id, seal.last_hash, seal.entries = second.entry_id, second.hash, 2
    session.commit()
    verdict = verify_audit_chain(session=session)
    assert not verdict.intact and "seal" in (verdict.reason or "")


def test_entries_before_the_keyed_chain_still_verify(session: Session) -> None:
    """An upgraded database keeps its unkeyed entries; new keyed entries chain on after them."""
    legacy = AuditEntry(
        at=T0,
        user_id="u0",
        action="create",
        entity="user",
        entity_id="u0",
        detail="old",
        prev_hash=GENESIS_HASH,
        hash="",
        scheme=SCHEME_LEGACY,
    )
    legacy.hash = legacy_hash(
        GENESIS_HASH,
        '{"action":"create","at":"2026-01-05T08:30:00.000000Z","detail":"old","entity":"user",'
        '"entity_id":"u0","user_id":"u0"}',
    )
    session.add(legacy)
    session.commit()
    entries = _append_three(session)
    assert entries[0].prev_hash == legacy.hash
    assert verify_audit_chain(session=session).intact
    session.execute(update(AuditEntry).where(AuditEntry.entry_id == legacy.entry_id).values(detail="changed"))
    session.commit()
    assert verify_audit_chain(session=session).first_bad_entry_id == legacy.entry_id


def test_concurrent_appends_keep_one_chain(database_url: str) -> None:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    factory = session_factory(engine, audit_key=KEY)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(10):
                with factory() as s:
                    s.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                    append_audit(
                        session=s,
                        at=T0,
                        user_id=f"w{worker}",
                        action="read",
                        entity="person",
                        entity_id=str(i),
                    )
                    s.commit()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory() as s:
        verdict = verify_audit_chain(session=s)
    engine.dispose()
    assert verdict.intact and verdict.entries == 40


def test_a_session_that_appends_again_later_chains_after_entries_written_meanwhile(
    database_url: str,
) -> None:
    """Sessions keep their objects after commit: the seal (the chain's tail) must be read afresh in each
    transaction, or a session's second append would link to a stale tail and fork the chain."""
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    factory = session_factory(engine, audit_key=KEY)

    def append(s: Session, who: str) -> None:
        s.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        append_audit(session=s, at=T0, user_id=who, action="read", entity="person")
        s.commit()

    try:
        with factory() as kept:
            append(kept, "first")
            seen = kept.get(AuditSeal, 1)  # held, as a page that showed the seal would hold it
            kept.commit()
            with factory() as other:
                append(other, "meanwhile")
                append(other, "meanwhile again")
            append(kept, "later")  # same session, new transaction
            newest = kept.scalars(select(AuditEntry).order_by(AuditEntry.entry_id)).all()
        with factory() as s:
            verdict = verify_audit_chain(session=s)
    finally:
        engine.dispose()
    assert [e.user_id for e in newest] == ["first", "meanwhile", "meanwhile again", "later"]
    assert newest[-1].prev_hash == newest[-2].hash
    assert verdict.intact and verdict.entries == 4 and seen is not None


def test_the_writer_commits_reads_in_batches_while_a_writer_holds_the_lock(sqlite_url: str) -> None:
    """A read's audit entry waits for SQLite's write lock instead of failing, and lands in the chain."""
    upgrade_database(sqlite_url)
    engine = create_db_engine(sqlite_url)
    factory = session_factory(engine, audit_key=KEY)
    writer = AuditWriter(factory, wait_seconds=10)
    blocker = engine.connect().execution_options(sqlite_begin="IMMEDIATE")
    blocker.begin()
    results: list[bool] = []

    def read(i: int) -> None:
        results.append(
            writer.record(AuditEvent(at=T0, user_id="u", action="read", entity="person", entity_id=str(i)))
        )

    threads = [threading.Thread(target=read, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    threading.Event().wait(0.3)  # readers are now waiting on the lock the blocker holds
    blocker.commit()
    blocker.close()
    for thread in threads:
        thread.join()
    writer.close()
    assert results == [True] * 20
    with factory() as s:
        verdict = verify_audit_chain(session=s)
        count = s.scalar(text("SELECT count(*) FROM audit_log"))
    engine.dispose()
    assert verdict.intact and count == 20
    assert writer.committed_batches < 20  # grouped: fewer commits than entries


def test_the_writer_serves_the_read_even_when_the_database_stays_locked(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)
    engine = create_db_engine(sqlite_url)
    factory = session_factory(engine, audit_key=KEY)
    writer = AuditWriter(factory, wait_seconds=0.2)
    blocker = engine.connect().execution_options(sqlite_begin="EXCLUSIVE")
    blocker.begin()
    stored = writer.record(AuditEvent(at=T0, user_id="u", action="read", entity="person", entity_id="p"))
    assert stored is False  # not yet written, but no exception reached the reader
    blocker.commit()
    blocker.close()
    assert writer.flush(30)
    writer.close()
    with factory() as s:
        assert s.scalar(text("SELECT count(*) FROM audit_log")) == 1
    engine.dispose()


def test_a_closed_writer_starts_again_for_the_next_entry(sqlite_url: str) -> None:
    """An app whose lifespan ended (a test client closed, a server restarted in-process) keeps auditing
    at once: the next entry starts a new writer thread instead of waiting out its timeout."""
    upgrade_database(sqlite_url)
    engine = create_db_engine(sqlite_url)
    factory = session_factory(engine, audit_key=KEY)
    writer = AuditWriter(factory, wait_seconds=5)
    assert writer.record(AuditEvent(at=T0, user_id="u", action="read", entity="person", entity_id="a"))
    writer.close()
    started = time.monotonic()
    assert writer.record(AuditEvent(at=T0, user_id="u", action="read", entity="person", entity_id="b"))
    assert time.monotonic() - started < 2
    writer.close()
    writer.close()  # closing twice is harmless
    with factory() as s:
        verdict = verify_audit_chain(session=s)
    engine.dispose()
    assert verdict.intact and verdict.entries == 2
