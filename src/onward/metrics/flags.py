"""Clinician flags of every open episode at once, computed in the engine the metrics run on.

The same rules as the pure `onward.model.flags` (docs/flags.md), written as one Ibis query: per-episode
facts (first treatment, latest scores, the runs of days on which each status held) come from window
functions over the measurements and services of the open episodes, and the flags and the day each
began are column expressions over those facts. Python only turns the flagged rows into words.

Days are whole numbers counted from 1970-01-01 inside the query (SQLite refuses date arithmetic), and
turned back into dates on the way out.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import pyarrow as pa

from onward.metrics.backends import EventLog, fetch_arrow, quiet_engine_warnings
from onward.metrics.outcomes import change_flags
from onward.metrics.period import Period
from onward.metrics.scope import make_scope
from onward.model.eventlog import Instrument
from onward.model.flags import (
    FLAG_NAMES,
    MOOD,
    RISK_INSTRUMENTS,
    STUCK_MEASURE_RECENT_DAYS,
    STUCK_MIN_OPEN_DAYS,
    TREATMENT,
    Flag,
    FlagRules,
    flag_reason,
)
from onward.model.instruments import INSTRUMENTS

_EPOCH = date(1970, 1, 1)
_NEVER = -(10**6)  # a day before any event: "no such day" in comparisons
_PHQ, _GAD = MOOD


@dataclass(frozen=True)
class FlagsResult:
    """The flags on `as_of` (data_end unless asked), most urgent first within each episode."""

    as_of: date
    flags: list[Flag]
    open_episodes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "open_episodes": self.open_episodes,
            "flags": [f.to_json() for f in self.flags],
        }


def _day(column: Any) -> Any:
    return column.delta(ibis.literal(_EPOCH, type="date"), unit="day").cast("int64")


def _known(condition: Any) -> Any:
    return condition.fill_null(False)


#: Packs (running count, score) into one number whose maximum is the latest score: count * _PACK + score.
_PACK = 1000


def _mood_days(m: Any) -> Any:
    """One row per (episode, day with a PHQ-9/GAD-7): each instrument's running count, first and latest
    score at the end of that day, and the NHS Talking Therapies statuses on that day.

    The latest score so far is carried forward as the maximum of count * 1000 + score over the days up
    to this one, so one ordered window per episode serves both instruments."""
    mood = m.filter(m.instrument.isin(list(MOOD))).select(
        ep=m.episode_id, inst=m.instrument, d=_day(m.measured_on), mid=m.measurement_id, score=m.score
    )
    order = ibis.window(group_by=[mood.ep, mood.inst], order_by=[mood.d, mood.mid])
    mood = mood.mutate(k=ibis.row_number().over(order) + 1)
    packed = mood.k * _PACK + mood.score
    is_phq, is_gad = mood.inst == _PHQ, mood.inst == _GAD
    days = mood.group_by(["ep", "d"]).aggregate(
        p_code=packed.max(where=is_phq),
        p_first=mood.score.max(where=is_phq & (mood.k == 1)),
        g_code=packed.max(where=is_gad),
        g_first=mood.score.max(where=is_gad & (mood.k == 1)),
    )
    running = ibis.cumulative_window(group_by=days.ep, order_by=days.d)
    days = days.select(
        "ep",
        "d",
        p_code=days.p_code.max().over(running),
        phq_first=days.p_first.max().over(running),
        g_code=days.g_code.max().over(running),
        gad_first=days.g_first.max().over(running),
    )
    days = days.select(
        "ep",
        "d",
        "phq_first",
        "gad_first",
        phq_n=days.p_code // _PACK,
        phq_last=days.p_code % _PACK,
        gad_n=days.g_code // _PACK,
        gad_last=days.g_code % _PACK,
    )
    status = change_flags(
        phq_n=days.phq_n,
        phq_first=days.phq_first,
        phq_last=days.phq_last,
        gad_n=days.gad_n,
        gad_first=days.gad_first,
        gad_last=days.gad_last,
    )
    phq_case = INSTRUMENTS[Instrument.PHQ9].caseness
    gad_case = INSTRUMENTS[Instrument.GAD7].caseness
    above = _known(days.phq_n.notnull() & (days.phq_last >= phq_case)) | _known(
        days.gad_n.notnull() & (days.gad_last >= gad_case)
    )
    improved = _known(status["improved"])
    return days.mutate(
        imp=improved,
        det=_known(status["deteriorated"]),
        rr=_known(status["reliably_recovered"]),
        below=~above,
        ni=~improved & above,
    )


def _mood_facts(m: Any) -> Any:
    """Per episode: the latest day's scores and statuses, and when the final run of each status began."""
    days = _mood_days(m)
    whole = ibis.window(group_by=days.ep)
    in_order = ibis.window(group_by=days.ep, order_by=days.d)
    marks: dict[str, Any] = {
        "last_d": days.d.max().over(whole),
        "nd": days.d.lead().over(in_order),
        "pd": days.d.lag().over(in_order),
        "p_below": days.below.lag().over(in_order),
    }
    for s in ("imp", "det", "rr", "below", "ni"):
        marks[f"{s}_off"] = days.d.max(where=~days[s]).over(whole).fill_null(_NEVER)
    days = days.mutate(**marks)
    last = days.d == days.last_d
    run_below = days.below & (days.d > days.below_off)
    # the second day of the final below-caseness run: the day before it is in the run too
    second_below = run_below & _known(days.p_below) & _known(days.pd > days.below_off)
    clear_end = ibis.least(days.d + (STUCK_MEASURE_RECENT_DAYS - 1), (days.nd - 1).fill_null(10**9))

    def run_start(s: str) -> Any:
        return days.d.min(where=days[s] & (days.d > days[f"{s}_off"]))

    return days.group_by("ep").aggregate(
        last_mood=days.d.max(),
        phq_n=days.phq_n.max(where=last),
        phq_first=days.phq_first.max(where=last),
        phq_last=days.phq_last.max(where=last),
        gad_n=days.gad_n.max(where=last),
        gad_first=days.gad_first.max(where=last),
        gad_last=days.gad_last.max(where=last),
        improved=days.imp.ifelse(1, 0).max(where=last),
        deteriorated=days.det.ifelse(1, 0).max(where=last),
        reliably_recovered=days.rr.ifelse(1, 0).max(where=last),
        below=days.below.ifelse(1, 0).max(where=last),
        deteriorated_since=run_start("det"),
        recovered_since=run_start("rr"),
        not_improving_since=run_start("ni"),
        below_since=run_start("below"),
        below_second=days.d.min(where=second_below),
        clear_until=clear_end.max(where=days.imp),
    )


