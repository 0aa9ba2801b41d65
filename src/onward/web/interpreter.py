"""A serving worker's interpreter: how often its lock changes hands, and what its garbage collector scans.

Both settings were measured with the load benchmark (`benchmarks/bench_web.py`: 50 users on the demo
county, two workers on two cores; figures in docs/benchmarks.md, "Web under load"). They apply to a
process that serves (`onward serve`, `onward demo`), not to the CLI or the tests.

**The lock's switch interval.** Request threads spend most of their wall time waiting on the database,
and each answer must take Python's global lock back from whichever thread holds it. A thread that wants
the lock waits up to the switch interval (5 ms by default) before the holder is asked to let go, and a
page makes about ten round trips. With the interval at 1 ms, the worst requests of the PostgreSQL runs
fell from 440-550 ms to 180-240 ms and the floor route's p95 from 67-132 ms to 57-65 ms.

**The collector's full passes.** Python's cyclic garbage collector scans every object it tracks on a
full (oldest-generation) pass, with the lock held, so every request in flight in that worker waits. A
worker that has imported the analytics stack and computed the published figures tracks about 380,000
objects; its full passes took 200-500 ms, one or two per worker in a 20 s run. `gc.freeze()` moves the
objects that exist at that moment into a permanent generation that passes skip; later passes scan only
what came after (35-80 ms measured). Frozen objects are still freed when their last reference goes; only
reference cycles among them would stay, so each settling first unfreezes and collects, and settling
happens only when a worker has built something it keeps: after the start-up warm-up and after each new
cube of published figures (at most once per `published_refresh_seconds` under clinical writes).
"""

from __future__ import annotations

import gc
import sys

#: Seconds a thread may hold Python's lock while another waits for it (the default is 0.005).
SWITCH_INTERVAL_SECONDS = 0.001


def tune_for_serving() -> None:
    """Hand the interpreter's lock on sooner (see the module docstring)."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)


def settle() -> None:
    """Collect what is garbage now, then freeze everything that is left (see the module docstring)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
