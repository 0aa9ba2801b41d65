"""Access metrics ("treatment first"): days from referral to first treatment, Kaplan-Meier with censoring."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from onward.metrics import thresholds as th
from onward.metrics.backends import arrow_column, numpy_ints
from onward.metrics.scope import Bag, Figure, Records, Scope, Tally, build_tallies, days, flag, total

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
    """Per group: Kaplan-Meier median and p90, computed in the engine, plus the 14-day share's counts.

    An episode is eligible for the share when origin + 14 <= data_end, and treated within 14 days when
    also an event on day <= 14. The engine first tallies events and censorings per group and day, then
    runs the product-limit estimator with window functions (at risk = a cumulative sum over days in
    descending order; survival = exp of a cumulative sum of log(1 - d/n), 0 from the first day everyone
    left), so one row per group reaches Python instead of one per group and day. When grouped, the same
    day tallies are pooled into an extra row (`level` 1): the overall figure.
    """
    rows = _cohort(scope)
    columns = scope.group_columns
    shares: dict[str, Any] = {}
    for suffix, limit in _SHARE_DAYS.items():
        eligible = days(scope.data_end, rows.origin) >= limit
        within = eligible & rows.treated & (rows.duration <= limit)
        shares[f"eligible{suffix}"] = flag(eligible).sum()
        shares[f"within{suffix}"] = flag(within).sum()
    per_day = rows.group_by([*columns, "duration"]).aggregate(
        events=flag(rows.treated).sum(),
        censored=flag(~rows.treated).sum(),
        **shares,
    )
    per_day = per_day.mutate(level=ibis.literal(0, type="int64"))
    if columns:
        pooled = per_day.group_by("duration").aggregate(
            **{c: per_day[c].sum() for c in _COUNTS},
        )
        pooled = pooled.mutate(
            **{c: ibis.null(per_day[c].type()) for c in columns}, level=ibis.literal(1, type="int64")
        )
        per_day = per_day.union(pooled.select(*per_day.columns))
    return Tally("waits", _kaplan_meier(per_day, ["level", *columns]), summarise=split_waits)


def _kaplan_meier(per_day: Any, partition: list[str]) -> Any:
    """One row per partition: the smallest day with survival <= 0.5 / <= 0.1 (null if never), and sums."""
    leaving = per_day.events + per_day.censored
    backwards = ibis.cumulative_window(group_by=partition, order_by=ibis.desc(per_day.duration))
    with_risk = per_day.mutate(at_risk=leaving.sum().over(backwards))
    everyone_left = with_risk.events >= with_risk.at_risk  # factor 1 - d/n is 0: survival 0 from here on
    step = (with_risk.events > 0) & ~everyone_left
    with_logs = with_risk.mutate(
        all_gone=flag(everyone_left),
        log_factor=step.ifelse((1 - with_risk.events / with_risk.at_risk).ln(), 0.0),
    )
    forwards = ibis.cumulative_window(group_by=partition, order_by=with_logs.duration)
    curve = with_logs.mutate(
        gone=with_logs.all_gone.sum().over(forwards), log_survival=with_logs.log_factor.sum().over(forwards)
    )
    survival = (curve.gone > 0).ifelse(0.0, curve.log_survival.exp())
    curve = curve.mutate(survival=survival)
    reached = {
        name: curve.duration.min(where=(curve.events > 0) & (curve.survival <= level + _EPSILON))
        for name, level in (("median", 0.5), ("p90", 0.1))
    }
    counts = [c for c in _COUNTS if c in per_day.columns]
    return curve.group_by(partition).aggregate(**reached, **{c: curve[c].sum() for c in counts})


def _quantiles(
    durations: npt.NDArray[np.int64],
    events: npt.NDArray[np.int64],
    censored: npt.NDArray[np.int64],
    survival_levels: Sequence[float],
) -> list[int | None]:
    """Kaplan-Meier on one group's rows, sorted by duration with one row per day."""
    at_risk = (events + censored)[::-1].cumsum()[::-1]  # still waiting on that day, censorings included
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(events > 0, 1.0 - events / np.maximum(at_risk, 1), 1.0)
    survival = np.cumprod(factor)
    answers: list[int | None] = []
    for level in survival_levels:
        hits = np.flatnonzero((events > 0) & (survival <= level + _EPSILON))
        answers.append(int(durations[hits[0]]) if hits.size else None)
    return answers


