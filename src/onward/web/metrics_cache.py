"""Suppressed metric views for the web, computed once per data version and kept until the data change.

Pages and the API answer only on calendar periods (a month, quarter or year) read as of a month end, and
every answer is a slice of one published cube (`onward.metrics.publish`): the whole hierarchy of months,
quarters and years, suppressed together. The cube is keyed by the database's data version (the latest
`imports` row, the row count of every event-log table, ended episodes and referrals with an outcome) and
the month end, while web traffic (sessions, audit rows) does not change it.

A new import is a publication: the next request computes the new cube. Clinical writes (a measure, a
service, an episode ended) trickle in all day; recomputing the whole suppressed cube (seconds) for each of
them would stall every dashboard behind a write lock. So after such writes the current cube keeps being
served and one background thread recomputes it, at most once per `published_refresh_seconds` (default
5 minutes); each answer says when its figures were computed (`period["computed_at"]`). A period's view
adds the figures that are not sums of months (the waits of a quarter or year, DRR-E), computed once per
period. Everything cached here is already suppressed (CMS cell-size policy): nothing unsuppressed is kept
in memory.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import func, select, table
from sqlalchemy.orm import Session

from onward.metrics.backends import EventLog, open_event_log
from onward.metrics.period import CalendarPeriod, Period
from onward.metrics.publish import (
    NO_PROGRAM,
    PublishedCube,
    answer,
    period_extras,
    program_names,
    publish,
    trend,
)
from onward.model.eventlog import EVENT_LOG
from onward.store.tables import Episode, ImportRecord, Referral
from onward.web import queries

#: How many period views and how many cubes (data version x month end) one app keeps; oldest dropped first.
CACHE_SIZE = 16
CUBES = 4
#: Clinical writes are looked for (a row count of every event table: milliseconds on SQLite, a scan of
#: each table on PostgreSQL) at most this often per process while published figures may lag them anyway
#: (ONWARD_PUBLISHED_REFRESH_SECONDS > 0); an import is seen on the next request. Under the load
#: benchmark the counts were a fifth of a metrics request's CPU (docs/benchmarks.md, "Web under load").
COUNT_SECONDS = 5.0

DataVersion = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class PeriodQuery:
    """What a page or API call asks for: a calendar period (None: the latest complete quarter) and the
    month end to read the data as of (None: the latest complete month)."""

    period: CalendarPeriod | None = None
    as_of: date | None = None


@dataclass
class MetricsView:
    """One period's figures as published: overall, by month, by program, by program and month."""

    period: dict[str, Any]  # {"period", "kind", "title", "from", "to", "as_of", "data_end", "latest_event"}
    metrics: dict[str, Any]  # overall figures, with a "suppressed" list of hidden keys
    by_month: list[dict[str, Any]]
    by_program: list[dict[str, Any]]
    by_program_month: list[dict[str, Any]]
    programs: dict[str, str]  # program_id -> name
    version: DataVersion
    seconds: float  # time the cube (once per data version) and this period's extras took
    trend: list[dict[str, Any]] = field(default_factory=list)  # up to 12 months ending with the period
    periods: list[CalendarPeriod] = field(default_factory=list)  # every period the cube publishes
    suppression: dict[str, Any] = field(default_factory=dict)  # the rule applied
    memo: dict[str, Any] = field(default_factory=dict)  # rendered pieces (charts) of this view
    program_trends: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # the trend per program

    @property
    def published(self) -> dict[str, Any]:
        """The `{"period", "metrics", "groups"}` object the report's chart helpers read."""
        groups = [
            *self.by_program_month,
            *({**g, "month": None} for g in self.by_program),
            *({**g, "program_id": None} for g in self.by_month),
        ]
        return {"period": self.period, "metrics": self.metrics, "groups": groups}


def latest_import(session: Session) -> tuple[Any, ...] | None:
    """The latest import's (id, finish time): one row by primary key, cheap on every request."""
    latest = session.execute(
        select(ImportRecord.import_id, ImportRecord.finished_at)
        .order_by(ImportRecord.import_id.desc())
        .limit(1)
    ).first()
    return tuple(latest) if latest is not None else None


def data_version(session: Session) -> DataVersion:
    """The latest import (id, finish time), then what clinical writes change: each event table's row
    count, the episodes ended and the referrals with an outcome (an update changes no row count)."""
    latest = latest_import(session)
    counts = tuple(session.scalar(select(func.count()).select_from(table(t.name))) or 0 for t in EVENT_LOG)
    ended = session.scalar(select(func.count(Episode.end_date)))
    outcomes = session.scalar(select(func.count(Referral.outcome_date)))
    return (latest, *counts, ended, outcomes)


def _same_import(a: DataVersion, b: DataVersion) -> bool:
    return bool(a[0] == b[0])


@dataclass
class _Cube:
    cube: PublishedCube
    log: EventLog
    programs: dict[str, str]
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.monotonic)  # when its computation began


