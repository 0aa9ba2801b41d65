"""A serving worker's heap: what it keeps for its lifetime is taken out of the collector's full passes.

Python's cyclic garbage collector scans every object it tracks on a full (oldest-generation) pass, with
the interpreter lock held, so every request in flight in that worker waits. A worker that has imported
the analytics stack and computed the published figures tracks about 380,000 objects: in the load
benchmark its full passes took 200-500 ms, one or two per worker in 20 s, enough to decide the p95
(docs/benchmarks.md, "Web under load"). `gc.freeze()` moves the objects that exist at that moment into a
permanent generation that passes skip; later passes scan only what came after (35-80 ms measured).

Frozen objects are still freed when their last reference goes; only reference cycles among them would
stay. So each settling first unfreezes and collects, and settling happens only when a worker has built
something it keeps: after the start-up warm-up and after each new cube of published figures (at most
once per `published_refresh_seconds` under clinical writes).
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what is garbage now, then freeze everything that is left (see the module docstring)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
