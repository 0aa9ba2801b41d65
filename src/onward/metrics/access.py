"""Access metrics ("treatment first"): days from referral to first treatment, Kaplan-Meier with censoring."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from onward.metrics import thresholds as th
from onward.metrics.backends import arrow_column, numpy_ints
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
    return Tally("waits", expr, summarise=summarise_waits)


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
    """Smallest day at which the product-limit survival falls to each level (None if never).

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


_COUNTS = ("events", "censored", "eligible", "within")


def summarise_waits(table: pa.Table, group_columns: Sequence[str]) -> pa.Table:
    """One row per group: Kaplan-Meier median and p90, and the summed counts (vectorised with NumPy)."""
    n = table.num_rows
    if n == 0:
        empty = {"median": pa.int64(), "p90": pa.int64(), **dict.fromkeys(_COUNTS, pa.int64())}
        schema = pa.schema([*(table.schema.field(c) for c in group_columns), *empty.items()])
        return schema.empty_table()
    key = np.zeros(n, dtype=np.int64)
    for column in group_columns:  # one integer per distinct group, nulls included
        encoded = pc.dictionary_encode(table.column(column).combine_chunks(), null_encoding="encode")
        key = key * (len(encoded.dictionary) + 1) + numpy_ints(encoded.indices)
    durations = numpy_ints(table.column("duration"))
    counts = {c: numpy_ints(table.column(c)) for c in _COUNTS}
    order = np.lexsort((durations, key))
    key, durations = key[order], durations[order]
    # Merge rows of the same group and day (the overall figure pools every group's rows).
    first_of_day = np.flatnonzero(np.r_[True, (key[1:] != key[:-1]) | (durations[1:] != durations[:-1])])
    summed = {c: np.add.reduceat(counts[c][order], first_of_day) for c in _COUNTS}
    key, durations = key[first_of_day], durations[first_of_day]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    stops = np.r_[starts[1:], len(key)].astype(np.int64)
    out: dict[str, list[Any]] = {"median": [], "p90": [], **{c: [] for c in _COUNTS}}
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        median, p90 = _quantiles(
            durations[start:stop], summed["events"][start:stop], summed["censored"][start:stop], (0.5, 0.1)
        )
        out["median"].append(median)
        out["p90"].append(p90)
        for c in _COUNTS:
            out[c].append(int(summed[c][start:stop].sum()))
    labels = table.select(list(group_columns)).take(arrow_column(order[first_of_day[starts]], pa.int64()))
    arrays = []
    for values in out.values():
        known = np.array([v is not None for v in values], dtype=np.bool_)
        numbers = np.array([v or 0 for v in values], dtype=np.int64)
        arrays.append(arrow_column(numbers, pa.int64(), valid=None if known.all() else known))
    result = pa.Table.from_arrays(arrays, names=list(out))
    for i, column in enumerate(group_columns):
        result = result.add_column(i, column, labels.column(column))
    return result


#: The tallies each metric is finished from (lets a caller compute a subset of the suite).
NEEDS: dict[str, tuple[str, ...]] = {
    "days_to_first_treatment_median": ("waits",),
    "days_to_first_treatment_p90": ("waits",),
    "share_treated_within_14_days": ("waits",),
}


def tallies(scope: Scope) -> list[Tally]:
    return [_waits_tally(scope)]


def figures(bag: Bag) -> dict[str, Figure]:
    waits = bag.get("waits", [])  # one summarised row per group (none for an empty group)
    if waits and "median" not in waits[0]:  # raw per-day rows (a caller that skipped summarise_waits)
        median, p90 = kaplan_meier_quantiles(waits, (0.5, 0.1))
    else:
        median, p90 = (waits[0]["median"], waits[0]["p90"]) if len(waits) == 1 else (None, None)
    treated, censored = total(bag, "waits", "events"), total(bag, "waits", "censored")
    episodes = treated + censored
    return {
        "days_to_first_treatment_median": Figure(median, treated, episodes),
        "days_to_first_treatment_p90": Figure(p90, treated, episodes),
        "share_treated_within_14_days": Figure.rate(
            total(bag, "waits", "within"), total(bag, "waits", "eligible")
        ),
    }