class MetricsCache:
    """Cubes and period views of one database, least recently used dropped first; one computation at a
    time (the DuckDB copy of the store is shared, and concurrent identical requests compute once)."""

    def __init__(
        self,
        url: str,
        *,
        size: int = CACHE_SIZE,
        refresh_seconds: float = 300,
        after_new_cube: Callable[[], None] | None = None,
    ) -> None:
        self.url = url
        self.after_new_cube = after_new_cube  # a serving worker settles its heap (web/interpreter.py)
        self.size = size
        self.refresh_seconds = refresh_seconds
        self._refreshing: threading.Thread | None = None
        self._views: OrderedDict[tuple[DataVersion, date, CalendarPeriod], MetricsView] = OrderedDict()
        self._cubes: OrderedDict[tuple[DataVersion, date | None], _Cube] = OrderedDict()
        self._data_end: tuple[DataVersion, date | None] | None = None
        self._counted: tuple[DataVersion, float] | None = None  # the last data version and when it was read
        self._lock = threading.Lock()
        self._compute_lock = threading.Lock()
        self.computed = 0  # how many period views were computed (tests and timings read it)
        self.cubes_computed = 0

    def data_end(self, session: Session, version: DataVersion) -> date | None:
        """The latest recorded event date, remembered per data version."""
        with self._lock:
            if self._data_end is not None and self._data_end[0] == version:
                return self._data_end[1]
        end = queries.data_end(session)
        with self._lock:
            self._data_end = (version, end)
        return end

    def version(self, session: Session) -> DataVersion:
        """The data version: read afresh when an import happened since the last reading, when refresh
        is exact (`refresh_seconds` 0), or when the last reading is COUNT_SECONDS old."""
        latest = latest_import(session)
        if self.refresh_seconds > 0:
            with self._lock:
                counted = self._counted
            if (
                counted is not None
                and counted[0][0] == latest
                and time.monotonic() - counted[1] < min(COUNT_SECONDS, self.refresh_seconds)
            ):
                return counted[0]
        version = data_version(session)
        with self._lock:
            self._counted = (version, time.monotonic())
        return version

    def view(self, session: Session, query: PeriodQuery | Period | None = None) -> MetricsView | None:
        """The suppressed view of a period; None when there is no data. A `Period` without bounds (the
        app's warm-up) means the default view."""
        if not isinstance(query, PeriodQuery):
            query = PeriodQuery()
        version = self.version(session)
        if self.data_end(session, version) is None:
            return None
        cube_key = (version, query.as_of)
        with self._lock:
            held = self._cubes.get(cube_key)
            if held is None:
                served = self._served_meanwhile(cube_key)
                if served is not None:  # clinical writes since: serve it, refresh in the background
                    version, held = served
                    cube_key = (version, query.as_of)
        if held is not None and query.period is not None:
            hit = self._get((version, held.cube.as_of, query.period))
            if hit is not None:
                return hit
        with self._compute_lock:
            started = time.perf_counter()
            held = self._cube(cube_key)
            cube = held.cube
            period = query.period if query.period is not None else cube.default_period()
            cube.check(period)
            key = (version, cube.as_of, period)
            hit = self._get(key)
            if hit is not None:
                return hit
            published = answer(cube, period, period_extras(held.log, cube, period))
            computed = held.computed_at.replace(microsecond=0).isoformat().replace("+00:00", "Z")
            view = MetricsView(
                period={**published["period"], "computed_at": computed},
                metrics=published["metrics"],
                by_month=published["by_month"],
                by_program=published["by_program"],
                by_program_month=published["by_program_month"],
                programs={**held.programs, NO_PROGRAM: NO_PROGRAM},
                version=version,
                seconds=cube.seconds + time.perf_counter() - started,
                trend=trend(cube, period),
                program_trends={label: trend(cube, period, program=label) for label in cube.rows[:-1]},
                periods=list(cube.periods),
                suppression=published["suppression"],
            )
            with self._lock:
                self._views[key] = view
                while len(self._views) > self.size:
                    self._views.popitem(last=False)
                self.computed += 1
            return view

    def _served_meanwhile(self, key: tuple[DataVersion, date | None]) -> tuple[DataVersion, _Cube] | None:
        """The newest cube of the same import and month end, while the data differ from it only by
        clinical writes; starts its background refresh once it is `refresh_seconds` old. Under _lock."""
        version, as_of = key
        candidates = [(v, c) for (v, a), c in self._cubes.items() if a == as_of and _same_import(v, version)]
        if not candidates or self.refresh_seconds <= 0:
            return None
        newest = max(candidates, key=lambda vc: vc[1].started)
        if time.monotonic() - newest[1].started >= self.refresh_seconds and self._refreshing is None:
            self._refreshing = threading.Thread(
                target=self._refresh, args=(key,), name="published-figures-refresh", daemon=True
            )
            self._refreshing.start()
        return newest

    def _refresh(self, key: tuple[DataVersion, date | None]) -> None:
        try:
            with self._compute_lock:
                self._cube(key)
        except Exception:  # the figures served meanwhile stay; the next refresh tries again
            logging.getLogger(__name__).exception("refreshing the published figures failed")
        finally:
            with self._lock:
                self._refreshing = None

    def _cube(self, key: tuple[DataVersion, date | None]) -> _Cube:
        with self._lock:
            held = self._cubes.get(key)
            if held is not None:
                self._cubes.move_to_end(key)
                return held
        started = time.monotonic()
        log = open_event_log(db=self.url)
        held = _Cube(publish(log, as_of=key[1]), log, program_names(log), started=started)
        with self._lock:
            self._cubes[key] = held
            while len(self._cubes) > CUBES:
                self._cubes.popitem(last=False)
            self.cubes_computed += 1
        if self.after_new_cube is not None:
            self.after_new_cube()
        return held

    def _get(self, key: tuple[DataVersion, date, CalendarPeriod]) -> MetricsView | None:
        with self._lock:
            hit = self._views.get(key)
            if hit is not None:
                self._views.move_to_end(key)
            return hit


def metrics_cache(request: Request) -> MetricsCache:
    """The app's cache, made on first use (one per app, so per database)."""
    state = request.app.state
    cache: MetricsCache | None = getattr(state, "metrics_cache", None)
    if cache is None:
        with _attach_lock:
            cache = getattr(state, "metrics_cache", None)
            if cache is None:
                settings = state.settings
                cache = MetricsCache(
                    settings.resolved_database_url, refresh_seconds=settings.published_refresh_seconds
                )
                state.metrics_cache = cache
    return cache


_attach_lock = threading.Lock()
