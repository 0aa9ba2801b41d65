"""Whether the database holds synthetic data, for the banner on every page.

The signal (`onward.services.provenance`): an import from an extract whose manifest says it is
synthetic (what `onward synth` writes), or the demo accounts `onward demo` creates (`demo-<role>`).
The answer is cached for a minute so pages do not ask on every request.
"""

from __future__ import annotations

import time

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from onward.services.provenance import holds_synthetic_data

_CACHE_SECONDS = 60.0


def is_synthetic(request: Request) -> bool:
    """The cached answer for this app's database."""
    state = request.app.state
    cached: tuple[float, bool] | None = getattr(state, "synthetic_cache", None)
    if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
        return cached[1]
    factory: sessionmaker[Session] = state.session_factory
    with factory() as session:
        answer = holds_synthetic_data(session)
    state.synthetic_cache = (time.monotonic(), answer)
    return answer
