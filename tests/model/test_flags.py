"""Each flag rule at its boundaries, on hand-made episodes (docs/flags.md)."""

from __future__ import annotations

from datetime import date, timedelta

from onward.metrics import thresholds
from onward.model.flags import (
    STUCK_MEASURE_RECENT_DAYS,
    STUCK_MIN_OPEN_DAYS,
    EpisodeFacts,
    Flag,
    FlagRules,
    MeasurementFacts,
    ServiceFacts,
    episode_flags,
)

START = date(2024, 1, 1)
TREAT = ServiceFacts(START, "treatment")


def day(n: int) -> date:
    return START + timedelta(days=n)


def phq(n: int, score: int, item9: int | None = 0) -> MeasurementFacts:
    items = None if item9 is None else (*_spread(score - item9, 8), item9)
    return MeasurementFacts(f"p{n:05d}", "phq9", day(n), score, items)


def gad(n: int, score: int) -> MeasurementFacts:
    return MeasurementFacts(f"g{n:05d}", "gad7", day(n), score, _spread(score, 7))


def _spread(total: int, k: int) -> tuple[int, ...]:
    out = [min(3, max(0, total - 3 * i)) for i in range(k)]
    assert sum(out) == total
    return tuple(out)


def flags_on(
    n: int,
    measurements: list[MeasurementFacts],
    services: list[ServiceFacts] | None = None,
    *,
    planned: date | None = None,
    end: date | None = None,
) -> dict[str, Flag]:
    episode = EpisodeFacts("E1", "P1", START, planned, end)
    found = episode_flags(episode, measurements, [TREAT] if services is None else services, as_of=day(n))
    return {f.flag: f for f in found}


def test_risk_from_the_latest_answer_to_the_risk_item() -> None:
    history = [phq(0, 12, 0), phq(14, 12, 1), phq(28, 13, 2)]
    risk = flags_on(30, history)["risk"]
    assert risk.since == day(14) and "PHQ-9 item 9 scored 2 on 2024-01-29" in risk.reason
    assert "risk" not in flags_on(45, [*history, phq(42, 12, 0)])
    assert flags_on(60, [*history, phq(42, 12, 0), phq(56, 12, 1)])["risk"].since == day(56)
    assert "risk" not in flags_on(30, [phq(0, 12, None), phq(28, 27, None)])  # no item answers, no risk


def test_risk_from_the_epds_item_10() -> None:
    epds = MeasurementFacts("e1", "epds", day(3), 12, (0, 0, 3, 0, 3, 3, 0, 0, 2, 1))
    risk = flags_on(5, [epds])["risk"]
    assert risk.since == day(3) and risk.reason.startswith("EPDS item 10 scored 1")


def test_reliable_deterioration_needs_a_reliable_rise() -> None:
    assert "deteriorating" not in flags_on(40, [phq(0, 8), phq(28, 13)])  # +5: not reliable
    det = flags_on(40, [phq(0, 8), phq(28, 14)])["deteriorating"]  # +6
    assert det.since == day(28) and "PHQ-9 8 → 14" in det.reason
    # a reliable drop on GAD-7 at the same time cancels it (NHS Talking Therapies)
    assert "deteriorating" not in flags_on(40, [phq(0, 8), gad(0, 12), phq(28, 14), gad(28, 8)])


def test_not_improving_from_week_8_of_treatment() -> None:
    rules = FlagRules()
    history = [phq(0, 15), phq(28, 14)]
    assert "not_improving" not in flags_on(rules.not_improving_after_days - 1, history)
    flag = flags_on(rules.not_improving_after_days, history)["not_improving"]
    assert (
        flag.since == day(rules.not_improving_after_days) and "8 weeks after treatment began" in flag.reason
    )
    assert "not_improving" not in flags_on(60, [phq(0, 15), phq(28, 9)])  # reliable improvement
    assert "not_improving" not in flags_on(60, [phq(0, 9), phq(28, 8)])  # already below caseness
    assert "not_improving" not in flags_on(60, history, services=[])  # treatment never began
    late_start = [ServiceFacts(day(20), "medication")]
    assert "not_improving" not in flags_on(75, history, late_start)
    assert flags_on(76, history, late_start)["not_improving"].since == day(76)


