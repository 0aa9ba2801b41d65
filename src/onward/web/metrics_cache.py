"""Suppressed metric views for the web, computed once per period and data version.

The full suite takes seconds on a county; pages must not. A view is keyed by the database's data version
(the latest `imports` row plus the row count of every event-log table), so a new import or any new row
invalidates it, while web traffic (sessions, audit rows) does not. Everything cached here is already
suppressed (CMS cell-size policy, `onward.security.suppression`): nothing unsuppressed is kept in memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import func, select, table
from sqlalchemy.orm import Session

from onward.metrics.backends import open_event_log
from onward.metrics.period import Period
from onward.metrics.report import NO_PROGRAM, gather, published
from onward.model.eventlog import EVENT_LOG
from onward.store.tables import ImportRecord
from onward.web import queries

#: How many (data version, period) views one app keeps; older ones are dropped first.
CACHE_SIZE = 16
#: The dashboard's default window: the last 12 months of data ("is the system going the right way?").
DEFAULT_MONTHS = 12

DataVersion = tuple[Any, ...]


@dataclass
class MetricsView:
    """One period's figures as published: overall, by month, by program, by program and month."""

    period: dict[str, Any]  # {"from", "to", "as_of", "data_end"}
    metrics: dict[str, Any]  # overall figures, with a "suppressed" list of hidden keys
    by_month: list[dict[str, Any]]
    by_program: list[dict[str, Any]]
    by_program_month: list[dict[str, Any]]
    programs: dict[str, str]  # program_id -> name
    version: DataVersion
    seconds: float  # time the suite and its suppression took to compute
    suppression: dict[str, Any] = field(default_factory=dict)  # the rule applied, as suppress_result says
    memo: dict[str, Any] = field(default_factory=dict)  # rendered pieces (charts) of this view

    @property
    def published(self) -> dict[str, Any]:
        """The `{"period", "metrics", "groups"}` object the report's chart helpers read."""
        groups = [
            *self.by_program_month,
            *({**g, "month": None} for g in self.by_program),
            *({**g, "program_id": None} for g in self.by_month),
        ]
        return {"period": self.period, "metrics": self.metrics, "groups": groups}


def data_version(session: Session) -> DataVersion:
    """The latest import (id, finish time) and each event table's row count: changes with the data."""
    latest = session.execute(
        select(ImportRecord.import_id, ImportRecord.finished_at)
        .order_by(ImportRecord.import_id.desc())
        .limit(1)
    ).first()
    counts = tuple(session.scalar(select(func.count()).select_from(table(t.name))) or 0 for t in EVENT_LOG)
    return (tuple(latest) if latest is not None else None, *counts)


def last_twelve_months(data_end: date) -> tuple[date, date]:
    """[start, data_end] covering the DEFAULT_MONTHS months that end at data_end (start is the day after
    the same date one year earlier)."""
    year, month = data_end.year - DEFAULT_MONTHS // 12, data_end.month
    day = min(data_end.day, 28) if month == 2 else data_end.day
    return date(year, month, day) + timedelta(days=1), data_end


class MetricsCache:
    """Views of one database, least recently used dropped first; one computation at a time."""

    def __init__(self, url: str, *, size: int = CACHE_SIZE) -> None:
        self.url = url
        self.size = size
        self._views: OrderedDict[tuple[DataVersion, Period], MetricsView] = OrderedDict()
        self._data_end: tuple[DataVersion, date | None] | None = None
        self._lock = threading.Lock()
        self._compute_lock = threading.Lock()
        self.computed = 0  # how many views were computed (tests and timings read it)

    def data_end(self, session: Session, version: DataVersion) -> date | None:
        """The latest recorded event date, remembered per data version."""
        with self._lock:
            if self._data_end is not None and self._data_end[0] == version:
                return self._data_end[1]
        end = queries.data_end(session)
        with self._lock:
            self._data_end = (version, end)
        return end

    def view(self, session: Session, period: Period) -> MetricsView | None:
        """The suppressed view of `period` (open bounds = the last 12 months); None when there is no data."""
        version = data_version(session)
        end = self.data_end(session, version)
        if end is None:
            return None
        if period.start is None and period.end is None:
            start, stop = last_twelve_months(period.as_of or end)
            period = Period(start, stop, period.as_of)
        key = (version, period)
        hit = self._get(key)
        if hit is not None:
            return hit
        with self._compute_lock:  # one computation at a time: the DuckDB copy is shared; no repeated work
            hit = self._get(key)
            if hit is not None:
                return hit
            view = self._compute(period, version)
            with self._lock:
                self._views[key] = view
                while len(self._views) > self.size:
                    self._views.popitem(last=False)
                self.computed += 1
            return view

    def _get(self, key: tuple[DataVersion, Period]) -> MetricsView | None:
        with self._lock:
            hit = self._views.get(key)
            if hit is not None:
                self._views.move_to_end(key)
            return hit

    def _compute(self, period: Period, version: DataVersion) -> MetricsView:
        started = time.perf_counter()
        data = gather(open_event_log(db=self.url), period=period)
        out = published(data, suppress=True)
        groups: list[dict[str, Any]] = out["groups"]
        n_cells = len(data.by_program_month)
        n_programs = len(data.by_program)
        return MetricsView(
            period=out["period"],
            metrics=out["metrics"],
            by_program_month=groups[:n_cells],
            by_program=[
                {k: v for k, v in g.items() if k != "month"} for g in groups[n_cells : n_cells + n_programs]
            ],
            by_month=[
                {k: v for k, v in g.items() if k != "program_id"} for g in groups[n_cells + n_programs :]
            ],
            programs={**data.programs, NO_PROGRAM: NO_PROGRAM},
            version=version,
            seconds=time.perf_counter() - started,
            suppression=dict(out.get("suppression", {})),
        )


def metrics_cache(request: Request) -> MetricsCache:
    """The app's cache, made on first use (one per app, so per database)."""
    state = request.app.state
    cache: MetricsCache | None = getattr(state, "metrics_cache", None)
    if cache is None:
        with _attach_lock:
            cache = getattr(state, "metrics_cache", None)
            if cache is None:
                cache = MetricsCache(state.settings.resolved_database_url)
                state.metrics_cache = cache
    return cache


_attach_lock = threading.Lock()
