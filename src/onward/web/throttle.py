"""Per-client login throttle, on top of the per-account lockout in services/users.py.

A sliding window in memory: enough for one `onward serve` process. Several processes behind a
load balancer would each keep their own window (a known limit; put a shared throttle in the proxy).
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

#: At most this many login attempts per client address per window. A project choice: OWASP ASVS
#: V2.2.1 asks for anti-automation without fixing a number; 20 per 5 minutes still lets a person
#: behind a shared clinic NAT retry comfortably.
MAX_ATTEMPTS_PER_CLIENT = 20
WINDOW = timedelta(minutes=5)


class LoginThrottle:
    """Counts login attempts per client key in a sliding window."""

    def __init__(self, *, max_attempts: int = MAX_ATTEMPTS_PER_CLIENT, window: timedelta = WINDOW) -> None:
        self.max_attempts = max_attempts
        self.window = window
        self._attempts: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def attempt(self, key: str, now: datetime) -> timedelta | None:
        """Record an attempt; None when allowed, else how long until the next one is."""
        with self._lock:
            recent = self._attempts.setdefault(key, deque())
            while recent and now - recent[0] >= self.window:
                recent.popleft()
            if len(recent) >= self.max_attempts:
                return recent[0] + self.window - now
            recent.append(now)
            if len(self._attempts) > 10_000:  # forget idle clients so memory stays bounded
                self._attempts = {k: v for k, v in self._attempts.items() if v and now - v[-1] < self.window}
            return None
