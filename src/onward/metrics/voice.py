"""Voice metrics on the metric backends: ideas received by author role, the share from people in services,
median days to a council decision, and the shares of accepted ideas implemented and of implemented ideas
evaluated (docs/metrics.md, "Voice metrics"); and `measure`, the metrics engine's value of one metric
over a period, which a plan's baseline and an evaluation's after-value come from.

The voice_ideas table sits beside the event log: in the live database, or as an optional file of the
same name in an extract folder (a folder without it has no ideas). It is attached to an opened event log
on its own backend, so the same Ibis expressions run on DuckDB, SQLite, PostgreSQL and PySpark. Figures
carry their numerator and denominator; suppression is applied where they are published (the voice
report), not here.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from onward.errors import ValidationError
from onward.metrics.backends import EventLog, fetch_arrow, open_event_log, quiet_engine_warnings, small_table
from onward.metrics.period import Period, ResolvedPeriod
from onward.metrics.registry import METRICS, MetricDefinition
from onward.metrics.scope import make_scope

#: Columns the metrics read from voice_ideas, with their types.
VOICE_COLUMNS: dict[str, str] = {
    "idea_id": "string",
    "author_role": "string",
    "status": "string",
    "submitted_on": "date",
    "decided_on": "date",
    "implemented_on": "date",
    "evaluated_on": "date",
}
_ARROW = {"string": pa.string(), "date": pa.date32()}
_ONWARD = "Onward definition (docs/metrics.md, Voice metrics)"

VOICE_METRICS: dict[str, MetricDefinition] = {
    m.key: m
    for m in (
        MetricDefinition(
            "voice_ideas",
            "Ideas received",
            "voice",
            "count",
            "Ideas whose submitted_on is in the period (hidden ones included), in all and by author role.",
            _ONWARD,
            "submission month",
        ),
        MetricDefinition(
            "voice_share_people_in_services",
            "Share of ideas from people in services",
            "voice",
            "rate",
            "Ideas submitted in the period whose author role is person_in_services / ideas submitted in the "
            "period.",
            _ONWARD,
            "submission month",
        ),
        MetricDefinition(
            "voice_days_to_decision_median",
            "Days to a council decision (median)",
            "voice",
            "days",
            "Ideas with a council decision (accepted or declined) whose decided_on is in the period: median "
            "of decided_on - submitted_on in days.",
            _ONWARD,
            "decision month",
        ),
        MetricDefinition(
            "voice_share_implemented",
            "Share of accepted ideas implemented",
            "voice",
            "rate",
            "Ideas accepted (decided and not declined) with decided_on in the period: implemented_on on or "
            "before data_end.",
            _ONWARD,
            "decision month",
        ),
        MetricDefinition(
            "voice_share_evaluated",
            "Share of implemented ideas evaluated",
            "voice",
            "rate",
            "Ideas with implemented_on in the period: evaluated_on on or before data_end.",
            _ONWARD,
            "implementation month",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class VoiceFigure:
    numerator: float
    denominator: int | None  # None for plain counts

    @property
    def value(self) -> float | None:
        if self.denominator is None:
            return self.numerator
        if self.denominator == 0:
            return None
        # a median of days is a value of its own; shares are numerator / denominator
        return self.numerator if isinstance(self.numerator, float) else self.numerator / self.denominator


@dataclass(frozen=True, slots=True)
class VoiceMetrics:
    period: ResolvedPeriod
    backend: str
    figures: dict[str, VoiceFigure]
    by_author_role: dict[str, int]


def _table(log: EventLog, rows: pa.Table) -> Any:
    return small_table(log, rows) if log.backend == "duckdb" else ibis.memtable(rows)


def _empty(log: EventLog) -> Any:
    schema = pa.schema([pa.field(c, _ARROW[t]) for c, t in VOICE_COLUMNS.items()])
    return _table(log, schema.empty_table())


def _from_folder(log: EventLog, folder: Path) -> Any:
    for suffix in (".parquet", ".csv"):
        path = folder / f"voice_ideas{suffix}"
        if not path.is_file():
            continue
        if log.backend == "pyspark":
            session = log.connection._session
            reader = session.read
            frame = reader.parquet(str(path)) if suffix == ".parquet" else reader.csv(str(path), header=True)
            frame.createOrReplaceTempView("onward_voice_ideas")
            table = log.connection.table("onward_voice_ideas")
        elif suffix == ".parquet":
            table = log.connection.read_parquet(str(path), table_name="voice_ideas_file")
        else:
            table = log.connection.read_csv(str(path), table_name="voice_ideas_file", header=True)
        return table.select(*[table[c].cast(t).name(c) for c, t in VOICE_COLUMNS.items()])
    return _empty(log)


def _from_database(log: EventLog, url: str) -> Any:
    """voice_ideas of the live database as Arrow, registered on the log's (DuckDB) connection."""
    from sqlalchemy import column, select, table

    from onward.store.engine import create_db_engine

    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            rows: list[Any] = list(
                connection.execute(
                    select(*[column(c) for c in VOICE_COLUMNS]).select_from(table("voice_ideas"))
                )
            )
    finally:
        engine.dispose()
    arrays = []
    for i, kind in enumerate(VOICE_COLUMNS.values()):
        values = [row[i] for row in rows]
        if kind == "date":
            values = [
                v if v is None or isinstance(v, date) else date.fromisoformat(str(v)[:10]) for v in values
            ]
        arrays.append(pa.array(values, _ARROW[kind]))
    return _table(log, pa.Table.from_arrays(arrays, names=list(VOICE_COLUMNS)))


