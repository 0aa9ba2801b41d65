"""Schedules from a school term, a due date and a birth date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from onward.errors import ValidationError
from onward.model.curricula import load_curricula
from onward.model.skills import Track
from onward.model.skills_schedule import (
    Term,
    gestational_week,
    parse_days_off,
    parse_weekdays,
    postpartum_schedule,
    prenatal_schedule,
    school_schedule,
)


def test_a_grades_lessons_spread_over_the_terms_teaching_days_skipping_days_off() -> None:
    lessons = load_curricula().lessons(grade=3)
    # Tuesdays and Thursdays of September 2026, with Thursday 17 off: 8 teaching days for 5 lessons.
    term = Term(date(2026, 9, 1), date(2026, 9, 30), parse_weekdays("tue, thu"), parse_days_off("2026-09-17"))
    days = term.teaching_days()
    assert len(days) == 8 and date(2026, 9, 17) not in days
    plan = school_schedule(lessons, term)
    assert [p.lesson_id for p in plan] == [lesson.id for lesson in lessons]
    assert plan[0].planned_on == date(2026, 9, 1)
    assert [p.planned_on for p in plan] == [days[i] for i in (0, 1, 3, 4, 6)]
    assert all(p.planned_on.weekday() in (1, 3) for p in plan)


def test_a_term_too_short_or_backwards_is_refused_naming_the_field() -> None:
    lessons = load_curricula().lessons(grade="K")
    with pytest.raises(ValidationError, match="3 teaching days for 5 lessons"):
        school_schedule(lessons, Term(date(2026, 9, 1), date(2026, 9, 3), (0, 1, 2, 3, 4)))
    with pytest.raises(ValidationError, match="ends before it starts"):
        school_schedule(lessons, Term(date(2026, 9, 3), date(2026, 9, 1), (0,)))
    with pytest.raises(ValidationError, match="weekdays"):
        parse_weekdays("tue, funday")
    with pytest.raises(ValidationError, match="days_off"):
        parse_days_off("2026-02-30")


def test_prenatal_lessons_fall_on_their_gestational_week_and_postpartum_after_the_birth() -> None:
    due = date(2027, 3, 1)
    plan = prenatal_schedule(load_curricula().lessons(track=Track.PRENATAL), due)
    first = plan[0]
    assert first.lesson_id == "prenatal-er-1"
    assert first.planned_on == due - timedelta(weeks=28)  # week 12 of 40
    assert gestational_week(due, first.planned_on) == 12
    assert gestational_week(due, due) == 40
    birth = date(2027, 2, 20)
    after = postpartum_schedule(load_curricula().lessons(track=Track.POSTPARTUM), birth)
    assert after[-1].planned_on == birth + timedelta(weeks=52)
    with pytest.raises(ValidationError):
        prenatal_schedule(load_curricula().lessons(track=Track.POSTPARTUM), due)
