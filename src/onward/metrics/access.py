"""Access metrics ("treatment first"): days from referral to first treatment, Kaplan-Meier with censoring."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import ibis

from onward.metrics import thresholds as th
from onward.metrics.scope import Bag, Figure, Records, Scope, Tally, days, flag

#: Tolerance for "survival <= 0.5": products of fractions drift by ~1e-16 in floating point.
_EPSILON = 1e-12


def _cohort(scope: Scope) -> Any:
    """Episodes started in the period with origin, first treatment date and days waited (or censored)."""
    e = scope.episodes()
    started = e.filter(scope.in_period(e.start_date))
    referrals = scope.tables["referrals"].select(r_id=ibis._.referral_id, referral_date=ibis._.referral_date)
    tx = scope.treatment_services()
    first_tx = (
        tx.filter(tx.episode_id.notnull())
        .group_by(tx.episode_id.name("t_episode"))
        .aggregate(first_tx=tx.service_date.min())
    )
    rows = started.left_join(referrals, started.referral_id == referrals.r_id).left_join(
        first_tx, started.episode_id == first_tx.t_episode
    )
    rows = rows.mutate(origin=rows.referral_date.coalesce(rows.start_date))
    treated = rows.first_tx.notnull()
    waited = ibis.greatest(days(rows.first_tx, rows.origin), 0)
    return rows.mutate(
        **scope.keys(program=rows.program_id, when=rows.start_date),
        treated=treated,
        duration=treated.ifelse(waited, days(scope.data_end, rows.origin)),
    )


def _waits_tally(scope: Scope) -> Tally:
    """Per group, day and 14-day eligibility: treatments (events) and censorings.

    Everything Kaplan-Meier and the 14-day share need, in one small table: an episode is eligible for
    the share when origin + 14 <= data_end; it is treated within 14 days when it is an event on day <= 14.
    """
    rows = _cohort(scope)
    rows = rows.mutate(eligible=flag(days(scope.data_end, rows.origin) >= th.TREATED_WITHIN_DAYS))
    columns = [*scope.group_columns, "duration", "eligible"]
    expr = rows.group_by(columns).aggregate(
        events=flag(rows.treated).sum(), censored=flag(~rows.treated).sum()
    )
    return Tally("waits", expr)


def kaplan_meier_quantiles(records: Records, survival_levels: tuple[float, ...]) -> list[int | None]:
    """Smallest day at which the product-limit survival falls to each level (None if never).

    Censorings on a day stay at risk for that day's events (the usual convention).
    """
    events: dict[int, int] = defaultdict(int)
    censored: dict[int, int] = defaultdict(int)
    for r in records:
        events[int(r["duration"])] += int(r["events"] or 0)
        censored[int(r["duration"])] += int(r["censored"] or 0)
    at_risk = sum(events.values()) + sum(censored.values())
    survival = 1.0
    answers: list[int | None] = [None] * len(survival_levels)
    for day in sorted(set(events) | set(censored)):
        if events[day] and at_risk:
            survival *= 1.0 - events[day] / at_risk
            for i, level in enumerate(survival_levels):
                if answers[i] is None and survival <= level + _EPSILON:
                    answers[i] = day
        at_risk -= events[day] + censored[day]
    return answers


def tallies(scope: Scope) -> list[Tally]:
    return [_waits_tally(scope)]


def figures(bag: Bag) -> dict[str, Figure]:
    waits = bag.get("waits", [])
    median, p90 = kaplan_meier_quantiles(waits, (0.5, 0.1))
    treated = sum(int(r["events"] or 0) for r in waits)
    episodes = treated + sum(int(r["censored"] or 0) for r in waits)
    eligible_rows = [r for r in waits if r["eligible"]]
    eligible = sum(int(r["events"] or 0) + int(r["censored"] or 0) for r in eligible_rows)
    within = sum(int(r["events"] or 0) for r in eligible_rows if r["duration"] <= th.TREATED_WITHIN_DAYS)
    return {
        "days_to_first_treatment_median": Figure(median, treated, episodes),
        "days_to_first_treatment_p90": Figure(p90, treated, episodes),
        "share_treated_within_14_days": Figure.rate(within, eligible),
    }
