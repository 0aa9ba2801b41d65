"""Outcomes: NHS Talking Therapies recovery / reliable change, HEDIS DRR-E remission and response."""

from __future__ import annotations

from pathlib import Path

import pytest
from metrics_helpers import LogFactory, compute, episode, group, measure, service


def test_talking_therapies_rates(make_log: LogFactory) -> None:
    ended = "2024-06-30"
    folder = make_log(
        episodes=[
            episode(e, e.lower(), "2024-01-01", ended) for e in ("O1", "O2", "O3", "O4", "O5", "O6", "O8")
        ]
        + [episode("O7", "o7", "2024-01-01", "2025-01-10")],  # ends after the period
        measurements=[
            # O1: PHQ-9 15 -> 8: at caseness first, below last, drop 7: recovered, improved.
            measure("1a", "o1", "O1", "phq9", "2024-01-02", 15),
            measure("1b", "o1", "O1", "phq9", "2024-06-01", 8),
            # O2: caseness on PHQ-9 only at first (12; GAD-7 6), GAD-7 9 at the end: not recovered.
            measure("2a", "o2", "O2", "phq9", "2024-01-02", 12),
            measure("2b", "o2", "O2", "phq9", "2024-06-01", 9),
            measure("2c", "o2", "O2", "gad7", "2024-01-02", 6),
            measure("2d", "o2", "O2", "gad7", "2024-06-01", 9),
            # O3: not at caseness first; drop 6 = reliable improvement.
            measure("3a", "o3", "O3", "phq9", "2024-01-02", 8),
            measure("3b", "o3", "O3", "phq9", "2024-06-01", 2),
            # O4: rise 7: reliable deterioration.
            measure("4a", "o4", "O4", "phq9", "2024-01-02", 5),
            measure("4b", "o4", "O4", "phq9", "2024-06-01", 12),
            # O5: one of each instrument: not counted at all.
            measure("5a", "o5", "O5", "phq9", "2024-01-02", 20),
            measure("5b", "o5", "O5", "gad7", "2024-06-01", 2),
            # O6: PHQ-9 20, 22, 13 (first vs last: drop 7) and a lone GAD-7 (ignored): improved, still a case.
            measure("6a", "o6", "O6", "phq9", "2024-01-02", 20),
            measure("6b", "o6", "O6", "phq9", "2024-03-01", 22),
            measure("6c", "o6", "O6", "phq9", "2024-06-01", 13),
            measure("6d", "o6", "O6", "gad7", "2024-01-02", 15),
            # O8: PHQ-9 drop 8 but GAD-7 rise 5: neither improved nor deteriorated; PHQ-9 10 still a case.
            measure("8a", "o8", "O8", "phq9", "2024-01-02", 18),
            measure("8b", "o8", "O8", "phq9", "2024-06-01", 10),
            measure("8c", "o8", "O8", "gad7", "2024-01-02", 4),
            measure("8d", "o8", "O8", "gad7", "2024-06-01", 9),
            # O7 ended outside the period.
            measure("7a", "o7", "O7", "phq9", "2024-01-02", 20),
            measure("7b", "o7", "O7", "phq9", "2024-06-01", 2),
        ],
    )
    m = compute(folder, start="2024-01-01", end="2024-12-31").metrics
    # Counted: O1, O2, O3, O4, O6, O8 (6); at caseness first: O1, O2, O6, O8 (4).
    assert m["recovery_rate"] == pytest.approx(1 / 4)  # O1
    assert m["reliable_improvement_rate"] == pytest.approx(3 / 6)  # O1, O3, O6
    assert m["reliable_recovery_rate"] == pytest.approx(1 / 4)  # O1
    assert m["reliable_deterioration_rate"] == pytest.approx(1 / 6)  # O4


def test_rates_are_null_without_measured_episodes(make_log: LogFactory) -> None:
    folder = make_log(episodes=[episode("E1", "a", "2024-01-01", "2024-02-01")])
    m = compute(folder).metrics
    assert m["recovery_rate"] is None and m["reliable_improvement_rate"] is None
    assert m["remission_6m"] is None and m["response_6m"] is None


