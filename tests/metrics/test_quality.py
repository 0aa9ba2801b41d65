"""HEDIS-style quality measures: IET initiation/engagement and FUH follow-up, at their window edges."""

from __future__ import annotations

import pytest
from metrics_helpers import LogFactory, compute, episode, service


def test_iet_initiation_and_engagement(make_log: LogFactory) -> None:
    start = "2024-03-01"
    folder = make_log(
        episodes=[
            episode("Q1", "a", start, is_sud=True),
            episode("Q2", "b", start, is_sud=True),
            episode("Q3", "c", start, is_sud=True),
            episode("Q4", "d", start, is_sud=True),
            episode("Q5", "e", "2024-05-13", is_sud=True),  # start + 48 = data_end: included
            episode("Q6", "f", "2024-05-14", is_sud=True),  # start + 48 after data_end: left out
            episode("Q7", "g", start),  # not SUD
            episode("Q8", "g", "2024-04-01", is_sud=True),
        ],
        services=[
            service("1a", "a", "Q1", "2024-03-14"),  # day 13: initiation
            service("1b", "a", "Q1", "2024-03-15"),  # 1 day after initiation
            service("1c", "a", "Q1", "2024-04-17"),  # 34 days after: engaged
            service("2a", "b", "Q2", "2024-03-15"),  # day 14: too late
            service("3a", "c", "Q3", "2024-03-01"),  # day 0: initiation
            service("3b", "c", "Q3", "2024-03-01"),  # same day: not "after"
            service("3c", "c", "Q3", "2024-03-02"),  # only one more: not engaged
            service("4a", "d", "Q4", "2024-03-05", "medication"),  # initiation
            service("4b", "d", "Q4", "2024-03-10", "case_management"),  # not treatment
            service("4c", "d", "Q4", "2024-03-20"),
            service("4d", "d", "Q4", "2024-04-09"),  # 35 days after: outside
            service("5a", "e", "Q5", "2024-05-13"),
            service("5b", "e", "Q5", "2024-05-14"),
            service("5c", "e", "Q5", "2024-05-15"),
            service("7a", "g", "Q7", "2024-04-02"),  # another episode's service does not initiate Q8
            service("z", "f", "Q6", "2024-06-30", "case_management"),  # data_end
        ],
    )
    m = compute(folder, start="2024-01-01", end="2024-06-30").metrics
    # Cohort: Q1, Q2, Q3, Q4, Q5, Q8 (6). Initiated: Q1, Q3, Q4, Q5. Engaged: Q1, Q5.
    assert m["sud_initiation_14d"] == pytest.approx(4 / 6)
    assert m["sud_engagement_34d"] == pytest.approx(2 / 6)


def test_fuh_follow_up_after_inpatient_discharge(make_log: LogFactory) -> None:
    ended = "2024-03-01"
    folder = make_log(
        staff=[{"staff_id": "ST1", "role": "clinician", "program_id": "P1", "hours_per_week": 40}],
        episodes=[
            episode("F1", "a", "2024-02-01", ended, program_id="P2"),
            episode("F2", "b", "2024-02-01", ended, program_id="P2"),
            episode("F3", "c", "2024-02-01", ended, program_id="P2"),
            episode("F4", "d", "2024-02-01", ended, program_id="P2"),
            episode("F5", "e", "2024-05-01", "2024-05-31", program_id="P2"),  # end + 30 = data_end
            episode("F6", "f", "2024-05-01", "2024-06-01", program_id="P2"),  # end + 30 after data_end
            episode("F7", "g", "2024-02-01", ended),  # outpatient: not a hospitalisation
            *(episode(f"O{p}", p, "2024-01-01") for p in "abcdg"),  # outpatient episodes for follow-up
        ],
        services=[
            service("1a", "a", "Oa", "2024-03-01"),  # discharge day: does not count
            service("1b", "a", "Oa", "2024-03-08", "case_management"),  # day 7: any service counts
            service("2a", "b", "Ob", "2024-03-09"),  # day 8
            service("3a", "c", "F3", "2024-03-03"),  # in the inpatient program: does not count
            service("3b", "c", "Oc", "2024-03-31"),  # day 30
            service("4a", "d", "Od", "2024-04-01"),  # day 31
            service("5a", "e", None, "2024-06-02", staff_id="ST1"),  # no episode: staff's program P1
            service("z", "g", "Og", "2024-06-30"),  # data_end
        ],
    )
    m = compute(folder, start="2024-01-01", end="2024-06-30").metrics
    # Discharges: F1..F5 (5). Within 7 days: F1, F5. Within 30: F1, F2, F3, F5.
    assert m["followup_7d"] == pytest.approx(2 / 5)
    assert m["followup_30d"] == pytest.approx(4 / 5)
