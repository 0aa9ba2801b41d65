"""Coverage: lessons planned against lessons delivered, by skill, for any group of cohorts.

A lesson counts as *due* once its planned day has come; coverage is delivered lessons over due ones,
so a class that is on schedule reads 100 % in the first week of term, not 4 %. A lesson delivered
early counts as delivered and as due. Attendance is the share of the cohort present at delivered
lessons. docs/skills.md ("Coverage") gives the definitions; the published metric of the same name
(docs/metrics.md, `skills_coverage`) applies them to whole periods.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from onward.model.skills import Skill


@dataclass(frozen=True, slots=True)
class SessionFact:
    """One planned lesson of a cohort, and what happened to it."""

    lesson_id: str
    skill: Skill
    planned_on: date
    delivered_on: date | None
    present: int = 0  # members marked present (delivered lessons)
    roster: int = 0  # members on the cohort's list that day (delivered lessons)


@dataclass(slots=True)
class Tally:
    planned: int = 0
    due: int = 0
    delivered: int = 0
    present: int = 0
    roster: int = 0

    @property
    def coverage(self) -> float | None:
        """Delivered over due; None while nothing is due yet."""
        return self.delivered / self.due if self.due else None

    @property
    def attendance(self) -> float | None:
        return self.present / self.roster if self.roster else None

    def add(self, fact: SessionFact, today: date) -> None:
        self.planned += 1
        delivered = fact.delivered_on is not None and fact.delivered_on <= today
        if fact.planned_on <= today or delivered:
            self.due += 1
        if delivered:
            self.delivered += 1
            self.present += fact.present
            self.roster += fact.roster


@dataclass(slots=True)
class Coverage:
    """All lessons together, and each of the five skills."""

    total: Tally = field(default_factory=Tally)
    by_skill: dict[Skill, Tally] = field(default_factory=lambda: {skill: Tally() for skill in Skill})


def coverage(facts: Iterable[SessionFact], today: date) -> Coverage:
    out = Coverage()
    for fact in facts:
        out.total.add(fact, today)
        out.by_skill[fact.skill].add(fact, today)
    return out
