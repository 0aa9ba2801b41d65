"""Service mix: treatment share of staff minutes and case-management minutes per treatment minute."""

from __future__ import annotations

import pytest
from metrics_helpers import DEFAULT_PROGRAMS, LogFactory, compute, episode, group, service

PROGRAMS = [
    *DEFAULT_PROGRAMS,
    {"program_id": "P3", "name": "School", "kind": "school", "level_of_care": 1, "capacity_slots": 5},
]
STAFF = [{"staff_id": "ST2", "role": "case_manager", "program_id": "P2", "hours_per_week": 40}]


def test_minutes_overall_and_by_program(make_log: LogFactory) -> None:
    folder = make_log(
        programs=PROGRAMS,
        staff=STAFF,
        episodes=[episode("E1", "a", "2024-01-01")],
        services=[
            service("s1", "a", "E1", "2024-01-10", "treatment", 60),
            service("s2", "a", "E1", "2024-01-11", "medication", 30),
            service("s3", "a", "E1", "2024-01-12", "case_management", 45),
            service("s4", "a", None, "2024-01-13", "case_management", 15, staff_id="ST2"),  # P2 via staff
            service("s5", "a", "E1", "2024-01-14", "assessment", 50),  # neither side
            service("s6", "a", "E1", "2023-12-31", "treatment", 100),  # before the period
        ],
    )
    result = compute(folder, start="2024-01-01", by=("program",))
    # treatment 60 + 30 = 90; case management 45 + 15 = 60
    assert result.metrics["treatment_share"] == pytest.approx(90 / 150)
    assert result.metrics["cm_per_treatment"] == pytest.approx(60 / 90)
    p1, p2, p3 = (group(result, program_id=p) for p in ("P1", "P2", "P3"))
    assert p1["treatment_share"] == pytest.approx(90 / 135)
    assert p1["cm_per_treatment"] == pytest.approx(45 / 90)
    assert p2["treatment_share"] == 0.0  # 0 / 15: a real zero
    assert p2["cm_per_treatment"] is None  # 15 / 0: empty denominator
    assert p3["treatment_share"] is None and p3["cm_per_treatment"] is None  # no services at all
    parts = result.figures["treatment_share"]
    assert (parts.numerator, parts.denominator) == (90, 150)


def test_by_service_month(make_log: LogFactory) -> None:
    folder = make_log(
        episodes=[episode("E1", "a", "2024-01-01")],
        services=[
            service("s1", "a", "E1", "2024-01-31", "treatment", 60),
            service("s2", "a", "E1", "2024-02-01", "case_management", 20),
        ],
    )
    result = compute(folder, by=("month",))
    assert group(result, month="2024-01")["treatment_share"] == 1.0
    assert group(result, month="2024-02")["treatment_share"] == 0.0
    assert result.metrics["treatment_share"] == pytest.approx(60 / 80)
