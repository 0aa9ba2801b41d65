"""A straightforward pandas implementation of every metric of docs/metrics.md, by program and month.

Written for the benchmark as the baseline an analyst would write by hand: read the Parquet files into
DataFrames, filter, merge, group. It follows the definitions (and the grouping rules of
`onward.metrics.registry`) independently of the Ibis code, so the test that compares the two on a small
extract checks both. Dates become day numbers (days since 1970-01-01, NaN when empty) to keep arithmetic
plain. It assumes no `as_of` (data_end is the latest recorded event).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

Key = tuple[str | None, str]  # (program_id or None, "YYYY-MM")
EPOCH = date(1970, 1, 1)

# Thresholds as in docs/metrics.md and docs/references.md (the sources of onward.metrics.thresholds).
PHQ9_CASENESS, GAD7_CASENESS = 10, 8  # NHS Talking Therapies caseness
PHQ9_RELIABLE, GAD7_RELIABLE = 6, 4  # NHS Talking Therapies reliable change
TREATMENT = ("treatment", "medication")  # docs/metrics.md: "treatment service"


def _day(d: date) -> int:
    return (d - EPOCH).days


def _read(folder: Path, name: str) -> pd.DataFrame:
    frame = pq.read_table(folder / f"{name}.parquet").to_pandas(date_as_object=False)
    for column in frame.columns:
        if str(frame[column].dtype).startswith("datetime64"):
            values = frame[column].to_numpy().astype("datetime64[D]")
            frame[column] = np.where(np.isnat(values), np.nan, values.astype(np.int64).astype(float))
    return frame


def _month(days: pd.Series) -> pd.Series:
    """'YYYY-MM' of a day-number column."""
    stamps = pd.to_datetime(days.to_numpy().astype("int64"), unit="D")
    return pd.Series(stamps.strftime("%Y-%m"), index=days.index)


def _km_quantiles(cohort: pd.DataFrame) -> dict[Key, tuple[Any, Any]]:
    """Kaplan-Meier median and 90th percentile per group: smallest t with survival <= 0.5 / <= 0.1."""
    keys = ["program_id", "month"]
    frame = cohort.assign(e=cohort["treated"].astype(int))
    table = (
        frame.groupby([*keys, "duration"], dropna=False)
        .agg(events=("e", "sum"), leaving=("e", "size"))
        .reset_index()
        .sort_values([*keys, "duration"])
    )
    grouped = table.groupby(keys, dropna=False, sort=False)
    # At risk at t: everyone whose time is >= t (censorings at t stay at risk for t's events).
    table["at_risk"] = grouped["leaving"].transform("sum") - grouped["leaving"].cumsum() + table["leaving"]
    table["survival"] = (
        (1.0 - table["events"] / table["at_risk"])
        .groupby([table[k] for k in keys], dropna=False, sort=False)
        .cumprod()
    )
    out: dict[Key, tuple[Any, Any]] = {}
    for (program, month), _ in grouped:
        out[(_program(program), str(month))] = (None, None)
    for slot, level in enumerate((0.5, 0.1)):
        hits = table[(table["events"] > 0) & (table["survival"] <= level + 1e-12)]
        for (program, month), t in hits.groupby(keys, dropna=False)["duration"].min().items():
            key = (_program(program), str(month))
            pair = list(out[key])
            pair[slot] = int(t)
            out[key] = (pair[0], pair[1])
    return out


def _rate(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _first_last(measurements: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per `key` and instrument: count, first and last score (ordered by date, then measurement_id)."""
    ordered = measurements.sort_values([key, "instrument", "measured_on", "measurement_id"])
    grouped = ordered.groupby([key, "instrument"], sort=False)["score"]
    per = pd.DataFrame({"n": grouped.size(), "first": grouped.first(), "last": grouped.last()}).reset_index()
    wide = per.pivot(index=key, columns="instrument", values=["n", "first", "last"])
    wide.columns = [f"{instrument}_{what}" for what, instrument in wide.columns]
    for column in ("phq9_n", "phq9_first", "phq9_last", "gad7_n", "gad7_first", "gad7_last"):
        if column not in wide.columns:
            wide[column] = np.nan
    return wide


