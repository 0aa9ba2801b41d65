"""Coverage of the skills lessons per cohort, grade, school and clinic: planned against delivered, by skill.

Staff of a program and its manager see their own programs' cohorts one by one. Leaders and analysts
see programs and grades only, never one parent's cohort, since that would be one person's care; the
published metrics (docs/metrics.md) add small-cell suppression on top.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from onward.errors import PermissionDeniedError
from onward.model.skills import GRADES, Skill
from onward.model.skills_coverage import Coverage, SessionFact, coverage
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.store.tables import Person, Program
from onward.store.tables_skills import Cohort, CohortMember, SkillsAttendance, SkillsSession


@dataclass(frozen=True, slots=True)
class CoverageRow:
    label: str
    kind: str  # cohort, grade, school, clinic, track
    key: str
    cohorts: int
    coverage: Coverage


@dataclass(frozen=True, slots=True)
class CoverageReport:
    on: date
    cohorts: list[CoverageRow]  # empty for leaders and analysts
    grades: list[CoverageRow]
    programs: list[CoverageRow]
    tracks: list[CoverageRow]


def _scope(actor: Actor) -> tuple[bool, tuple[str, ...] | None]:
    """(may see single cohorts, programs in scope or None for all)."""
    if actor.role == "operator":
        return True, None
    if actor.may(Permission.SKILLS_DELIVERY) or actor.may(Permission.OWN_PROGRAMS):
        return True, actor.program_ids
    if actor.may(Permission.AGGREGATES):
        return False, None
    raise PermissionDeniedError(f"your role ({actor.role}) may not see coverage")


def facts_by_cohort(
    session: Session, cohort_ids: list[str] | None = None, programs: tuple[str, ...] | None = None
) -> dict[str, list[SessionFact]]:
    """Every planned lesson of the cohorts in scope, with attendance counted per delivered lesson."""
    attendance = (
        select(
            SkillsAttendance.session_id,
            func.sum(case((SkillsAttendance.present, 1), else_=0)).label("present"),
            func.count().label("roster"),
        )
        .group_by(SkillsAttendance.session_id)
        .subquery()
    )
    query = (
        select(SkillsSession, attendance.c.present, attendance.c.roster)
        .join(Cohort, Cohort.cohort_id == SkillsSession.cohort_id)
        .outerjoin(attendance, attendance.c.session_id == SkillsSession.session_id)
    )
    if cohort_ids is not None:
        query = query.where(SkillsSession.cohort_id.in_(cohort_ids))
    if programs is not None:
        query = query.where(Cohort.program_id.in_(programs))
    out: dict[str, list[SessionFact]] = defaultdict(list)
    for row, present, roster in session.execute(query):
        out[row.cohort_id].append(
            SessionFact(
                lesson_id=row.lesson_id,
                skill=Skill(row.skill),
                planned_on=row.planned_on,
                delivered_on=row.delivered_on,
                present=int(present or 0),
                roster=int(roster or 0),
            )
        )
    return out


def coverage_report(*, session: Session, actor: Actor, on: date) -> CoverageReport:
    single, programs = _scope(actor)
    query = select(Cohort).where(Cohort.closed_on.is_(None))
    if programs is not None:
        query = query.where(Cohort.program_id.in_(programs))
    cohorts = list(session.scalars(query.order_by(Cohort.name)))
    facts = facts_by_cohort(session, [c.cohort_id for c in cohorts])
    program_rows = session.execute(select(Program.program_id, Program.name, Program.kind)).all()
    names = {row.program_id: row.name for row in program_rows}
    kinds = {row.program_id: row.kind for row in program_rows}

    def rows(kind: str, keyed: dict[str, list[Cohort]], label: dict[str, str]) -> list[CoverageRow]:
        return [
            CoverageRow(
                label[key],
                kind,
                key,
                len(group),
                coverage((f for c in group for f in facts[c.cohort_id]), on),
            )
            for key, group in keyed.items()
        ]

    by_grade: dict[str, list[Cohort]] = defaultdict(list)
    by_program: dict[str, list[Cohort]] = defaultdict(list)
    by_track: dict[str, list[Cohort]] = defaultdict(list)
    for cohort in cohorts:
        if cohort.grade is not None:
            by_grade[cohort.grade].append(cohort)
        by_program[cohort.program_id].append(cohort)
        by_track[cohort.track].append(cohort)
    grade_order = [str(g) for g in GRADES]
    grades = dict(sorted(by_grade.items(), key=lambda kv: grade_order.index(kv[0])))
    program_label = {
        pid: f"{names.get(pid, pid)} ({'school' if kinds.get(pid) == 'school' else 'clinic'})"
        for pid in by_program
    }
    return CoverageReport(
        on=on,
        cohorts=(
            [CoverageRow(c.name, "cohort", c.cohort_id, 1, coverage(facts[c.cohort_id], on)) for c in cohorts]
            if single
            else []
        ),
        grades=rows("grade", grades, {g: ("Kindergarten" if g == "K" else f"Grade {g}") for g in grades}),
        programs=rows("program", dict(sorted(by_program.items())), program_label),
        tracks=rows("track", dict(sorted(by_track.items())), {t: t.replace("_", " ") for t in by_track}),
    )


@dataclass(frozen=True, slots=True)
class ObservedCoverage:
    """The simulator's skills levers as the delivery logs measure them (docs/whatif.md, "Skills levers")."""

    prenatal: (
        float | None
    )  # parents who attended >= half the prenatal lessons, of parents whose due date passed
    parents: int
    school: float | None  # students present at a lesson in the last 12 months, of school-age residents
    students: int
    school_age: int


def observed_coverage(session: Session, on: date) -> ObservedCoverage:
    """Aggregates only (no person is named): what share of births and school-age residents the logs reach."""
    half = 5  # of the 10 prenatal lessons
    parents = list(
        session.scalars(select(Cohort.cohort_id).where(Cohort.kind == "parent", Cohort.due_date <= on))
    )
    attended = dict(
        session.execute(
            select(SkillsSession.cohort_id, func.count())
            .join(SkillsAttendance, SkillsAttendance.session_id == SkillsSession.session_id)
            .where(
                SkillsSession.cohort_id.in_(parents),
                SkillsSession.lesson_id.startswith("prenatal"),
                SkillsAttendance.present.is_(True),
            )
            .group_by(SkillsSession.cohort_id)
        ).all()
    )
    took = sum(1 for cohort_id in parents if attended.get(cohort_id, 0) >= half)
    year_ago = on - timedelta(days=365)
    students = (
        session.scalar(
            select(func.count(func.distinct(CohortMember.member_id)))
            .join(SkillsAttendance, SkillsAttendance.member_id == CohortMember.member_id)
            .join(SkillsSession, SkillsSession.session_id == SkillsAttendance.session_id)
            .join(Cohort, Cohort.cohort_id == CohortMember.cohort_id)
            .where(
                Cohort.kind == "class",
                SkillsAttendance.present.is_(True),
                SkillsSession.delivered_on > year_ago,
                SkillsSession.delivered_on <= on,
            )
        )
        or 0
    )
    school_age = session.scalar(
        select(func.count()).select_from(Person).where(Person.school_grade.is_not(None))
    )
    school_age = school_age or 0
    return ObservedCoverage(
        prenatal=took / len(parents) if parents else None,
        parents=len(parents),
        school=min(1.0, students / school_age) if school_age else None,
        students=students,
        school_age=school_age,
    )
