"""Access metrics ("treatment first"): days from referral to first treatment, Kaplan-Meier with censoring."""

from __future__ import annotations

from typing import Any

import ibis

from onward.metrics import thresholds as th
from onward.metrics.scope import Bag, Figure, Records, Scope, Tally, days, flag, total

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
    """Per group and day: treatments (events) and censorings, plus the 14-day share's counts.

    Everything Kaplan-Meier and the 14-day share need, in one small table: an episode is eligible for
    the share when origin + 14 <= data_end, and treated within 14 days when also an event on day <= 14.
    """
    rows = _cohort(scope)
    eligible = days(scope.data_end, rows.origin) >= th.TREATED_WITHIN_DAYS
    within = eligible & rows.treated & (rows.duration <= th.TREATED_WITHIN_DAYS)
    columns = [*scope.group_columns, "duration"]
    expr = rows.group_by(columns).aggregate(
        events=flag(rows.treated).sum(),
        censored=flag(~rows.treated).sum(),
        eligible=flag(eligible).sum(),
        within=flag(within).sum(),
    )
    return Tally("waits", expr)


def kaplan_meier_quantiles(records: Records, survival_levels: tuple[float, ...]) -> list[int | None]:
    """Smallest day at which the product-limit survival falls to each level (None if never).

    Censorings on a day stay at risk for that day's events (the usual convention).
    """
    by_day: dict[int, list[int]] = {}
    at_risk = 0
    for r in records:
        counts = by_day.setdefault(int(r["duration"]), [0, 0])
        events, censored = int(r["events"] or 0), int(r["censored"] or 0)
        counts[0] += events
        counts[1] += censored
        at_risk += events + censored
    survival = 1.0
    answers: list[int | None] = [None] * len(survival_levels)
    for day in sorted(by_day):
        events, censored = by_day[day]
        if events and at_risk:
            survival *= 1.0 - events / at_risk
            for i, level in enumerate(survival_levels):
                if answers[i] is None and survival <= level + _EPSILON:
                    answers[i] = day
        at_risk -= events + censored
    return answers


def tallies(scope: Scope) -> list[Tally]:
    return [_waits_tally(scope)]


def figures(bag: Bag) -> dict[str, Figure]:
    waits = bag.get("waits", [])
    median, p90 = kaplan_meier_quantiles(waits, (0.5, 0.1))
    treated, censored = total(bag, "waits", "events"), total(bag, "waits", "censored")
    episodes = treated + censored
    return {
        "days_to_first_treatment_median": Figure(median, treated, episodes),
        "days_to_first_treatment_p90": Figure(p90, treated, episodes),
        "share_treated_within_14_days": Figure.rate(
            total(bag, "waits", "within"), total(bag, "waits", "eligible")
        ),
    }