def _change_flags(w: pd.DataFrame) -> dict[str, pd.Series]:
    """NHS Talking Therapies rules, first vs last of each instrument with >= 2 measurements."""
    phq_ok = w["phq9_n"].fillna(0) >= 2
    gad_ok = w["gad7_n"].fillna(0) >= 2
    case_first = (phq_ok & (w["phq9_first"] >= PHQ9_CASENESS)) | (gad_ok & (w["gad7_first"] >= GAD7_CASENESS))
    case_last = (phq_ok & (w["phq9_last"] >= PHQ9_CASENESS)) | (gad_ok & (w["gad7_last"] >= GAD7_CASENESS))
    drop = (phq_ok & (w["phq9_first"] - w["phq9_last"] >= PHQ9_RELIABLE)) | (
        gad_ok & (w["gad7_first"] - w["gad7_last"] >= GAD7_RELIABLE)
    )
    rise = (phq_ok & (w["phq9_last"] - w["phq9_first"] >= PHQ9_RELIABLE)) | (
        gad_ok & (w["gad7_last"] - w["gad7_first"] >= GAD7_RELIABLE)
    )
    recovered = case_first & ~case_last
    improved = drop & ~rise
    return {
        "eligible": phq_ok | gad_ok,
        "case_first": case_first,
        "recovered": recovered,
        "improved": improved,
        "deteriorated": rise & ~drop,
        "reliably_recovered": recovered & improved,
    }


def _sum_by(frame: pd.DataFrame, columns: dict[str, str]) -> dict[Key, dict[str, float]]:
    """Sum the given columns by (program_id, month) into {key: {name: value}}."""
    if frame.empty:
        return {}
    sums = frame.groupby(["program_id", "month"], dropna=False)[list(columns)].sum()
    out: dict[Key, dict[str, float]] = {}
    for key, row in sums.iterrows():
        out[(_program(key[0]), str(key[1]))] = {name: float(row[col]) for col, name in columns.items()}
    return out


def _program(value: Any) -> str | None:
    return (
        None
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA
        else str(value)
    )


