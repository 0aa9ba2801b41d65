"""The M/M/c queue (Erlang C) as an estimate of waiting: c servers (here, places in treatment the staff's
treatment hours can hold), arrivals at rate λ (referrals a day) and service at rate μ per server (one over
the mean length of an episode in days). Sources: docs/references.md ("Access: waiting and capacity").

It is an approximation: referrals do not arrive as a Poisson stream, episodes are not exponential, people
leave the list while waiting. Pages label it an estimate; `tests/model/test_queueing.py` checks it
against the county simulator (`onward.sim`) on either side of the capacity tipping point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits, with `servers` servers and offered load a = λ/μ (< servers).
    Computed through the Erlang B recursion (numerically stable for hundreds of servers)."""
    if servers <= 0:
        return 1.0
    if load <= 0:
        return 0.0
    if load >= servers:
        return 1.0
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    rho = load / servers
    return b / (1 - rho + rho * b)


@dataclass(frozen=True, slots=True)
class QueueEstimate:
    """The M/M/c mean wait in queue (days), or None when the queue grows without limit (ρ >= 1)."""

    arrivals_per_day: float
    service_days: float
    servers: int

    @property
    def load(self) -> float:
        return self.arrivals_per_day * self.service_days

    @property
    def utilisation(self) -> float:
        return math.inf if self.servers <= 0 else self.load / self.servers

    @property
    def wait_days(self) -> float | None:
        if self.servers <= 0 or self.utilisation >= 1:
            return None
        mu = 1 / self.service_days
        return erlang_c(self.servers, self.load) / (self.servers * mu - self.arrivals_per_day)


def mmc_wait_days(arrivals_per_day: float, service_days: float, servers: int) -> float | None:
    return QueueEstimate(arrivals_per_day, service_days, servers).wait_days
