"""Flow metrics ("built to be left"): admissions, discharges, census, graduation, people stuck, re-entry."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any

import ibis

from onward.metrics import thresholds as th
from onward.metrics.outcomes import GAD7, PHQ9, change_flags
from onward.metrics.scope import (
    FAR_FUTURE,
    FAR_PAST,
    GRADUATED,
    Bag,
    Figure,
    Scope,
    Tally,
    build_tallies,
    days,
    flag,
    total,
)


def _admissions(scope: Scope) -> Tally:
    e = scope.episodes()
    rows = e.filter(scope.in_period(e.start_date))
    rows = rows.mutate(**scope.keys(program=rows.program_id, when=rows.start_date))
    return Tally("admissions", scope.aggregate(rows, admissions=rows.episode_id.count()))


def _discharges(scope: Scope) -> Tally:
    e = scope.episodes()
    rows = e.filter(e.end_date.notnull() & scope.in_period(e.end_date))
    rows = rows.mutate(
        **scope.keys(program=rows.program_id, when=rows.end_date),
        graduated=flag(rows.end_reason == GRADUATED),
    )
    return Tally(
        "discharges",
        scope.aggregate(rows, discharges=rows.episode_id.count(), graduated=rows.graduated.sum()),
    )


def _open_at_checkpoints(scope: Scope, episodes: Any) -> Any:
    """One row per (episode, checkpoint t) for episodes open at t: start <= t and (no end or end > t)."""
    cp = scope.checkpoints
    never = ibis.literal(FAR_FUTURE, type="date")
    return episodes.inner_join(cp, [episodes.start_date <= cp.t, episodes.end_date.coalesce(never) > cp.t])


def _census(scope: Scope) -> Tally:
    rows = _open_at_checkpoints(scope, scope.episodes())
    rows = rows.mutate(**scope.keys_at_checkpoint(program=rows.program_id, checkpoints=rows))
    return Tally("census", scope.aggregate(rows, census=rows.episode_id.count()), point_in_time=True)


def _measurement_spans(scope: Scope, episode_ids: Any) -> Any:
    """PHQ-9/GAD-7 measurements of the given episodes, each with its running count, the first score of that
    instrument, and the day the next one replaces it as "latest" (FAR_FUTURE if it is the last)."""
    m = scope.tables["measurements"]
    m = m.filter(m.instrument.isin([PHQ9, GAD7]))
    m = m.inner_join(episode_ids, m.episode_id == episode_ids.c_episode).drop("c_episode")
    order = ibis.window(group_by=[m.episode_id, m.instrument], order_by=[m.measured_on, m.measurement_id])
    # One sort serves all three: running count, the episode's first score, the next measurement's day.
    return m.select(
        s_episode=m.episode_id,
        instrument=m.instrument,
        measured_on=m.measured_on,
        next_date=m.measured_on.lead().over(order).coalesce(ibis.literal(FAR_FUTURE, type="date")),
        k=ibis.row_number().over(order) + 1,
        first_score=m.score.first().over(order),
        score=m.score,
    )


def stuck_rows(scope: Scope) -> Any:
    """One row per (episode, checkpoint t) of the episodes that can be stuck at t, with `stuck` 1 or 0:
    open >= 365 days, no planned end after t, no reliable improvement or no recent measure. The clinician
    flag `stuck` (onward.metrics.flags) is tested against these rows, episode by episode."""
    e = scope.episodes()
    # Only episodes that can be a year old at `to` and still open at the first checkpoint matter.
    first_checkpoint = (
        min(t for _, t in scope.period.month_ends()) if "month" in scope.by else scope.period.end
    )
    old = e.filter(
        (e.start_date <= ibis.literal(scope.period.end - timedelta(days=th.STUCK_MIN_OPEN_DAYS), type="date"))
        & (e.end_date.isnull() | (e.end_date > ibis.literal(first_checkpoint, type="date")))
    )
    cp = scope.checkpoints
    never, always = ibis.literal(FAR_FUTURE, type="date"), ibis.literal(FAR_PAST, type="date")
    candidates = old.inner_join(
        cp,
        [
            old.start_date <= cp.t_open,
            old.end_date.coalesce(never) > cp.t,
            old.planned_end_date.coalesce(always) <= cp.t,
        ],
    ).select("episode_id", "program_id", "t", "cp_month", "t_recent")
    spans = _measurement_spans(scope, candidates.select(c_episode=candidates.episode_id).distinct())
    latest = candidates.left_join(
        spans,
        [
            candidates.episode_id == spans.s_episode,
            spans.measured_on <= candidates.t,
            spans.next_date > candidates.t,
        ],
    )
    is_phq, is_gad = latest.instrument == PHQ9, latest.instrument == GAD7
    rows = latest.group_by(["episode_id", "t", "program_id", "cp_month", "t_recent"]).aggregate(
        phq_n=latest.k.max(where=is_phq),
        phq_first=latest.first_score.max(where=is_phq),
        phq_last=latest.score.max(where=is_phq),
        gad_n=latest.k.max(where=is_gad),
        gad_first=latest.first_score.max(where=is_gad),
        gad_last=latest.score.max(where=is_gad),
        last_date=latest.measured_on.max(),
    )
    improved = change_flags(
        phq_n=rows.phq_n,
        phq_first=rows.phq_first,
        phq_last=rows.phq_last,
        gad_n=rows.gad_n,
        gad_first=rows.gad_first,
        gad_last=rows.gad_last,
    )["improved"]
    recent = rows.last_date.notnull() & (rows.last_date >= rows.t_recent)
    return rows.mutate(
        **scope.keys_at_checkpoint(program=rows.program_id, checkpoints=rows),
        stuck=flag(~(improved.fill_null(False) & recent.fill_null(False))),
    )


def _stuck(scope: Scope) -> Tally:
    rows = stuck_rows(scope)
    return Tally("stuck", scope.aggregate(rows, stuck=rows.stuck.sum()), point_in_time=True)


def _reentry(scope: Scope) -> Tally:
    e = scope.episodes()
    graduated = e.filter(
        (e.end_reason == GRADUATED)
        & e.end_date.notnull()
        & scope.in_period(e.end_date)
        & (days(scope.data_end, e.end_date) >= th.REENTRY_WINDOW_DAYS)
    ).select("episode_id", "person_id", "program_id", "end_date")
    later = e.select(r_person=e.person_id, r_start=e.start_date)
    returns = graduated.inner_join(later, graduated.person_id == later.r_person)
    gap = days(returns.r_start, returns.end_date)
    returns = returns.filter((gap >= 1) & (gap <= th.REENTRY_WINDOW_DAYS))
    returned = returns.select(g_episode=returns.episode_id).distinct()
    rows = graduated.left_join(returned, graduated.episode_id == returned.g_episode)
    rows = rows.mutate(
        **scope.keys(program=rows.program_id, when=rows.end_date), returned=flag(rows.g_episode.notnull())
    )
    return Tally(
        "reentry", scope.aggregate(rows, graduates=rows.episode_id.count(), returned=rows.returned.sum())
    )


#: The tallies each metric is finished from (lets a caller compute a subset of the suite).
NEEDS: dict[str, tuple[str, ...]] = {
    "admissions": ("admissions",),
    "discharges": ("discharges",),
    "active_census": ("census",),
    "graduation_rate": ("discharges",),
    "stuck_count": ("stuck",),
    "stuck_share": ("stuck", "census"),
    "reentry_12m_rate": ("reentry",),
}


_BUILDERS: dict[str, Callable[[Scope], Tally]] = {
    "admissions": _admissions,
    "discharges": _discharges,
    "census": _census,
    "stuck": _stuck,
    "reentry": _reentry,
}


def tallies(scope: Scope, needed: Collection[str] | None = None) -> list[Tally]:
    """The aggregate queries of this area (only those `needed`)."""
    return build_tallies(_BUILDERS, scope, needed)


def figures(bag: Bag) -> dict[str, Figure]:
    discharges, census = total(bag, "discharges", "discharges"), total(bag, "census", "census")
    stuck = total(bag, "stuck", "stuck")
    return {
        "admissions": Figure.count(total(bag, "admissions", "admissions")),
        "discharges": Figure.count(discharges),
        "active_census": Figure.count(census),
        "graduation_rate": Figure.rate(total(bag, "discharges", "graduated"), discharges),
        "stuck_count": Figure.count(stuck),
        "stuck_share": Figure.rate(stuck, census),
        "reentry_12m_rate": Figure.rate(
            total(bag, "reentry", "returned"), total(bag, "reentry", "graduates")
        ),
    }
