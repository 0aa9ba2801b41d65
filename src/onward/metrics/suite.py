"""The whole metric suite in one call: build every tally, run it on the backend, finish in Python."""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from onward.errors import ValidationError
from onward.metrics import access, flow, outcomes, quality, service_mix
from onward.metrics.backends import EventLog, fetch_arrow, quiet_engine_warnings
from onward.metrics.period import Period, ResolvedPeriod
from onward.metrics.registry import METRICS
from onward.metrics.scope import (
    GROUP_COLUMNS,
    Bag,
    Figure,
    GroupKey,
    Records,
    Scope,
    Tally,
    make_scope,
    month_label,
)

_AREAS: tuple[Any, ...] = (flow, service_mix, access, outcomes, quality)

GroupId = tuple[str | None, ...]
Value = float | int | None


@dataclass(frozen=True)
class GroupResult:
    """One cell of the breakdown: its key ({"program_id": ..., "month": "YYYY-MM"}) and figures."""

    key: dict[str, str | None]
    figures: dict[str, Figure]

    def values(self) -> dict[str, Value]:
        return {k: f.value for k, f in self.figures.items()}


@dataclass(frozen=True)
class MetricsResult:
    """Every metric of docs/metrics.md for a period, overall and per group."""

    period: ResolvedPeriod
    by: tuple[GroupKey, ...]
    figures: dict[str, Figure]
    groups: list[GroupResult] = field(default_factory=list)
    backend: str = ""

    @property
    def metrics(self) -> dict[str, Value]:
        return {k: f.value for k, f in self.figures.items()}

    def to_json(self, *, with_parts: bool = False) -> dict[str, Any]:
        """`{"period": {...}, "metrics": {key: value}, "groups": [{group keys..., key: value}]}`.

        `with_parts` adds `<key>__numerator` and `<key>__denominator` beside every rate, ratio and day
        figure: the counts small-cell suppression acts on (for a day figure: treated and all episodes).
        """
        return {
            "period": self.period.to_json(),
            "metrics": _flat(self.figures, with_parts),
            "groups": [{**g.key, **_flat(g.figures, with_parts)} for g in self.groups],
        }


def _flat(figures: dict[str, Figure], with_parts: bool) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for key, figure in figures.items():
        out[key] = figure.value
        if with_parts and METRICS[key].has_parts:
            out[f"{key}__numerator"] = figure.numerator
            out[f"{key}__denominator"] = figure.denominator
    return out


