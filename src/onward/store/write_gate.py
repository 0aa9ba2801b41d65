"""A queue for SQLite's one writer that wakes the next writer as soon as the lock is free.

SQLite lets one connection write at a time. A writer that finds the lock taken sleeps in SQLite's busy
handler for 1, 2, 5, 10, ... up to 100 ms between tries, without being woken when the lock frees
(https://www.sqlite.org/c3ref/busy_timeout.html). With two web processes each appending audit rows,
those sleeps, not the work, made the slow tail of audited reads under the load benchmark: a commit
that needed a few milliseconds waited 50-100 ms (docs/benchmarks.md, "Web under load").

So Onward's own writers (`services` write transactions and the audit writer) first take an exclusive
lock on a file beside the database (`<database>-writer.lock`, `flock(2)`, which excludes other processes
and other threads alike), then `BEGIN IMMEDIATE`. The gate only orders writers that take it; SQLite's
own locking still guarantees correctness for every other writer (an import, another tool), which
simply keeps SQLite's busy handler. A writer that cannot get the gate within the busy timeout goes on
without it and lets SQLite decide, so the gate never makes a write fail that SQLite would allow.
PostgreSQL needs no gate: its lock waits wake promptly.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

_log = logging.getLogger(__name__)

#: Between tries for a taken gate: short enough that handing over costs about a millisecond, long
#: enough that a waiting thread costs next to no CPU.
POLL_SECONDS = 0.001
SUFFIX = "-writer.lock"


def gate_path(session: Session) -> Path | None:
    """The gate file of the session's SQLite database file; None for PostgreSQL or in-memory SQLite."""
    bind = session.get_bind()
    url = bind.engine.url
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).with_name(Path(database).name + SUFFIX)


def _take(fd: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_SECONDS)


@contextmanager
def write_gate(session: Session, *, timeout: float = 5.0) -> Iterator[bool]:
    """Hold the database's writer gate for the block (yields whether it was taken). Enter it before the
    transaction's `BEGIN IMMEDIATE` and leave it after its commit or rollback."""
    path = gate_path(session)
    if path is None:
        yield False
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        taken = _take(fd, timeout)
        if not taken:
            _log.warning("writer gate %s still taken after %.1f s; writing without it", path, timeout)
        yield taken
    finally:
        os.close(fd)  # closing the descriptor releases its lock
