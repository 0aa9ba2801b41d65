"""Flow metrics against hand-counted event logs (docs/metrics.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from metrics_helpers import LogFactory, compute, episode, group, measure, service


def test_admissions_discharges_census_and_graduation_at_period_boundaries(make_log: LogFactory) -> None:
    folder = make_log(
        episodes=[
            episode("E1", "a", "2023-12-15", "2024-01-15", end_reason="graduated"),  # ended in period
            episode("E2", "b", "2024-01-01", "2024-03-31", end_reason="disengaged"),  # both on the bounds
            episode("E3", "c", "2024-03-31"),  # starts on `to`: admitted and open
            episode("E4", "d", "2024-02-01", "2024-04-10", end_reason="graduated"),  # ends after `to`
            episode("E5", "e", "2024-04-01"),  # after the period
        ],
        services=[service("S1", "e", "E5", "2024-06-30")],
    )
    result = compute(folder, start="2024-01-01", end="2024-03-31")
    m = result.metrics
    assert m["admissions"] == 3  # E2, E3, E4
    assert m["discharges"] == 2  # E1, E2
    assert m["graduation_rate"] == pytest.approx(1 / 2)  # E1 graduated of E1, E2
    # open at 2024-03-31: E3 (started that day) and E4 (ends later); E2 ended that day, so it is not open
    assert m["active_census"] == 2


def test_by_month_counts_by_start_end_month_and_census_at_month_end(make_log: LogFactory) -> None:
    folder = make_log(
        episodes=[
            episode("E1", "a", "2023-12-15", "2024-01-15", end_reason="graduated"),
            episode("E2", "b", "2024-01-01", "2024-03-31", end_reason="disengaged"),
            episode("E3", "c", "2024-03-31"),
            episode("E4", "d", "2024-02-01", "2024-04-10", end_reason="graduated"),
        ]
    )
    result = compute(folder, start="2024-01-01", end="2024-03-31", by=("month",))
    jan, feb, mar = (group(result, month=m) for m in ("2024-01", "2024-02", "2024-03"))
    assert (jan["admissions"], feb["admissions"], mar["admissions"]) == (1, 1, 1)  # E2, E4, E3
    assert (jan["discharges"], feb["discharges"], mar["discharges"]) == (1, 0, 1)  # E1, -, E2
    assert (jan["graduation_rate"], feb["graduation_rate"], mar["graduation_rate"]) == (1.0, None, 0.0)
    # census on 01-31: E2; on 02-29: E2, E4; on 03-31: E3, E4 (E2 ended that day)
    assert (jan["active_census"], feb["active_census"], mar["active_census"]) == (1, 2, 2)
    assert result.metrics["active_census"] == 2  # the census at `to`, not the sum over months


def test_graduation_rate_is_none_without_discharges(make_log: LogFactory) -> None:
    folder = make_log(episodes=[episode("E1", "a", "2024-01-01")])
    assert compute(folder).metrics["graduation_rate"] is None


def _stuck_log(make_log: LogFactory) -> Path:
    long_ago = "2023-06-01"
    return make_log(
        episodes=[
            episode("S1", "p1", long_ago),
            episode("S2", "p2", long_ago),
            episode("S3", "p3", long_ago),
            episode("S4", "p4", long_ago, planned_end="2025-03-01"),
            episode("S5", "p5", "2024-06-01"),
            episode("S6", "p6", long_ago),
            episode("S7", "p7", "2024-01-01"),
            episode("S8", "p8", long_ago),
            episode("S9", "p9", long_ago),
        ],
        measurements=[
            measure("m1a", "p1", "S1", "phq9", "2023-06-05", 20),
            measure("m1b", "p1", "S1", "phq9", "2024-12-01", 10),  # drop 10: reliable, recent
            measure("m2a", "p2", "S2", "phq9", "2023-06-05", 20),
            measure("m2b", "p2", "S2", "phq9", "2024-12-01", 18),  # drop 2: not reliable
            measure("m3a", "p3", "S3", "phq9", "2023-06-05", 20),
            measure("m3b", "p3", "S3", "phq9", "2024-08-01", 5),  # reliable but 152 days before `to`
            measure("m6a", "p6", "S6", "gad7", "2024-12-20", 15),  # only one measurement
            measure("m8a", "p8", "S8", "phq9", "2023-06-05", 20),
            measure("m8b", "p8", "S8", "phq9", "2024-10-15", 19),
            measure("m8c", "p8", "S8", "phq9", "2025-01-05", 5),  # after `to`: not seen at `to`
            measure("m9a", "p9", "S9", "phq9", "2023-06-05", 20),
            measure("m9b", "p9", "S9", "phq9", "2024-12-10", 12),  # PHQ-9 drop 8 ...
            measure("m9c", "p9", "S9", "gad7", "2023-06-05", 5),
            measure("m9d", "p9", "S9", "gad7", "2024-12-10", 10),  # ... but GAD-7 rise 5: no improvement
        ],
        services=[service("x", "p1", "S1", "2025-02-01")],
    )


def test_stuck_at_to(make_log: LogFactory) -> None:
    folder = _stuck_log(make_log)
    m = compute(folder, start="2024-01-01", end="2024-12-31").metrics
    # Stuck: S2 (no reliable drop), S3 (nothing in the last 90 days), S6 (fewer than 2), S7 (exactly 365
    # days open, no measures), S8 (the improvement comes after `to`), S9 (rise on GAD-7).
    # Not stuck: S1 (improved, recent), S4 (planned end after `to`), S5 (open < 365 days).
    assert m["active_census"] == 9
    assert m["stuck_count"] == 6
    assert m["stuck_share"] == pytest.approx(6 / 9)


def test_stuck_by_month_uses_measurements_up_to_each_month_end(make_log: LogFactory) -> None:
    folder = _stuck_log(make_log)
    result = compute(folder, start="2024-11-01", end="2024-12-31", by=("month",))
    nov, dec = group(result, month="2024-11"), group(result, month="2024-12")
    # On 2024-11-30: S1, S2, S9 have only their first measure; S3's last is 121 days old; S6 has none yet;
    # S8 did not improve; S7 is open 334 days only; S4 planned; S5 too recent.
    assert (nov["stuck_count"], nov["active_census"]) == (6, 9)
    assert (dec["stuck_count"], dec["active_census"]) == (6, 9)  # the same six as at `to`, S1 replaced by S7
    assert result.metrics["stuck_count"] == 6


def test_reentry_within_365_days_of_graduating(make_log: LogFactory) -> None:
    folder = make_log(
        episodes=[
            episode("G1", "a", "2023-06-01", "2024-01-31", end_reason="graduated"),
            episode("G1r", "a", "2024-02-01"),  # day 1: re-entry
            episode("G2", "b", "2023-06-01", "2024-03-01", end_reason="graduated"),
            episode("G2r", "b", "2025-03-01"),  # day 365: re-entry
            episode("G3", "c", "2023-06-01", "2024-03-01", end_reason="graduated"),
            episode("G3r", "c", "2025-03-02"),  # day 366: too late
            episode("G4", "d", "2023-06-01", "2024-08-01", end_reason="graduated"),  # window past data_end
            episode("G5", "e", "2023-06-01", "2024-04-01", end_reason="disengaged"),  # not a graduate
            episode("G5r", "e", "2024-05-01"),
            episode("G6", "f", "2023-06-01", "2024-05-01", end_reason="graduated"),
            episode("G6r", "f", "2024-05-01"),  # day 0 does not count
        ],
        services=[service("x", "a", "G1r", "2025-06-30")],  # data_end
    )
    result = compute(folder, start="2024-01-01", end="2024-12-31")
    assert result.metrics["reentry_12m_rate"] == pytest.approx(2 / 4)  # G1, G2 of G1, G2, G3, G6
    assert result.figures["reentry_12m_rate"].denominator == 4


def test_empty_program_group_has_zero_counts_and_null_rates(make_log: LogFactory) -> None:
    folder = make_log(episodes=[episode("E1", "a", "2024-01-01", "2024-02-01", end_reason="graduated")])
    result = compute(folder, by=("program",))
    p2 = group(result, program_id="P2")  # the inpatient program has no episodes at all
    assert (p2["admissions"], p2["discharges"], p2["active_census"]) == (0, 0, 0)
    assert p2["graduation_rate"] is None and p2["stuck_share"] is None
    assert group(result, program_id="P1")["graduation_rate"] == 1.0