def compute_metrics(
    log: EventLog,
    *,
    period: Period,
    by: Sequence[str] = (),
    metrics: Sequence[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> MetricsResult:
    """Compute the suite (or only the `metrics` keys asked, running only the queries they need) on the
    log's own backend.

    `progress(name, done, total)` is called before each aggregate query runs (and once at the end).
    Results over a log with a known data version (a SQLite store) are cached until the data changes;
    treat the returned object as read-only.
    """
    keys = _wanted(metrics)
    key = (log.source, log.version, period, tuple(by), keys) if log.version is not None else None
    with log.lock:  # concurrent identical requests compute once; the rest find the cache
        if key is not None:
            with _cache_lock:
                hit = _results.get(key)
            if hit is not None:
                if progress is not None:
                    progress("cached", 1, 1)
                return hit
        result = _compute(log, period=period, by=by, keys=keys, progress=progress)
        if key is not None:
            with _cache_lock:
                _results[key] = result
                while len(_results) > _CACHE_SIZE:
                    _results.pop(next(iter(_results)))
    return result


_CACHE_SIZE = 64
_cache_lock = threading.Lock()
_results: dict[tuple[Any, ...], MetricsResult] = {}


def _wanted(metrics: Sequence[str] | None) -> tuple[str, ...]:
    if metrics is None:
        return tuple(METRICS)
    unknown = [k for k in metrics if k not in METRICS]
    if unknown:
        raise ValidationError(f"unknown metric(s) {', '.join(unknown)}", expected=", ".join(METRICS))
    return tuple(k for k in METRICS if k in set(metrics))


def _compute(
    log: EventLog,
    *,
    period: Period,
    by: Sequence[str],
    keys: tuple[str, ...],
    progress: Callable[[str, int, int], None] | None,
) -> MetricsResult:
    needed = {name for area in _AREAS for k in keys for name in area.NEEDS.get(k, ())}
    with quiet_engine_warnings():
        scope = make_scope(log, period, by)
        tallies: list[Tally] = [t for area in _AREAS for t in area.tallies(scope, needed)]
        results: dict[str, Records] = {}
        overall_results: dict[str, Records] = {}
        for done, tally in enumerate(tallies):
            if progress is not None:
                progress(tally.name, done, len(tallies))
            table = fetch_arrow(tally.expr, log)
            if tally.summarise is None:
                results[tally.name] = _records(table)
            else:
                results[tally.name] = _records(tally.summarise(table, scope.group_columns))
                overall_results[tally.name] = _records(tally.summarise(table, []))
        if progress is not None:
            progress("done", len(tallies), len(tallies))
        programs_table = fetch_arrow(scope.tables["programs"].select("program_id"), log)
        programs = programs_table.column(0).to_pylist()
    overall, by_group = _bags(scope, tallies, results)
    overall.update(overall_results)
    grid = _grid(scope, programs, by_group)
    figures = _figures(overall, keys)
    groups = [GroupResult(_key_dict(scope, gid), _figures(by_group.get(gid, {}), keys)) for gid in grid]
    return MetricsResult(scope.period, scope.by, figures, groups, log.backend)


def _records(table: pa.Table) -> Records:
    """Rows as dicts, with month as 'YYYY-MM' and program_id as text, converted column-wise (fast)."""
    names = table.column_names
    if "month" in names:
        table = table.set_column(names.index("month"), "month", _month_labels(table.column("month")))
    if "program_id" in names and not pa.types.is_string(table.schema.field("program_id").type):
        table = table.set_column(
            names.index("program_id"), "program_id", table.column("program_id").cast(pa.string())
        )
    return table.to_pylist()  # type: ignore[no-any-return]


def _month_labels(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return pc.utf8_slice_codeunits(column, 0, 7)
    if pa.types.is_date(column.type):
        column = column.cast(pa.timestamp("s"))
    return pc.strftime(column, format="%Y-%m")


def _group_id(scope: Scope, record: dict[str, Any]) -> GroupId:
    return tuple(record[GROUP_COLUMNS[k]] for k in scope.by)


def _bags(
    scope: Scope, tallies: Iterable[Tally], results: dict[str, Records]
) -> tuple[dict[str, Records], dict[GroupId, dict[str, Records]]]:
    """Split each tally's rows into the overall bag and per-group bags.

    A point-in-time tally grouped by month carries an extra row set with month None: the value at `to`,
    which is the overall figure (a census is not a sum over months).
    """
    overall: dict[str, Records] = defaultdict(list)
    groups: dict[GroupId, dict[str, Records]] = defaultdict(lambda: defaultdict(list))
    by_month = "month" in scope.by
    columns = [GROUP_COLUMNS[k] for k in scope.by]
    for tally in tallies:
        split = tally.point_in_time and by_month
        everything = overall[tally.name]
        for record in results[tally.name]:
            at_to = split and record["month"] is None
            if at_to or not split:
                everything.append(record)
            if columns and not at_to:
                groups[tuple(record[c] for c in columns)][tally.name].append(record)
    return overall, groups


def _figures(bag: Bag, keys: Sequence[str]) -> dict[str, Figure]:
    computed: dict[str, Figure] = {}
    for area in _AREAS:
        computed.update(area.figures(bag))
    return {key: computed[key] for key in keys}


def _normalise(record: dict[str, Any]) -> dict[str, Any]:
    """One engine row with month as 'YYYY-MM' and program_id as text (row-wise form of `_records`)."""
    out = dict(record)
    if "month" in out:
        out["month"] = month_label(out["month"])
    if out.get("program_id") is not None:
        out["program_id"] = str(out["program_id"])
    return out


def _grid(scope: Scope, programs: Sequence[Any], seen: Iterable[GroupId]) -> list[GroupId]:
    """Every program x every month of the period (empty groups included), then any other key seen."""
    if not scope.by:
        return []
    axes: list[Sequence[str | None]] = []
    for key in scope.by:
        if key == "program":
            axes.append([str(i) for i in sorted(programs)])
        else:
            axes.append([month_label(m) for m in scope.period.months()])
    grid = [tuple(combo) for combo in itertools.product(*axes)]
    known = set(grid)
    extra = sorted((g for g in seen if g not in known), key=lambda g: tuple((v is None, v or "") for v in g))
    return grid + extra


def _key_dict(scope: Scope, gid: GroupId) -> dict[str, str | None]:
    return {GROUP_COLUMNS[k]: v for k, v in zip(scope.by, gid, strict=True)}
