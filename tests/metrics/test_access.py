"""Access metrics: Kaplan-Meier days to first treatment with censoring, and the 14-day share."""

from __future__ import annotations

from pathlib import Path

import pytest
from metrics_helpers import LogFactory, compute, episode, referral, service

from onward.metrics.access import kaplan_meier_quantiles


def _access_log(make_log: LogFactory) -> Path:
    return make_log(
        referrals=[referral("R1", "a", "2024-01-01"), referral("R4", "d", "2024-02-01")],
        episodes=[
            episode("A0", "z", "2023-12-31"),  # started before the period
            episode("A1", "a", "2024-01-05", referral_id="R1"),
            episode("A2", "b", "2024-01-10"),  # no referral: origin = start
            episode("A3", "c", "2024-01-20"),
            episode("A4", "d", "2024-02-10", referral_id="R4"),
            episode("A5", "e", "2024-03-25"),
            episode("A6", "f", "2024-02-01"),
        ],
        services=[
            service("s0", "z", "A0", "2024-01-02"),
            service("s1a", "a", "A1", "2024-01-06", "assessment"),  # not a treatment service
            service("s1", "a", "A1", "2024-01-11"),  # 10 days after the referral
            service("s2", "b", "A2", "2024-01-15"),  # 5 days after start
            service("s3", "c", "A3", "2024-02-09", "medication"),  # 20 days; medication is treatment
            service("s6", "f", "A6", "2024-03-02"),  # 30 days
            service("s9", "z", "A0", "2024-03-31", "case_management"),  # sets data_end = 2024-03-31
        ],
    )


def test_kaplan_meier_median_with_censoring(make_log: LogFactory) -> None:
    result = compute(_access_log(make_log), start="2024-01-01", end="2024-03-31")
    # Events at 5 (A2), 10 (A1), 20 (A3), 30 (A6); censored at 6 (A5: 03-25 to 03-31), 59 (A4: 02-01..03-31).
    # S(5) = 5/6; A5 leaves at 6; S(10) = 5/6 * 3/4 = 0.625; S(20) = 0.625 * 2/3 = 0.417 <= 0.5 -> median 20.
    # S(30) = 0.417 * 1/2 = 0.208, then only a censoring: never <= 0.1 -> p90 null.
    m = result.metrics
    assert m["days_to_first_treatment_median"] == 20
    assert m["days_to_first_treatment_p90"] is None
    figure = result.figures["days_to_first_treatment_median"]
    assert (figure.numerator, figure.denominator) == (4, 6)  # treated, episodes
    # Eligible (origin + 14 <= data_end): all but A5; within 14 days: A1 (10), A2 (5).
    assert m["share_treated_within_14_days"] == pytest.approx(2 / 5)


def test_as_of_hides_later_events_and_censors_there(make_log: LogFactory) -> None:
    result = compute(_access_log(make_log), start="2024-01-01", as_of="2024-02-05")
    assert result.period.data_end.isoformat() == "2024-02-05"
    assert result.period.end.isoformat() == "2024-02-05"
    # Cohort: A1 (10), A2 (5), A3 (treated 02-09, after as_of: censored at 16), A6 (censored at 4);
    # A4 and A5 start after as_of. S(5) = 2/3 (A6 left at 4), S(10) = 1/3 -> median 10.
    m = result.metrics
    assert m["admissions"] == 4
    assert m["days_to_first_treatment_median"] == 10
    # Eligible: A1, A2, A3 (origin 01-20 + 14 <= 02-05); A6 too recent. Within: A1, A2.
    assert m["share_treated_within_14_days"] == pytest.approx(2 / 3)


def test_by_start_month(make_log: LogFactory) -> None:
    result = compute(_access_log(make_log), start="2024-01-01", end="2024-03-31", by=("month",))
    groups = {g["month"]: g for g in result.to_json()["groups"]}
    # January: A1 (10), A2 (5), A3 (20): S = 2/3, 1/3 -> median 10; S(20) = 0 -> p90 20.
    assert groups["2024-01"]["days_to_first_treatment_median"] == 10
    assert groups["2024-01"]["days_to_first_treatment_p90"] == 20
    # February: A6 (30), A4 censored at 59: S(30) = 1/2 -> median 30.
    assert groups["2024-02"]["days_to_first_treatment_median"] == 30
    # March: A5 censored only.
    assert groups["2024-03"]["days_to_first_treatment_median"] is None
    assert groups["2024-03"]["share_treated_within_14_days"] is None  # nobody eligible yet


def test_kaplan_meier_ties_and_exact_half() -> None:
    records = [
        {"duration": 1, "events": 1, "censored": 0},
        {"duration": 2, "events": 1, "censored": 1},  # censored on day 2 are at risk for day 2's event
        {"duration": 3, "events": 1, "censored": 0},
    ]
    # S(1) = 3/4; S(2) = 3/4 * 2/3 = 0.5 exactly -> median 2; S(3) = 0 -> p90 3.
    assert kaplan_meier_quantiles(records, (0.5, 0.1)) == [2, 3]
    assert kaplan_meier_quantiles([], (0.5,)) == [None]


