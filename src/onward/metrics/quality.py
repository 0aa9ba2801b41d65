"""US quality measures computed from the event log: HEDIS IET (SUD initiation/engagement) and FUH."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import ibis

from onward.metrics import thresholds as th
from onward.metrics.scope import INPATIENT, Bag, Figure, Scope, Tally, build_tallies, days, flag, total


def _iet_tally(scope: Scope) -> Tally:
    e = scope.episodes()
    cohort = e.filter(
        e.is_sud
        & scope.in_period(e.start_date)
        & (days(scope.data_end, e.start_date) >= th.IET_LOOKAHEAD_DAYS)
    ).select("episode_id", "program_id", "start_date")
    tx = scope.treatment_services()
    tx = tx.select(t_episode=tx.episode_id, t_date=tx.service_date)
    services = cohort.inner_join(tx, cohort.episode_id == tx.t_episode)
    offset = days(services.t_date, services.start_date)
    # One scan of the services: the initiating date as a per-episode window, then one aggregate.
    in_window = (offset >= 0) & (offset <= th.IET_INITIATION_LAST_DAY)
    services = services.mutate(
        init_date=services.t_date.min(where=in_window).over(ibis.window(group_by=services.episode_id))
    )
    after = days(services.t_date, services.init_date)
    per_episode = services.group_by(services.episode_id.name("i_episode")).aggregate(
        init_date=services.init_date.min(),
        more=flag((after >= 1) & (after <= th.IET_ENGAGEMENT_LAST_DAY)).sum(),
    )
    rows = cohort.left_join(per_episode, cohort.episode_id == per_episode.i_episode)
    initiated = rows.init_date.notnull()
    rows = rows.mutate(
        **scope.keys(program=rows.program_id, when=rows.start_date),
        initiated=flag(initiated),
        engaged=flag(initiated & (rows.more.fill_null(0) >= th.IET_ENGAGEMENT_SERVICES)),
    )
    expr = scope.aggregate(
        rows, episodes=rows.episode_id.count(), initiated=rows.initiated.sum(), engaged=rows.engaged.sum()
    )
    return Tally("iet", expr)


def _inpatient_program_ids(scope: Scope) -> Any:
    p = scope.tables["programs"]
    return p.filter(p.kind == INPATIENT).select(ip_program=p.program_id)


def _fuh_tally(scope: Scope) -> Tally:
    e = scope.episodes()
    inpatient = _inpatient_program_ids(scope)
    discharges = e.filter(
        e.end_date.notnull()
        & scope.in_period(e.end_date)
        & (days(scope.data_end, e.end_date) >= th.FUH_LONG_DAYS)
    ).inner_join(inpatient, e.program_id == inpatient.ip_program)
    discharges = discharges.select("episode_id", "person_id", "program_id", "end_date")
    # Services of discharged people on days 1-30 first (small), then the program each counts for.
    services = scope.tables["services"]
    attended = services.select(
        s_person=services.person_id,
        s_date=services.service_date,
        s_episode=services.episode_id,
        s_staff=services.staff_id,
    )
    visits = discharges.inner_join(attended, discharges.person_id == attended.s_person)
    gap = days(visits.s_date, visits.end_date)
    visits = visits.filter((gap >= 1) & (gap <= th.FUH_LONG_DAYS))
    episodes = scope.episodes().select(v_ep=ibis._.episode_id, v_ep_program=ibis._.program_id)
    staff = scope.tables["staff"].select(v_st=ibis._.staff_id, v_st_program=ibis._.program_id)
    visits = visits.left_join(episodes, visits.s_episode == episodes.v_ep).left_join(
        staff, visits.s_staff == staff.v_st
    )
    programs = scope.tables["programs"]
    outside = programs.filter(programs.kind != INPATIENT).select(op_program=programs.program_id)
    visits = visits.inner_join(
        outside, visits.v_ep_program.coalesce(visits.v_st_program) == outside.op_program
    )
    first_visit = visits.group_by(visits.episode_id.name("v_episode")).aggregate(
        first_gap=days(visits.s_date, visits.end_date).min()
    )
    rows = discharges.left_join(first_visit, discharges.episode_id == first_visit.v_episode)
    rows = rows.mutate(
        **scope.keys(program=rows.program_id, when=rows.end_date),
        within_short=flag(rows.first_gap <= th.FUH_SHORT_DAYS),
        within_long=flag(rows.first_gap.notnull()),
    )
    expr = scope.aggregate(
        rows,
        discharges=rows.episode_id.count(),
        within_short=rows.within_short.sum(),
        within_long=rows.within_long.sum(),
    )
    return Tally("fuh", expr)


#: The tallies each metric is finished from (lets a caller compute a subset of the suite).
NEEDS: dict[str, tuple[str, ...]] = {
    "sud_initiation_14d": ("iet",),
    "sud_engagement_34d": ("iet",),
    "followup_7d": ("fuh",),
    "followup_30d": ("fuh",),
}


_BUILDERS: dict[str, Callable[[Scope], Tally]] = {"iet": _iet_tally, "fuh": _fuh_tally}


def tallies(scope: Scope, needed: Collection[str] | None = None) -> list[Tally]:
    """The aggregate queries of this area (only those `needed`)."""
    return build_tallies(_BUILDERS, scope, needed)


def figures(bag: Bag) -> dict[str, Figure]:
    sud, discharges = total(bag, "iet", "episodes"), total(bag, "fuh", "discharges")
    return {
        "sud_initiation_14d": Figure.rate(total(bag, "iet", "initiated"), sud),
        "sud_engagement_34d": Figure.rate(total(bag, "iet", "engaged"), sud),
        "followup_7d": Figure.rate(total(bag, "fuh", "within_short"), discharges),
        "followup_30d": Figure.rate(total(bag, "fuh", "within_long"), discharges),
    }