def _risk_facts(m: Any) -> Any:
    """Per episode and risk instrument: the latest risk-item score, its day, and since when it is positive."""
    risky = m
    value: Any = None
    for instrument in RISK_INSTRUMENTS:
        item = INSTRUMENTS[Instrument(instrument)].risk_item
        assert item is not None
        pattern = r"^\[\s*(?:-?\d+\s*,\s*){" + str(item - 1) + r"}(-?\d+)"
        extracted = risky.items.re_extract(pattern, 1)
        value = (risky.instrument == instrument).ifelse(
            extracted, value if value is not None else ibis.null("string")
        )
    r = risky.select(
        ep=risky.episode_id,
        inst=risky.instrument,
        d=_day(risky.measured_on),
        mid=risky.measurement_id,
        v=value.nullif("").cast("int64"),
    )
    order = ibis.window(group_by=[r.ep, r.inst], order_by=[r.d, r.mid])
    whole = ibis.window(group_by=[r.ep, r.inst])
    r = r.mutate(k=ibis.row_number().over(order))
    r = r.mutate(last_k=r.k.max().over(whole), off_k=r.k.max(where=~(r.v > 0)).over(whole).fill_null(-1))
    per = r.group_by(["ep", "inst"]).aggregate(
        score=r.v.max(where=r.k == r.last_k),
        on=r.d.max(where=r.k == r.last_k),
        since=r.d.min(where=(r.v > 0) & (r.k > r.off_k)),
    )
    columns: dict[str, Any] = {}
    for instrument in RISK_INSTRUMENTS:
        mine = per.inst == instrument
        columns[f"{instrument}_risk_score"] = per.score.max(where=mine)
        columns[f"{instrument}_risk_on"] = per.on.max(where=mine)
        columns[f"{instrument}_risk_since"] = per.since.max(where=mine)
    return per.group_by("ep").aggregate(**columns)


