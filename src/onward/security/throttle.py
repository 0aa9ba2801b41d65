"""Sign-in throttling in the database, so every worker process sees the same counts.

Only failures count (a clinic of colleagues signing in behind one address is never refused for
succeeding). Per account name (known or not, so a lock says nothing about whether an account exists)
and per client address, each with exponential backoff once over its limit. OWASP ASVS 4.0.3 V2.2.1
allows at most 100 failed attempts per hour per account; Onward allows 5 within an hour, then makes
the next attempt wait one minute, doubling with each further failure up to an hour (about a dozen
attempts an hour at most).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from onward.store.tables_security import LoginFailure

ACCOUNT = "account"
ADDRESS = "address"


@dataclass(frozen=True, slots=True)
class Limit:
    """`allowed` failures within `window`; past it, wait `first_wait` doubled per further failure."""

    allowed: int
    window: timedelta
    first_wait: timedelta = timedelta(minutes=1)
    longest_wait: timedelta = timedelta(hours=1)

    def wait_after(self, failures: int) -> timedelta:
        over = failures - self.allowed
        if over < 0:
            return timedelta(0)
        return min(self.first_wait * (1 << over), self.longest_wait)


LIMITS: dict[str, Limit] = {
    ACCOUNT: Limit(allowed=5, window=timedelta(hours=1)),
    # A shared clinic or school address: many people, so a higher bar (project choice).
    ADDRESS: Limit(allowed=30, window=timedelta(hours=1)),
}


def _recent(session: Session, scope: str, key: str, now: datetime) -> tuple[int, datetime | None]:
    limit = LIMITS[scope]
    count, last = session.execute(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.scope == scope,
            LoginFailure.key == key,
            LoginFailure.at > now - limit.window,
        )
    ).one()
    return int(count or 0), last


def wait_for(session: Session, scope: str, key: str, now: datetime) -> timedelta | None:
    """How long `key` must wait before its next attempt counts, or None when it may try now."""
    count, last = _recent(session, scope, key, now)
    if last is None:
        return None
    wait = LIMITS[scope].wait_after(count)
    last_aware = last if last.tzinfo is not None else last.replace(tzinfo=now.tzinfo)
    remaining = last_aware + wait - now
    return remaining if wait > timedelta(0) and remaining > timedelta(0) else None


def waits_for(session: Session, scope: str, keys: list[str], now: datetime) -> dict[str, timedelta]:
    """`wait_for` of many keys in one query (the accounts page lists every account's lock): only the
    keys that must wait appear."""
    limit = LIMITS[scope]
    rows = session.execute(
        select(LoginFailure.key, func.count(), func.max(LoginFailure.at))
        .where(LoginFailure.scope == scope, LoginFailure.at > now - limit.window)
        .group_by(LoginFailure.key)
    )
    wanted = set(keys)
    out: dict[str, timedelta] = {}
    for key, count, last in rows:
        if key not in wanted or last is None:
            continue
        wait = limit.wait_after(int(count or 0))
        last_aware = last if last.tzinfo is not None else last.replace(tzinfo=now.tzinfo)
        remaining = last_aware + wait - now
        if wait > timedelta(0) and remaining > timedelta(0):
            out[str(key)] = remaining
    return out


def record_failure(session: Session, scope: str, key: str, now: datetime) -> None:
    """Count a failed attempt (in the caller's transaction)."""
    session.add(LoginFailure(scope=scope, key=key[:160], at=now))


def forget(session: Session, scope: str, key: str) -> None:
    """A successful sign-in clears its account's failures (not its address's)."""
    session.execute(delete(LoginFailure).where(LoginFailure.scope == scope, LoginFailure.key == key))


def prune(session: Session, now: datetime) -> None:
    """Drop failures older than every window (kept small; called now and then)."""
    oldest = max(limit.window for limit in LIMITS.values())
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - oldest))