def test_measure_overdue_after_30_days_without_one() -> None:
    assert "measure_overdue" not in flags_on(29, [phq(0, 12)])
    overdue = flags_on(30, [phq(0, 12)])["measure_overdue"]
    assert overdue.since == day(30) and "no measurement for 30 days" in overdue.reason
    assert "measure_overdue" not in flags_on(40, [phq(0, 12), phq(20, 12)])
    assert "measure_overdue" not in flags_on(90, [phq(0, 12)], services=[])  # not active yet
    # measured at intake, treatment began later: the clock starts at treatment
    after = [ServiceFacts(day(10), "treatment")]
    assert "measure_overdue" not in flags_on(39, [phq(0, 12)], after)
    assert flags_on(40, [phq(0, 12)], after)["measure_overdue"].reason.startswith(
        "no measurement since treatment"
    )
    # any instrument counts as a measurement
    auditc = MeasurementFacts("a1", "auditc", day(20), 2, (1, 1, 0))
    assert "measure_overdue" not in flags_on(40, [phq(0, 12), auditc])


def test_exit_passed_the_day_after_the_planned_exit() -> None:
    assert "exit_passed" not in flags_on(90, [], planned=day(90))
    passed = flags_on(91, [], planned=day(90))["exit_passed"]
    assert passed.since == day(91) and passed.reason == "planned exit 2024-03-31 passed 1 days ago"


def test_ready_to_graduate_on_two_consecutive_measurements_below_caseness() -> None:
    assert "ready_to_graduate" not in flags_on(40, [phq(0, 15), phq(28, 8)])
    ready = flags_on(60, [phq(0, 15), phq(28, 8), phq(56, 6)])["ready_to_graduate"]
    assert ready.since == day(56) and "below caseness on every measurement since 2024-01-29" in ready.reason
    # a measure back at caseness breaks the run
    assert "ready_to_graduate" not in flags_on(90, [phq(0, 15), phq(28, 8), phq(56, 11), phq(84, 8)])
    # caseness counts every instrument measured: GAD-7 still at 8
    assert "ready_to_graduate" not in flags_on(60, [gad(0, 8), phq(28, 8), phq(56, 6)])


def test_ready_to_graduate_on_reliable_recovery_held_four_weeks() -> None:
    rules = FlagRules()
    history = [phq(0, 16), phq(28, 6)]  # at caseness first, below last, 10-point drop
    assert "ready_to_graduate" not in flags_on(28 + rules.recovery_sustained_days - 1, history)
    ready = flags_on(28 + rules.recovery_sustained_days, history)["ready_to_graduate"]
    assert (
        ready.since == day(28 + rules.recovery_sustained_days) and "reliable recovery since" in ready.reason
    )


def test_stuck_after_a_year_without_reliable_improvement() -> None:
    assert thresholds.STUCK_MIN_OPEN_DAYS == STUCK_MIN_OPEN_DAYS  # the metric's rule, not a copy of it
    assert thresholds.STUCK_MEASURE_RECENT_DAYS == STUCK_MEASURE_RECENT_DAYS
    history = [phq(n, 14) for n in range(0, 400, 28)]
    assert "stuck" not in flags_on(STUCK_MIN_OPEN_DAYS - 1, history)
    stuck = flags_on(STUCK_MIN_OPEN_DAYS, history)["stuck"]
    assert stuck.since == day(STUCK_MIN_OPEN_DAYS) and "no reliable improvement" in stuck.reason
    assert "stuck" not in flags_on(400, history, planned=day(401))  # a planned exit still ahead
    assert flags_on(400, history, planned=day(380))["stuck"].since == day(380)


def test_stuck_when_improvement_is_not_measured_for_90_days() -> None:
    improved = [phq(0, 18), phq(200, 8)]
    last_clear = 200 + STUCK_MEASURE_RECENT_DAYS - 1
    assert "stuck" not in flags_on(last_clear, improved)
    stuck = flags_on(last_clear + 1 + 100, improved)["stuck"]
    assert stuck.since == day(STUCK_MIN_OPEN_DAYS) and "no PHQ-9 or GAD-7 in the last 90 days" in stuck.reason
    late = [phq(0, 18), phq(330, 8)]
    assert flags_on(330 + STUCK_MEASURE_RECENT_DAYS, late)["stuck"].since == day(
        330 + STUCK_MEASURE_RECENT_DAYS
    )


def test_only_open_episodes_have_flags_and_risk_comes_first() -> None:
    history = [phq(0, 20, 2)]
    assert flags_on(100, history, end=day(100)) == {}
    assert flags_on(100, history, end=day(101)) != {}
    found = episode_flags(EpisodeFacts("E1", "P1", START, day(10)), history, [TREAT], as_of=day(100))
    assert [f.flag for f in found] == ["risk", "not_improving", "exit_passed", "measure_overdue"]
    assert episode_flags(EpisodeFacts("E1", "P1", day(5)), history, [TREAT], as_of=day(4)) == []