def _least(*values: Any) -> Any:
    """The smallest known value (None when all are unknown); SQLite's min() of a NULL is NULL."""
    big = 10**9
    out = ibis.least(*[v.fill_null(big) for v in values])
    return out.nullif(big)


def _greatest(*values: Any) -> Any:
    out = ibis.greatest(*[v.fill_null(_NEVER) for v in values])
    return out.nullif(_NEVER)


def _decide(facts: Any, t: int, rules: FlagRules) -> dict[str, Any]:
    """Per flag: the day it began, or null where it does not hold on day t (the model's `decide`)."""
    f = facts
    null = ibis.null("int64")
    out: dict[str, Any] = {}
    risk_since = _least(*[f[f"{i}_risk_since"] for i in RISK_INSTRUMENTS])
    out["risk"] = risk_since
    out["deteriorating"] = (f.deteriorated == 1).ifelse(f.deteriorated_since, null)
    week8 = f.first_treatment + rules.not_improving_after_days
    not_improving = f.first_treatment.notnull() & f.last_mood.notnull() & (f.improved == 0) & (f.below == 0)
    out["not_improving"] = _known(not_improving & (week8 <= t)).ifelse(
        _greatest(week8, f.not_improving_since), null
    )
    old = (f.start_d <= t - STUCK_MIN_OPEN_DAYS) & (f.planned_d.isnull() | (f.planned_d <= t))
    recent = _known(f.last_mood >= t - (STUCK_MEASURE_RECENT_DAYS - 1))
    stuck = old & ~(_known(f.improved == 1) & recent)
    out["stuck"] = stuck.ifelse(
        _greatest(f.start_d + STUCK_MIN_OPEN_DAYS, f.planned_d, f.clear_until + 1), null
    )
    out["exit_passed"] = _known(f.planned_d < t).ifelse(f.planned_d + 1, null)
    due = _greatest(f.first_treatment, f.last_measured) + rules.measure_overdue_days
    out["measure_overdue"] = (f.first_treatment.notnull() & _known(due <= t)).ifelse(due, null)
    held = f.recovered_since + rules.recovery_sustained_days
    by_recovery = _known((f.reliably_recovered == 1) & (held <= t)).ifelse(held, null)
    out["ready_to_graduate"] = _least(f.below_second, by_recovery)
    return out


#: Columns that hold day numbers, turned back into dates on the way out.
_DAY_COLUMNS = (
    "start_date",
    "planned_end_date",
    "first_treatment",
    "last_measured",
    "last_mood",
    "deteriorated_since",
    "recovered_since",
    "not_improving_since",
    "below_since",
    "below_second",
    "clear_until",
    *[f"{i}_risk_{c}" for i in RISK_INSTRUMENTS for c in ("on", "since")],
    *[f"since_{name}" for name in FLAG_NAMES],
)


def flags_query(
    log: EventLog,
    *,
    as_of: date | None = None,
    episode_ids: Sequence[str] | None = None,
    rules: FlagRules | None = None,
    staged: list[str] | None = None,
) -> tuple[Any, date]:
    """The Ibis expression of every open episode's facts and flags on `as_of` (default: data_end, the
    latest recorded event, as for the metrics). Events after `as_of` are left out and episodes ending
    after it count as open: the event log as it stood that day.

    On SQLite the per-episode parts are first written to temporary tables (named into `staged`): one
    nested statement of them all overflows SQLite's parser stack."""
    rules = rules or FlagRules()
    when = as_of if as_of is not None else make_scope(log, Period(), ()).period.data_end
    t = (when - _EPOCH).days
    tables = log.tables
    e = tables["episodes"]
    lit = ibis.literal(when, type="date")
    open_ = e.filter((e.start_date <= lit) & (e.end_date.isnull() | (e.end_date > lit)))
    only = list(episode_ids) if episode_ids is not None else None
    if only is not None:
        open_ = open_.filter(open_.episode_id.isin(only))
    episodes = open_.select(
        ep=open_.episode_id,
        person_id=open_.person_id,
        start_d=_day(open_.start_date),
        planned_d=_day(open_.planned_end_date),
    )
    keys = episodes.select(k_ep=episodes.ep)
    every = tables["measurements"]
    every = every.filter(every.measured_on <= lit)
    if only is not None:
        every = every.filter(every.episode_id.isin(only))
    # Item scores (long text) are read only for the risk instruments' rows.
    m = every.select("measurement_id", "episode_id", "instrument", "measured_on", "score")
    m = m.inner_join(keys, m.episode_id == keys.k_ep).drop("k_ep")
    risky = every.filter(every.instrument.isin(list(RISK_INSTRUMENTS)) & every.items.notnull())
    risky = risky.inner_join(keys, risky.episode_id == keys.k_ep).drop("k_ep")
    s = tables["services"]
    s = s.filter(s.category.isin(list(TREATMENT)) & (s.service_date <= lit))
    if only is not None:  # lets an index (SQLite, PostgreSQL) or DuckDB's zone maps skip the rest
        s = s.filter(s.episode_id.isin(only))
    s = s.inner_join(keys, s.episode_id == keys.k_ep)
    treatment = s.group_by(ep=s.episode_id).aggregate(first_treatment=_day(s.service_date).min())
    measured = m.group_by(ep=m.episode_id).aggregate(last_measured=_day(m.measured_on).max())
    facts = episodes
    for part in (treatment, measured, _mood_facts(m), _risk_facts(risky)):
        part = _stage(log, part, staged)
        facts = facts.left_join(part, facts.ep == part.ep).drop("ep_right")
    facts = _stage(log, facts, staged)
    decided = _decide(facts, t, rules)
    out = facts.select(
        episode_id=facts.ep,
        person_id=facts.person_id,
        start_date=facts.start_d,
        planned_end_date=facts.planned_d,
        **{c: facts[c] for c in facts.columns if c not in ("ep", "person_id", "start_d", "planned_d")},
        **{f"since_{name}": decided[name] for name in FLAG_NAMES},
    )
    return out, when