@pytest.mark.parametrize("engine", ["duckdb", "sqlite"])
def test_kaplan_meier_in_the_engine_per_group_and_pooled(engine: str) -> None:
    import ibis
    import pyarrow as pa

    from onward.metrics.access import _kaplan_meier

    rows = [  # level, program, day, events, censored
        (0, "P1", 2, 1, 0),
        (0, "P1", 5, 1, 1),
        (0, "P2", 2, 1, 0),
        (0, "P2", 3, 0, 1),
        (0, "P3", 1, 1, 0),
        (0, "P3", 2, 1, 1),  # S(2) = 3/4 x 2/3 = 0.5 exactly: the median is day 2
        (0, "P3", 3, 1, 0),
        (1, None, 2, 2, 0),  # a pooled row set, as the waits tally adds when grouped
        (1, None, 3, 0, 1),
        (1, None, 5, 1, 1),
        (1, None, 9, 2, 0),
    ]
    table = pa.table(
        {
            "level": pa.array([r[0] for r in rows], pa.int64()),
            "program_id": pa.array([r[1] for r in rows], pa.string()),
            "duration": pa.array([r[2] for r in rows], pa.int64()),
            "events": pa.array([r[3] for r in rows], pa.int64()),
            "censored": pa.array([r[4] for r in rows], pa.int64()),
            "eligible": pa.array([1] * len(rows), pa.int64()),
            "within": pa.array([r[3] for r in rows], pa.int64()),
        }
    )
    from onward.metrics.backends import quiet_engine_warnings

    con = ibis.duckdb.connect() if engine == "duckdb" else ibis.sqlite.connect()
    expr = _kaplan_meier(ibis.memtable(table), ["level", "program_id"])
    with quiet_engine_warnings():
        out = {r["program_id"]: r for r in con.to_pyarrow(expr).to_pylist()}
        empty = con.to_pyarrow(expr.limit(0)).num_rows
    # P1 (3 episodes): S(2) = 2/3; S(5) = 2/3 x 1/2 = 1/3 -> median 5, p90 never. P2: S(2) = 1/2 -> median 2.
    assert (out["P1"]["median"], out["P1"]["p90"], out["P1"]["censored"]) == (5, None, 1)
    assert (out["P2"]["median"], out["P2"]["p90"]) == (2, None)
    assert (out["P3"]["median"], out["P3"]["p90"]) == (2, 3)  # S(3) = 0: everyone left
    # Pooled, 7 episodes: day 2: 2 of 7 -> 5/7; day 3 censor; day 5: 1 of 4 -> 15/28; day 9: 2 of 2 -> 0.
    assert (out[None]["median"], out[None]["p90"]) == (9, 9)
    for program in ("P1", "P2", "P3", None):
        mine = [{"duration": r[2], "events": r[3], "censored": r[4]} for r in rows if r[1] == program]
        assert [out[program]["median"], out[program]["p90"]] == kaplan_meier_quantiles(mine, (0.5, 0.1))
    assert empty == 0


def test_six_and_eighteen_week_shares(make_log: LogFactory) -> None:
    """NHS Talking Therapies standards: treated within 42 / 126 days of referral once observed that long."""
    folder = make_log(
        referrals=[referral(f"R{i}", p, "2024-01-01") for i, p in enumerate("abcde")],
        episodes=[episode(f"E{i}", p, "2024-01-02", referral_id=f"R{i}") for i, p in enumerate("abcde")],
        services=[
            service("s0", "a", "E0", "2024-01-20"),  # 19 days
            service("s1", "b", "E1", "2024-02-12"),  # 42 days: within 6 weeks
            service("s2", "c", "E2", "2024-02-13"),  # 43 days: within 18 weeks only
            service("s3", "d", "E3", "2024-05-06"),  # 126 days: within 18 weeks
            service("s4", "e", "E4", "2024-05-07"),  # 127 days: neither
            service("s9", "a", "E0", "2024-05-07", "case_management"),  # data_end = 2024-05-07
        ],
    )
    m = compute(folder, start="2024-01-01", end="2024-01-31").metrics
    # Everyone's origin (2024-01-01) is 127 days before data_end: eligible for both.
    assert m["share_treated_within_6_weeks"] == pytest.approx(2 / 5)
    assert m["share_treated_within_18_weeks"] == pytest.approx(4 / 5)
    early = compute(folder, start="2024-01-01", end="2024-01-31", as_of="2024-03-01").metrics
    # As of 1 March: 60 days observed: eligible for 6 weeks (treated a, b), not yet for 18 weeks.
    assert early["share_treated_within_6_weeks"] == pytest.approx(2 / 5)
    assert early["share_treated_within_18_weeks"] is None