def voice_ideas_table(log: EventLog, *, data: Path | None = None, db: str | None = None) -> Any:
    """voice_ideas on the log's backend: the live table on SQLite/PostgreSQL, a copy on DuckDB, or the
    extract folder's optional file."""
    if log.backend in ("sqlite", "postgres"):
        table = log.connection.table("voice_ideas")
        return table.select(*[table[c].cast(t).name(c) for c, t in VOICE_COLUMNS.items()])
    if data is not None:
        return _from_folder(log, data)
    if db is not None:
        return _from_database(log, db)
    return _empty(log)


def compute_voice_metrics(
    log: EventLog, *, period: Period, data: Path | None = None, db: str | None = None
) -> VoiceMetrics:
    """Every voice metric over the period, overall, and ideas received by author role."""
    with quiet_engine_warnings():
        resolved = (
            period.resolve(first_event=None, last_event=None)
            if None not in (period.start, period.end, period.as_of)
            else make_scope(log, period, ()).period  # open bounds come from the event log
        )
        ideas = voice_ideas_table(log, data=data, db=db)
        start, end, data_end = (ibis.literal(d) for d in (resolved.start, resolved.end, resolved.data_end))
        received = ideas.filter((ideas.submitted_on >= start) & (ideas.submitted_on <= end))
        by_role = received.group_by("author_role").aggregate(n=received.count())
        decided = ideas.filter(
            ideas.decided_on.notnull() & (ideas.decided_on >= start) & (ideas.decided_on <= end)
        )
        days = decided.select(days=decided.decided_on.delta(decided.submitted_on, unit="day"))
        accepted = decided.filter(decided.status != "declined")
        implemented = accepted.aggregate(
            n=accepted.count(),
            done=(accepted.implemented_on.notnull() & (accepted.implemented_on <= data_end))
            .ifelse(1, 0)
            .sum(),
        )
        done = ideas.filter(
            ideas.implemented_on.notnull() & (ideas.implemented_on >= start) & (ideas.implemented_on <= end)
        )
        evaluated = done.aggregate(
            n=done.count(),
            done=(done.evaluated_on.notnull() & (done.evaluated_on <= data_end)).ifelse(1, 0).sum(),
        )
        roles = {r["author_role"]: int(r["n"]) for r in fetch_arrow(by_role, log).to_pylist()}
        waits = sorted(int(r["days"]) for r in fetch_arrow(days, log).to_pylist())
        impl = fetch_arrow(implemented, log).to_pylist()[0]
        eval_ = fetch_arrow(evaluated, log).to_pylist()[0]
    total = sum(roles.values())
    figures = {
        "voice_ideas": VoiceFigure(total, None),
        "voice_share_people_in_services": VoiceFigure(roles.get("person_in_services", 0), total),
        "voice_days_to_decision_median": VoiceFigure(
            float(statistics.median(waits)) if waits else 0.0, len(waits)
        ),
        "voice_share_implemented": VoiceFigure(int(impl["done"] or 0), int(impl["n"] or 0)),
        "voice_share_evaluated": VoiceFigure(int(eval_["done"] or 0), int(eval_["n"] or 0)),
    }
    return VoiceMetrics(resolved, log.backend, figures, dict(sorted(roles.items())))


def voice_metrics_of_database(url: str, start: date, end: date) -> VoiceMetrics:
    """The voice metrics of a live database over [start, end], read as of `end`, on the database's own
    engine (SQLite or PostgreSQL): the ideas are few, and this skips copying the event log into DuckDB."""
    from onward.store.engine import is_sqlite

    backend = "sqlite" if is_sqlite(url) else "postgres"
    return compute_voice_metrics(
        open_event_log(db=url, backend=backend), period=Period(start, end, end), db=url
    )


def measure(url: str, key: str, start: date, end: date) -> float | None:
    """The metric `key` of the metrics engine over [start, end] (read as of `end`) on the database at
    `url`: a plan's baseline, an evaluation's after-value. None when it has no value there."""
    from onward.metrics.suite import compute_metrics

    if key not in METRICS:
        raise ValidationError(f"unknown metric {key!r}", column="metric_key", expected=", ".join(METRICS))
    if end < start:
        raise ValidationError(f"the period ends ({end}) before it starts ({start})", column="baseline_to")
    log = open_event_log(db=url)
    try:
        value = compute_metrics(log, period=Period(start, end, end), metrics=[key]).metrics[key]
    except ValidationError:
        return None
    return None if value is None else float(value)
