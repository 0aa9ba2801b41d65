"""When each lesson of a cohort is due: from a school term's calendar, a due date, or a birth date.

A class follows its school's calendar: the term's first and last day, the weekdays the class meets,
and the days it does not (holidays, testing days). Its grade's lessons are spread evenly over the
teaching days, so a five-lesson grade taught over a term meets about every few weeks, not in the
first five days. An expectant parent's lessons follow their prenatal visits: a lesson set at
gestational week `w` is due `40 - w` weeks before the due date, since the due date is 40 weeks of
gestation counted from the last menstrual period (ACOG Committee Opinion 700, 2017). Postpartum
lessons fall `w` weeks after the birth. docs/skills.md ("Delivery") describes the rules.

Pure functions: no I/O, nothing stored here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from onward.errors import ValidationError
from onward.model.skills import Lesson, Track

DUE_DATE_WEEK = 40
"""Gestational age at the due date, in weeks (ACOG Committee Opinion 700, 2017; docs/references.md)."""

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Term:
    """A school term as a class meets in it: first and last day, meeting weekdays, days off."""

    starts: date
    ends: date
    weekdays: tuple[int, ...]  # 0 = Monday … 6 = Sunday, as `date.weekday()`
    days_off: frozenset[date] = frozenset()

    def teaching_days(self) -> list[date]:
        days = []
        day = self.starts
        while day <= self.ends:
            if day.weekday() in self.weekdays and day not in self.days_off:
                days.append(day)
            day += timedelta(days=1)
        return days


@dataclass(frozen=True, slots=True)
class PlannedLesson:
    """One lesson on the day it is planned for."""

    lesson_id: str
    planned_on: date


def parse_weekdays(text: str) -> tuple[int, ...]:
    """`"tue, thu"` or `"tue thu"` → (1, 3). Unknown day names are refused, naming the field."""
    names = [part.strip().lower()[:3] for part in text.replace(",", " ").split() if part.strip()]
    if not names:
        raise ValidationError("name at least one weekday", column="weekdays", expected="e.g. tue, thu")
    days = []
    for name in names:
        if name not in WEEKDAYS:
            raise ValidationError(
                f"unknown weekday {name!r}", column="weekdays", expected=", ".join(WEEKDAYS)
            )
        days.append(WEEKDAYS.index(name))
    return tuple(sorted(set(days)))


def parse_days_off(text: str) -> frozenset[date]:
    """ISO dates separated by commas, spaces or lines; a bad one is refused, naming the field."""
    days = set()
    for part in text.replace(",", " ").split():
        try:
            days.add(date.fromisoformat(part))
        except ValueError:
            raise ValidationError(f"not a date: {part!r}", column="days_off", expected="YYYY-MM-DD") from None
    return frozenset(days)


def school_schedule(lessons: Sequence[Lesson], term: Term) -> list[PlannedLesson]:
    """Spread a grade's lessons evenly over the term's teaching days, in curriculum order.

    With `n` lessons and `d` teaching days, lesson `i` falls on teaching day `floor(i * d / n)`, so the
    first lesson is on the first day the class meets and the gaps differ by at most one teaching day.
    """
    if term.ends < term.starts:
        raise ValidationError(
            "the term ends before it starts", column="ends", expected=f"after {term.starts}"
        )
    days = term.teaching_days()
    if len(days) < len(lessons):
        raise ValidationError(
            f"the term has {len(days)} teaching days for {len(lessons)} lessons",
            column="weekdays",
            expected="a longer term or more weekdays",
        )
    return [
        PlannedLesson(lesson.id, days[(i * len(days)) // len(lessons)]) for i, lesson in enumerate(lessons)
    ]


def prenatal_schedule(lessons: Iterable[Lesson], due_date: date) -> list[PlannedLesson]:
    """Each prenatal lesson on the day its gestational week begins, counted back from the due date."""
    out = []
    for lesson in lessons:
        if lesson.track is not Track.PRENATAL or lesson.week is None:
            raise ValidationError(f"{lesson.id} is not a prenatal lesson", column="lesson_id")
        out.append(PlannedLesson(lesson.id, due_date - timedelta(weeks=DUE_DATE_WEEK - lesson.week)))
    return out


def postpartum_schedule(lessons: Iterable[Lesson], birth_date: date) -> list[PlannedLesson]:
    """Each postpartum lesson `week` weeks after the birth (week 0 is the day of birth)."""
    out = []
    for lesson in lessons:
        if lesson.track is not Track.POSTPARTUM or lesson.week is None:
            raise ValidationError(f"{lesson.id} is not a postpartum lesson", column="lesson_id")
        out.append(PlannedLesson(lesson.id, birth_date + timedelta(weeks=lesson.week)))
    return out


def gestational_week(due_date: date, on: date) -> int:
    """Completed weeks of gestation on `on`, for a pregnancy due on `due_date` (40 weeks on that day)."""
    return (DUE_DATE_WEEK * 7 - (due_date - on).days) // 7
