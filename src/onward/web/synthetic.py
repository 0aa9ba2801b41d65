"""Whether the database holds synthetic data, for the banner on every page.

The signal: `onward demo` fills the database from the simulator and then creates the demo accounts
(`services.users.ensure_demo_users`, usernames `demo-<role>`). Their presence marks a demo database.
The answer is cached for a minute so pages do not ask on every request.
"""

from __future__ import annotations

import time

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onward.services.users import DEMO_USERNAME_PREFIX
from onward.store.tables import User

_CACHE_SECONDS = 60.0


def has_demo_accounts(session: Session) -> bool:
    """True when any account was made by ensure_demo_users."""
    found = session.scalar(
        select(User.user_id).where(User.username.startswith(DEMO_USERNAME_PREFIX)).limit(1)
    )
    return found is not None


def is_synthetic(request: Request) -> bool:
    """The cached answer for this app's database."""
    state = request.app.state
    cached: tuple[float, bool] | None = getattr(state, "synthetic_cache", None)
    if cached is not None and time.monotonic() - cached[0] < _CACHE_SECONDS:
        return cached[1]
    factory: sessionmaker[Session] = state.session_factory
    with factory() as session:
        answer = has_demo_accounts(session)
    state.synthetic_cache = (time.monotonic(), answer)
    return answer