def _stage(log: EventLog, expr: Any, staged: list[str] | None) -> Any:
    """`expr` as a temporary table on SQLite (its name appended to `staged`); unchanged elsewhere."""
    if log.backend != "sqlite" or staged is None:
        return expr
    name = f"_onward_flags_{uuid.uuid4().hex[:12]}"
    staged.append(name)
    return log.connection.create_table(name, expr, temp=True)


def _as_dates(table: pa.Table) -> pa.Table:
    for name in _DAY_COLUMNS:
        index = table.column_names.index(name)
        days = table.column(name).cast(pa.int32())
        table = table.set_column(index, name, days.cast(pa.date32()))
    return table


def compute_flags(
    log: EventLog,
    *,
    as_of: date | None = None,
    episode_ids: Sequence[str] | None = None,
    rules: FlagRules | None = None,
) -> FlagsResult:
    """Every open episode's flags on `as_of` (or only those of `episode_ids`, e.g. one clinician's
    caseload), computed in the log's engine; most urgent flag first, then by episode."""
    rules = rules or FlagRules()
    staged: list[str] = []
    with quiet_engine_warnings(), log.lock:
        try:
            expr, when = flags_query(log, as_of=as_of, episode_ids=episode_ids, rules=rules, staged=staged)
            table = fetch_arrow(expr, log)
        finally:
            for name in staged:
                log.connection.con.execute(f'DROP TABLE IF EXISTS temp."{name}"')
    table = _as_dates(table)
    flagged: list[Flag] = []
    since_columns = [f"since_{name}" for name in FLAG_NAMES]
    rows = table.to_pylist()
    for row in rows:
        for name, column in zip(FLAG_NAMES, since_columns, strict=True):
            since = row[column]
            if since is not None:
                reason = flag_reason(name, _facts(row), as_of=when, rules=rules)
                flagged.append(Flag(row["episode_id"], row["person_id"], name, since, reason))
    order = {name: i for i, name in enumerate(FLAG_NAMES)}
    flagged.sort(key=lambda f: (order[f.flag], f.since, f.episode_id))
    return FlagsResult(when, flagged, len(rows))


def _facts(row: dict[str, Any]) -> dict[str, Any]:
    facts = dict(row)
    for key in ("improved", "deteriorated", "reliably_recovered", "below"):
        facts[key] = bool(facts[key])
    return facts


def rules_from_settings(settings: Any) -> FlagRules:
    """The flag thresholds configured in `onward.settings.Settings` (`flag_*`)."""
    return FlagRules(
        not_improving_after_days=settings.flag_not_improving_days,
        measure_overdue_days=settings.flag_measure_overdue_days,
        recovery_sustained_days=settings.flag_recovery_sustained_days,
    )