def kaplan_meier_quantiles(records: Records, survival_levels: Sequence[float]) -> list[int | None]:
    """Smallest day at which the product-limit survival falls to each level (None if never): the plain
    Python product the engine's estimator (`_kaplan_meier`) is tested against.

    Censorings on a day stay at risk for that day's events (the usual convention).
    """
    by_day: dict[int, list[int]] = {}
    for r in records:
        counts = by_day.setdefault(int(r["duration"]), [0, 0])
        counts[0] += int(r["events"] or 0)
        counts[1] += int(r["censored"] or 0)
    days_ = sorted(by_day)
    return _quantiles(
        np.array(days_, dtype=np.int64),
        np.array([by_day[d][0] for d in days_], dtype=np.int64),
        np.array([by_day[d][1] for d in days_], dtype=np.int64),
        survival_levels,
    )


#: The shares of episodes treated within a number of days of referral: Onward's 14 days, and the NHS
#: Talking Therapies 6 and 18 weeks (docs/references.md): count-column suffix -> days.
_SHARE_DAYS: dict[str, int] = {
    "": th.TREATED_WITHIN_DAYS,
    "_6w": th.TREATED_WITHIN_6_WEEKS_DAYS,
    "_18w": th.TREATED_WITHIN_18_WEEKS_DAYS,
}
_COUNTS = (
    "events",
    "censored",
    *(f"{kind}{suffix}" for suffix in _SHARE_DAYS for kind in ("eligible", "within")),
)


def split_waits(table: pa.Table, group_columns: Sequence[str]) -> pa.Table:
    """The engine's Kaplan-Meier rows for the breakdown (`group_columns`) or the overall figure (none):
    grouped, the overall row is the pooled one (`level` 1); ungrouped there is only that row."""
    levels = numpy_ints(table.column("level"))
    # Rows picked with NumPy and `take`: comparing with a Python scalar in pyarrow.compute imports pandas.
    level = 0 if group_columns or not levels.size else int(levels.max())
    picked = table.take(arrow_column(np.flatnonzero(levels == level), pa.int64()))
    if group_columns:
        return picked.drop_columns(["level"])
    return picked.select(["median", "p90", *(c for c in _COUNTS if c in picked.column_names)])


#: The tallies each metric is finished from (lets a caller compute a subset of the suite).
NEEDS: dict[str, tuple[str, ...]] = {
    "days_to_first_treatment_median": ("waits",),
    "days_to_first_treatment_p90": ("waits",),
    "share_treated_within_14_days": ("waits",),
    "share_treated_within_6_weeks": ("waits",),
    "share_treated_within_18_weeks": ("waits",),
}


_BUILDERS: dict[str, Callable[[Scope], Tally]] = {"waits": _waits_tally}


def tallies(scope: Scope, needed: Collection[str] | None = None) -> list[Tally]:
    """The aggregate queries of this area (only those `needed`)."""
    return build_tallies(_BUILDERS, scope, needed)


def figures(bag: Bag) -> dict[str, Figure]:
    waits = bag.get("waits", [])  # one row per group from the engine's estimator (none for an empty group)
    median, p90 = (waits[0]["median"], waits[0]["p90"]) if len(waits) == 1 else (None, None)
    treated, censored = total(bag, "waits", "events"), total(bag, "waits", "censored")
    episodes = treated + censored
    return {
        "days_to_first_treatment_median": Figure(median, treated, episodes),
        "days_to_first_treatment_p90": Figure(p90, treated, episodes),
        "share_treated_within_14_days": Figure.rate(
            total(bag, "waits", "within"), total(bag, "waits", "eligible")
        ),
        "share_treated_within_6_weeks": Figure.rate(
            total(bag, "waits", "within_6w"), total(bag, "waits", "eligible_6w")
        ),
        "share_treated_within_18_weeks": Figure.rate(
            total(bag, "waits", "within_18w"), total(bag, "waits", "eligible_18w")
        ),
    }
