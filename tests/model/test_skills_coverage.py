"""Coverage counts lessons due by today, delivered ones, and attendance, by skill."""

from __future__ import annotations

from datetime import date

from onward.model.skills import Skill
from onward.model.skills_coverage import SessionFact, coverage


def test_coverage_is_delivered_over_due_and_counts_early_deliveries() -> None:
    today = date(2026, 10, 1)
    facts = [
        SessionFact("a", Skill.EMOTION_REGULATION, date(2026, 9, 1), date(2026, 9, 1), present=20, roster=24),
        SessionFact("b", Skill.DISTRESS_TOLERANCE, date(2026, 9, 15), None),
        SessionFact("c", Skill.SELF_REFLECTION, date(2026, 11, 1), date(2026, 9, 20), present=22, roster=24),
        SessionFact("d", Skill.RELATING_TO_OTHERS, date(2026, 12, 1), None),
    ]
    result = coverage(facts, today)
    assert (result.total.planned, result.total.due, result.total.delivered) == (4, 3, 2)
    assert result.total.coverage == 2 / 3
    assert result.total.attendance == 42 / 48
    assert result.by_skill[Skill.DISTRESS_TOLERANCE].coverage == 0
    assert result.by_skill[Skill.RELATING_TO_OTHERS].coverage is None
    assert coverage(facts, date(2026, 8, 1)).total.due == 0
