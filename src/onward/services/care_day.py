"""The day care is recorded and read on, and the ids new care records get.

Normally the care day is today. A database of synthetic data (`onward demo`) holds a history that
stops at the simulated county's last day; there the care day is that last day, so new measures,
services and flags fit the picture the demo shows (and writing on that day leaves it the last day).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from onward.services.provenance import synthetic_data_clause
from onward.store.tables import Episode, Measurement, Referral, Service


def _latest_dates() -> list[ScalarSelect[Any]]:
    # Each maximum is an index lookup.
    return [
        select(func.max(Referral.referral_date)).scalar_subquery(),
        select(func.max(Episode.start_date)).scalar_subquery(),
        select(func.max(Episode.end_date)).scalar_subquery(),
        select(func.max(Service.service_date)).scalar_subquery(),
        select(func.max(Measurement.measured_on)).scalar_subquery(),
    ]


def _latest(candidates: Sequence[date | None]) -> date | None:
    dates = [d for d in candidates if d is not None]
    return max(dates) if dates else None


def data_end(session: Session) -> date | None:
    """The latest recorded event date (docs/metrics.md `data_end`): referral, episode start or end,
    service or measurement; planned dates do not count."""
    return _latest(session.execute(select(*_latest_dates())).one())


def care_day(session: Session, now: datetime) -> date:
    """Today; in a synthetic database whose history ends earlier, the last day of that history."""
    today = now.date()
    # One statement (it runs on every care page); the latest dates are index lookups, read always.
    synthetic, *candidates = session.execute(select(synthetic_data_clause(), *_latest_dates())).one()
    end = _latest(candidates)
    return end if synthetic and end is not None and end < today else today


def new_id(prefix: str) -> str:
    """A new record id: a short prefix naming the kind of record and 128 random bits (uuid4)."""
    return f"{prefix}-{uuid.uuid4().hex}"


def record_id() -> str:
    """A new id for a pathway record (criteria, extension, link, response): 128 random bits in hex."""
    return uuid.uuid4().hex