def _drr_log(make_log: LogFactory) -> Path:
    return make_log(
        episodes=[episode("EA", "a", "2023-11-01"), episode("EB", "b", "2023-11-01", program_id="P2")],
        measurements=[
            measure("a0", "a", "EA", "phq9", "2023-12-01", 20),  # before the period: not the index
            measure("a1", "a", "EA", "phq9", "2024-01-10", 16),  # index
            measure("a2", "a", "EA", "phq9", "2024-02-01", 18),
            measure("a3", "a", "EA", "phq9", "2024-05-20", 9),  # day 131
            measure("a4", "a", "EA", "phq9", "2024-09-06", 4),  # day 240: last in window -> remission
            measure("a5", "a", "EA", "phq9", "2024-09-07", 20),  # day 241: outside
            measure("b1", "b", "EB", "phq9", "2024-03-01", 10),  # index (10 > 9)
            measure("b2", "b", "EB", "phq9", "2024-06-28", 2),  # day 119: outside
            measure("b3", "b", "EB", "phq9", "2024-06-29", 6),  # day 120: last -> neither
            measure("c1", "c", None, "phq9", "2024-04-01", 14),  # index, never followed up
            measure("d1", "d", None, "phq9", "2024-04-01", 9),  # 9 is not > 9: no index
            measure("e1", "e", None, "phq9", "2024-06-30", 12),  # index; day 240 = 2025-02-25 = data_end
            measure("e2", "e", None, "phq9", "2024-11-01", 6),  # day 124: 6 <= 12 / 2 -> response
            measure("f1", "f", None, "phq9", "2024-07-01", 15),  # day 240 after data_end: left out
            measure("g1", "g", None, "gad7", "2024-03-01", 15),  # not PHQ-9
        ],
        services=[service("x", "a", "EA", "2025-02-25", "case_management")],  # data_end
    )


def test_drr_remission_and_response(make_log: LogFactory) -> None:
    result = compute(_drr_log(make_log), start="2024-01-01", end="2024-07-31")
    # Index events: a, b, c, e (4). Remission: a. Response: a (4 <= 8), e (6 <= 6).
    assert result.metrics["remission_6m"] == pytest.approx(1 / 4)
    assert result.metrics["response_6m"] == pytest.approx(2 / 4)
    assert result.figures["remission_6m"].denominator == 4


def test_drr_by_program_of_the_index_measurement(make_log: LogFactory) -> None:
    result = compute(_drr_log(make_log), start="2024-01-01", end="2024-07-31", by=("program",))
    assert group(result, program_id="P1")["remission_6m"] == 1.0  # a
    assert group(result, program_id="P2")["response_6m"] == 0.0  # b
    no_episode = group(result, program_id=None)  # c and e have no episode
    assert (no_episode["remission_6m"], no_episode["response_6m"]) == (0.0, 0.5)


def test_rates_agree_with_the_instrument_module_on_random_episodes(make_log: LogFactory) -> None:
    """Independent check: the counts equal onward.model.instruments.nhs_outcome, episode by episode."""
    import random

    from onward.model.instruments import nhs_outcome

    rng = random.Random(3)
    episodes, measurements, outcomes = [], [], []
    for i in range(300):
        pairs = {
            "phq9": (rng.randrange(28), rng.randrange(28)),
            "gad7": (rng.randrange(22), rng.randrange(22)),
        }
        measured = rng.choice([("phq9",), ("gad7",), ("phq9", "gad7")])
        lone = "gad7" if measured == ("phq9",) else "phq9"  # a single measure of the other: ignored
        episodes.append(episode(f"E{i}", f"p{i}", "2024-01-01", "2024-06-30"))
        for instrument in measured:
            first, last = pairs[instrument]
            measurements.append(
                measure(f"{i}{instrument}a", f"p{i}", f"E{i}", instrument, "2024-01-02", first)
            )
            middle = rng.randrange(21)
            measurements.append(
                measure(f"{i}{instrument}b", f"p{i}", f"E{i}", instrument, "2024-03-02", middle)
            )
            measurements.append(
                measure(f"{i}{instrument}c", f"p{i}", f"E{i}", instrument, "2024-06-02", last)
            )
        if len(measured) == 1:
            measurements.append(measure(f"{i}{lone}z", f"p{i}", f"E{i}", lone, "2024-02-02", 20))
        outcomes.append(
            nhs_outcome(
                pairs["phq9"] if "phq9" in measured else None, pairs["gad7"] if "gad7" in measured else None
            )
        )
    figures = compute(make_log(episodes=episodes, measurements=measurements)).figures
    cases = sum(o.at_caseness_first for o in outcomes)
    expected = {
        "recovery_rate": (sum(o.recovered for o in outcomes), cases),
        "reliable_improvement_rate": (sum(o.reliable_improvement for o in outcomes), 300),
        "reliable_recovery_rate": (sum(o.reliable_recovery for o in outcomes), cases),
        "reliable_deterioration_rate": (sum(o.reliable_deterioration for o in outcomes), 300),
    }
    assert {k: (figures[k].numerator, figures[k].denominator) for k in expected} == expected


def test_same_day_measurements_are_ordered_by_measurement_id(make_log: LogFactory) -> None:
    folder = make_log(
        episodes=[episode("E1", "a", "2024-01-01", "2024-06-30")],
        measurements=[
            measure("a", "a", "E1", "phq9", "2024-01-02", 15),
            measure("b2", "a", "E1", "phq9", "2024-06-01", 8),  # same day, later id: this one is last
            measure("b1", "a", "E1", "phq9", "2024-06-01", 12),
        ],
    )
    assert compute(folder).metrics["recovery_rate"] == 1.0  # 15 -> 8: below caseness at the end