def compute(folder: Path, *, start: date | None = None, end: date | None = None) -> dict[Key, dict[str, Any]]:
    """Every metric of docs/metrics.md for each (program_id, month) group of the period."""
    programs = _read(folder, "programs")
    staff = _read(folder, "staff")
    referrals = _read(folder, "referrals")
    episodes = _read(folder, "episodes")
    services = _read(folder, "services")
    measurements = _read(folder, "measurements")

    data_end = int(
        np.nanmax(
            [
                referrals["referral_date"].max(),
                episodes["start_date"].max(),
                episodes["end_date"].max(),
                services["service_date"].max(),
                measurements["measured_on"].max(),
            ]
        )
    )
    first = int(
        np.nanmin(
            [
                referrals["referral_date"].min(),
                episodes["start_date"].min(),
                episodes["end_date"].min(),
                services["service_date"].min(),
                measurements["measured_on"].min(),
            ]
        )
    )
    lo = _day(start) if start else first
    hi = _day(end) if end else data_end

    def in_period(days: pd.Series) -> pd.Series:
        return (days >= lo) & (days <= hi)

    parts: dict[Key, dict[str, float]] = {}

    def add(found: dict[Key, dict[str, float]]) -> None:
        for key, values in found.items():
            parts.setdefault(key, {}).update(values)

    # Flow: admissions, discharges (+ graduated).
    started = episodes[in_period(episodes["start_date"])].assign(one=1.0)
    started["month"] = _month(started["start_date"])
    add(_sum_by(started, {"one": "admissions"}))
    ended = episodes[in_period(episodes["end_date"])].copy()
    ended["month"] = _month(ended["end_date"])
    ended["one"] = 1.0
    ended["grad"] = (ended["end_reason"] == "graduated").astype(float)
    add(_sum_by(ended, {"one": "discharges", "grad": "graduated"}))

    # Service mix: minutes by the service's program (its episode's, else its staff member's).
    s = services[in_period(services["service_date"])]
    s = s.merge(episodes[["episode_id", "program_id"]], on="episode_id", how="left")
    s = s.merge(
        staff[["staff_id", "program_id"]].rename(columns={"program_id": "st_program"}),
        on="staff_id",
        how="left",
    )
    s["program_id"] = s["program_id"].fillna(s["st_program"])
    s["month"] = _month(s["service_date"])
    s["tx"] = np.where(s["category"].isin(TREATMENT), s["minutes"], 0).astype(float)
    s["cm"] = np.where(s["category"] == "case_management", s["minutes"], 0).astype(float)
    add(_sum_by(s, {"tx": "treatment_minutes", "cm": "cm_minutes"}))

    # Access: origin = referral date (else start); first treatment service of the episode; KM per group.
    cohort = started.merge(referrals[["referral_id", "referral_date"]], on="referral_id", how="left")
    tx_services = services[services["category"].isin(TREATMENT) & services["episode_id"].notna()]
    first_tx = tx_services.groupby("episode_id")["service_date"].min().rename("first_tx")
    cohort = cohort.merge(first_tx, left_on="episode_id", right_index=True, how="left")
    cohort["origin"] = cohort["referral_date"].fillna(cohort["start_date"])
    treated = cohort["first_tx"].notna()
    cohort["treated"] = treated
    cohort["duration"] = np.where(
        treated, np.maximum(cohort["first_tx"] - cohort["origin"], 0), data_end - cohort["origin"]
    )
    # Shares treated within 14 days, 6 weeks and 18 weeks of referral, among those referred that long ago.
    for days in (14, 42, 126):
        eligible = (data_end - cohort["origin"]) >= days
        cohort[f"eligible{days}"] = eligible.astype(float)
        within = eligible & treated & (cohort["first_tx"] - cohort["origin"] <= days)
        cohort[f"within{days}"] = within.astype(float)
        add(_sum_by(cohort, {f"eligible{days}": f"eligible{days}", f"within{days}": f"within{days}"}))
    km = _km_quantiles(cohort)

    # Outcomes: NHS Talking Therapies over episodes ended in the period with >= 2 PHQ-9/GAD-7 of one kind.
    mood = measurements[
        measurements["instrument"].isin(("phq9", "gad7")) & measurements["episode_id"].notna()
    ]
    wide = _first_last(mood, "episode_id")
    out_rows = ended.merge(wide, left_on="episode_id", right_index=True, how="inner")
    flags = _change_flags(out_rows)
    for name, values in flags.items():
        out_rows[name] = values.astype(float)
    out_rows = out_rows[out_rows["eligible"] == 1]
    add(_sum_by(out_rows, {k: f"tt_{k}" for k in flags}))

    # Re-entry: graduates ended in the period with a full year of follow-up, back on days 1-365.
    grads = ended[(ended["end_reason"] == "graduated") & (data_end - ended["end_date"] >= 365)]
    later = episodes[["person_id", "start_date"]].rename(columns={"start_date": "r_start"})
    pairs = grads[["episode_id", "person_id", "end_date"]].merge(later, on="person_id")
    gap = pairs["r_start"] - pairs["end_date"]
    returned_ids = set(pairs.loc[(gap >= 1) & (gap <= 365), "episode_id"])
    grads = grads.assign(one=1.0, back=grads["episode_id"].isin(returned_ids).astype(float))
    add(_sum_by(grads, {"one": "graduates", "back": "returned"}))

    # HEDIS IET over SUD episodes started in the period with 48 days of follow-up.
    sud = started[started["is_sud"] & (data_end - started["start_date"] >= 48)]
    sud_tx = sud[["episode_id", "start_date"]].merge(
        tx_services[["episode_id", "service_date"]], on="episode_id"
    )
    offset = sud_tx["service_date"] - sud_tx["start_date"]
    init = sud_tx[(offset >= 0) & (offset <= 13)].groupby("episode_id")["service_date"].min().rename("init")
    sud_tx = sud_tx.merge(init, left_on="episode_id", right_index=True)
    after = sud_tx["service_date"] - sud_tx["init"]
    more = sud_tx[(after >= 1) & (after <= 34)].groupby("episode_id").size()
    sud = sud.assign(
        one=1.0,
        initiated=sud["episode_id"].isin(init.index).astype(float),
        engaged=(sud["episode_id"].isin(init.index) & (sud["episode_id"].map(more).fillna(0) >= 2)).astype(
            float
        ),
    )
    add(_sum_by(sud, {"one": "sud", "initiated": "initiated", "engaged": "engaged"}))

    # HEDIS FUH: inpatient discharges with 30 days of follow-up; a service in a non-inpatient program.
    inpatient_ids = set(programs.loc[programs["kind"] == "inpatient", "program_id"])
    fuh = ended[ended["program_id"].isin(inpatient_ids) & (data_end - ended["end_date"] >= 30)]
    all_s = services.merge(episodes[["episode_id", "program_id"]], on="episode_id", how="left")
    all_s = all_s.merge(
        staff[["staff_id", "program_id"]].rename(columns={"program_id": "st_program"}),
        on="staff_id",
        how="left",
    )
    all_s["program_id"] = all_s["program_id"].fillna(all_s["st_program"])
    outside = all_s[all_s["program_id"].notna() & ~all_s["program_id"].isin(inpatient_ids)]
    visits = fuh[["episode_id", "person_id", "end_date"]].merge(
        outside[["person_id", "service_date"]], on="person_id"
    )
    visit_gap = visits["service_date"] - visits["end_date"]
    first_gap = (
        visits[(visit_gap >= 1) & (visit_gap <= 30)].assign(g=visit_gap).groupby("episode_id")["g"].min()
    )
    fuh = fuh.assign(
        one=1.0,
        short=(fuh["episode_id"].map(first_gap) <= 7).astype(float),
        long=fuh["episode_id"].isin(first_gap.index).astype(float),
    )
    add(_sum_by(fuh, {"one": "fuh", "short": "fuh_short", "long": "fuh_long"}))

    # HEDIS DRR-E: a person's first PHQ-9 > 9 in the period; last PHQ-9 on days 120-240 after it.
    phq = measurements[measurements["instrument"] == "phq9"]
    index = phq[in_period(phq["measured_on"]) & (phq["score"] > 9)].sort_values(
        ["person_id", "measured_on", "measurement_id"]
    )
    index = index.drop_duplicates("person_id")
    index = index[data_end - index["measured_on"] >= 240]
    follow = (
        index[["person_id", "measured_on"]]
        .rename(columns={"measured_on": "idx"})
        .merge(phq[["person_id", "measured_on", "measurement_id", "score"]], on="person_id")
    )
    off = follow["measured_on"] - follow["idx"]
    follow = follow[(off >= 120) & (off <= 240)].sort_values(["person_id", "measured_on", "measurement_id"])
    last_score = follow.drop_duplicates("person_id", keep="last").set_index("person_id")["score"]
    index = index.merge(episodes[["episode_id", "program_id"]], on="episode_id", how="left")
    index["month"] = _month(index["measured_on"])
    last = index["person_id"].map(last_score)
    index = index.assign(
        one=1.0, remitted=(last < 5).astype(float), responded=(last * 2 <= index["score"]).astype(float)
    )
    add(_sum_by(index, {"one": "drr", "remitted": "remitted", "responded": "responded"}))

    # Point in time: census and stuck at each month's last day (clipped to the period's end).
    mood_sorted = mood.sort_values(["episode_id", "instrument", "measured_on", "measurement_id"])
    for month_first in _months(lo, hi):
        checkpoint = min(_day(_next_month(month_first)) - 1, hi)
        label = month_first.strftime("%Y-%m")
        open_ = episodes[
            (episodes["start_date"] <= checkpoint)
            & (episodes["end_date"].isna() | (episodes["end_date"] > checkpoint))
        ]
        census = open_.groupby("program_id").size()
        candidates = open_[
            (checkpoint - open_["start_date"] >= 365)
            & (open_["planned_end_date"].isna() | (open_["planned_end_date"] <= checkpoint))
        ]
        known = mood_sorted[
            (mood_sorted["measured_on"] <= checkpoint)
            & mood_sorted["episode_id"].isin(candidates["episode_id"])
        ]
        w = (
            _first_last(known, "episode_id")
            if len(known)
            else _first_last(mood_sorted.iloc[:0], "episode_id")
        )
        last_date = known.groupby("episode_id")["measured_on"].max()
        c = candidates[["episode_id", "program_id"]].merge(
            w, left_on="episode_id", right_index=True, how="left"
        )
        improved = _change_flags(c)["improved"]
        recent_date = pd.to_numeric(c["episode_id"].map(last_date), errors="coerce")
        recent = recent_date.notna() & (checkpoint - recent_date < 90)
        c = c.assign(stuck=(~(improved & recent)).astype(float))
        stuck = c.groupby("program_id")["stuck"].sum()
        for program, n in census.items():
            parts.setdefault((str(program), label), {})["census"] = float(n)
        for program, n in stuck.items():
            parts.setdefault((str(program), label), {})["stuck"] = float(n)

    out: dict[Key, dict[str, Any]] = {}
    for key, p in parts.items():
        g = p.get
        tx, cm = g("treatment_minutes", 0.0), g("cm_minutes", 0.0)
        median, p90 = km.get(key, (None, None))
        out[key] = {
            "admissions": int(g("admissions", 0)),
            "discharges": int(g("discharges", 0)),
            "active_census": int(g("census", 0)),
            "treatment_share": _rate(tx, tx + cm),
            "cm_per_treatment": _rate(cm, tx),
            "days_to_first_treatment_median": median,
            "days_to_first_treatment_p90": p90,
            "share_treated_within_14_days": _rate(g("within14", 0), g("eligible14", 0)),
            "share_treated_within_6_weeks": _rate(g("within42", 0), g("eligible42", 0)),
            "share_treated_within_18_weeks": _rate(g("within126", 0), g("eligible126", 0)),
            "graduation_rate": _rate(g("graduated", 0), g("discharges", 0)),
            "stuck_count": int(g("stuck", 0)),
            "stuck_share": _rate(g("stuck", 0), g("census", 0)),
            "recovery_rate": _rate(g("tt_recovered", 0), g("tt_case_first", 0)),
            "reliable_improvement_rate": _rate(g("tt_improved", 0), g("tt_eligible", 0)),
            "reliable_recovery_rate": _rate(g("tt_reliably_recovered", 0), g("tt_case_first", 0)),
            "reliable_deterioration_rate": _rate(g("tt_deteriorated", 0), g("tt_eligible", 0)),
            "remission_6m": _rate(g("remitted", 0), g("drr", 0)),
            "response_6m": _rate(g("responded", 0), g("drr", 0)),
            "reentry_12m_rate": _rate(g("returned", 0), g("graduates", 0)),
            "sud_initiation_14d": _rate(g("initiated", 0), g("sud", 0)),
            "sud_engagement_34d": _rate(g("engaged", 0), g("sud", 0)),
            "followup_7d": _rate(g("fuh_short", 0), g("fuh", 0)),
            "followup_30d": _rate(g("fuh_long", 0), g("fuh", 0)),
        }
    return out


def _months(lo: int, hi: int) -> list[date]:
    first = EPOCH + timedelta(days=lo)
    last = EPOCH + timedelta(days=hi)
    out, current = [], date(first.year, first.month, 1)
    while current <= last:
        out.append(current)
        current = _next_month(current)
    return out


def _next_month(d: date) -> date:
    return date(d.year + 1, 1, 1) if d.month == 12 else date(d.year, d.month + 1, 1)
