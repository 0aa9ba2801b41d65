"""The one path by which reads are audited: a writer thread per process that batches audit entries.

A read of a person's record must be audited, and must never fail because it is audited (SQLite has
one writer; under load a read that appended its own audit row inside its read transaction failed
with "database is locked"). So a page hands its audit event to this writer and waits, briefly, until
the entry is committed: the writer takes every event waiting, appends them in one write transaction
(`BEGIN IMMEDIATE` on SQLite, an advisory lock on PostgreSQL) and commits once, so fifty readers cost
one commit, not fifty. If the database stays busy past the wait, the page is served anyway and the
writer keeps the events and retries until they are stored; nothing is dropped while the process lives.

The same thread applies small bookkeeping updates that must not slow a request (a session's
last-seen time).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from onward.security.audit import AuditEvent, append_event
from onward.store.engine import begin_write
from onward.store.write_gate import write_gate

_log = logging.getLogger(__name__)

#: How long a request waits for its audit entry to be committed before it is served anyway.
DEFAULT_WAIT_SECONDS = 5.0
#: At most this many events in one transaction.
MAX_BATCH = 500
_RETRY_SECONDS = (0.05, 0.1, 0.2, 0.5, 1.0, 2.0)

Bookkeeping = Callable[[Session], None]


@dataclass(slots=True)
class _Job:
    event: AuditEvent | None = None
    chore: Bookkeeping | None = None
    done: threading.Event = field(default_factory=threading.Event)


class AuditWriter:
    """Batches audit events (and bookkeeping chores) from many request threads into few commits."""

    def __init__(self, factory: sessionmaker[Session], *, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
        self._factory = factory
        self._wait = wait_seconds
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = self._new_thread()
        self._started = False
        self._lock = threading.Lock()
        self.committed_batches = 0
        self.failed_attempts = 0

    def _new_thread(self) -> threading.Thread:
        return threading.Thread(target=self._run, name="audit-writer", daemon=True)

    def _ensure_started(self) -> None:
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True

    def record(self, event: AuditEvent) -> bool:
        """Queue `event` and wait until it is committed; True if it was, False if the wait ran out
        (the entry is still written later). Never raises."""
        self._ensure_started()
        job = _Job(event=event)
        self._queue.put(job)
        stored = job.done.wait(self._wait)
        if not stored:
            _log.warning(
                "audit entry for %s %s not yet committed; serving anyway", event.action, event.entity
            )
        return stored

    def later(self, chore: Bookkeeping, *, wait: bool = False) -> None:
        """Run `chore(session)` in the writer's next transaction (best effort; never raises). With
        `wait`, block until it is committed or the wait runs out."""
        self._ensure_started()
        job = _Job(chore=chore)
        self._queue.put(job)
        if wait:
            job.done.wait(self._wait)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed (used at shutdown and in tests)."""
        self._ensure_started()
        marker = _Job()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread. A later event starts a new one: an app whose
        lifespan ended (a server restarted in-process, a test client closed) keeps auditing instead of
        making every audited request wait out its timeout."""
        with self._lock:
            if not self._started:
                return
        self.flush(timeout)
        self._queue.put(None)
        self._thread.join(timeout)
        with self._lock:
            self._started = False
            self._thread = self._new_thread()

    def _take_batch(self) -> list[_Job] | None:
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                self._queue.put(None)  # stop after this batch
                break
            batch.append(job)
        return batch

    def _write(self, batch: list[_Job]) -> None:
        with self._factory() as session, write_gate(session):
            begin_write(session)
            for job in batch:
                if job.event is not None:
                    append_event(session, job.event)
            for job in batch:
                if job.chore is not None:
                    try:
                        with session.begin_nested():
                            job.chore(session)
                    except Exception:  # a chore is best effort; the audit entries must still land
                        _log.exception("bookkeeping update failed")
            session.commit()

    def _run(self) -> None:
        while True:
            batch = self._take_batch()
            if batch is None:
                return
            attempt = 0
            while True:
                try:
                    if any(job.event is not None or job.chore is not None for job in batch):
                        self._write(batch)
                    self.committed_batches += 1
                    break
                except Exception:
                    self.failed_attempts += 1
                    pause = _RETRY_SECONDS[min(attempt, len(_RETRY_SECONDS) - 1)]
                    _log.exception("audit write failed (attempt %d); retrying in %.2f s", attempt + 1, pause)
                    attempt += 1
                    time.sleep(pause)
            for job in batch:
                job.done.set()
