"""Delivering lessons: cohorts, their schedules, and the log of each lesson taught with who was there.

Three kinds of cohort (docs/skills.md, "Delivery"): a *class* of a school program, taught its grade's
lessons over a term's teaching days; a *clinic group* of a perinatal program, taught a perinatal
track on the weekdays the group meets; and one *expectant parent* in a perinatal nurse's care, whose
prenatal lessons follow the due date and whose postpartum lessons follow the birth once it is recorded.

Who sees a cohort: the staff of its program (teachers and nurses hold `skills_delivery` and work in
their programs), that program's manager, and the operator at the command line. A cohort outside one's
programs is not found. A parent's cohort is part of their record: reading or changing it is checked
record by record (`require_person`) and audited with their person id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import ConflictError, NotFoundError, ValidationError
from onward.model.curricula import load_curricula
from onward.model.eventlog import ProgramKind
from onward.model.skills import Grade, Track, parse_grade
from onward.model.skills_schedule import (
    PlannedLesson,
    Term,
    school_schedule,
)
from onward.security.access import Actor, require_person
from onward.security.audit import append_audit
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.services.skills_review import lesson_in_use
from onward.store.tables import Program
from onward.store.tables_skills import Cohort, CohortMember, SkillsAttendance, SkillsSession

_NOT_FOUND = "there is no cohort here that you may see"
KINDS = ("class", "clinic_group", "parent")


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _in_scope(actor: Actor, program_id: str) -> bool:
    return actor.role == "operator" or program_id in actor.program_ids


def program_of_kind(session: Session, actor: Actor, program_id: str, kind: ProgramKind) -> Program:
    program = session.get(Program, program_id)
    if program is None or not _in_scope(actor, program_id):
        raise NotFoundError("there is no program here that you may use")
    if program.kind != kind.value:
        raise ValidationError(
            f"program {program_id} is a {program.kind} program",
            column="program_id",
            expected=f"a {kind} program",
        )
    return program


def require_cohort(session: Session, actor: Actor, cohort_id: str, now: datetime) -> Cohort:
    """A cohort the actor may see, else NotFoundError (never a hint that it exists)."""
    cohort = session.get(Cohort, cohort_id)
    if cohort is None or not _in_scope(actor, cohort.program_id):
        raise NotFoundError(_NOT_FOUND)
    if cohort.person_id is not None:
        try:
            require_person(session, actor, cohort.person_id, now)
        except NotFoundError:
            raise NotFoundError(_NOT_FOUND) from None
    return cohort


def cohorts_for(session: Session, actor: Actor) -> list[Cohort]:
    """Open cohorts of the actor's programs, classes first by grade, then groups and parents."""
    query = select(Cohort).where(Cohort.closed_on.is_(None)).order_by(Cohort.kind, Cohort.name)
    if actor.role != "operator":
        query = query.where(Cohort.program_id.in_(actor.program_ids))
    return list(session.scalars(query))


def audit_cohort(
    session: Session,
    actor: Actor,
    now: datetime,
    action: str,
    entity: str,
    entity_id: str,
    person_id: str | None,
    detail: str,
) -> None:
    append_audit(
        session=session,
        at=now,
        user_id=actor.user_id,
        role=actor.role,
        request_id=actor.request_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        person_id=person_id,
        detail=detail,
    )


def add_plan(session: Session, cohort_id: str, plan: Sequence[PlannedLesson]) -> None:
    curricula = load_curricula()
    for planned in plan:
        session.add(
            SkillsSession(
                session_id=new_id("SS"),
                cohort_id=cohort_id,
                lesson_id=planned.lesson_id,
                skill=curricula.lesson(planned.lesson_id).skill.value,
                planned_on=planned.planned_on,
            )
        )


def _roster(names: Sequence[str]) -> list[str]:
    cleaned = [" ".join(name.split()) for name in names if name.strip()]
    if not cleaned:
        raise ValidationError("list at least one name, one per line", column="roster")
    too_long = [name for name in cleaned if len(name) > 120]
    if too_long:
        raise ValidationError(f"name too long: {too_long[0][:40]}...", column="roster")
    return cleaned


def create_class(
    *,
    session: Session,
    actor: Actor,
    program_id: str,
    grade: str,
    name: str,
    term: Term,
    roster: Sequence[str],
    now: datetime,
) -> Cohort:
    """A class of a school program: its grade's lessons spread over the term, and its roster."""
    require_permission(actor, Permission.SKILLS_DELIVERY)
    chosen: Grade | None = parse_grade(grade)
    if chosen is None:
        raise ValidationError(f"unknown grade {grade!r}", column="grade", expected="K or 1-12")
    if not name.strip():
        raise ValidationError("give the class a name", column="name")
    names = _roster(roster)
    program_of_kind(session, actor, program_id, ProgramKind.SCHOOL)
    plan = school_schedule(load_curricula().lessons(grade=chosen), term)
    with write_transaction(session):
        cohort = Cohort(
            cohort_id=new_id("CO"),
            kind="class",
            track=Track.SCHOOL.value,
            grade=str(chosen),
            program_id=program_id,
            name=name.strip()[:120],
            staff_id=actor.staff_id,
            calendar=json.dumps(
                {
                    "starts": term.starts.isoformat(),
                    "ends": term.ends.isoformat(),
                    "weekdays": list(term.weekdays),
                    "days_off": sorted(d.isoformat() for d in term.days_off),
                }
            ),
            created_by=actor.user_id,
            created_at=now,
        )
        session.add(cohort)
        session.flush()
        for student in names:
            session.add(
                CohortMember(
                    member_id=new_id("CM"), cohort_id=cohort.cohort_id, name=student, joined_on=term.starts
                )
            )
        add_plan(session, cohort.cohort_id, plan)
        audit_cohort(
            session,
            actor,
            now,
            "create",
            "cohort",
            cohort.cohort_id,
            None,
            f"class {cohort.name}, grade {chosen}, {len(names)} students, {len(plan)} lessons",
        )
    return cohort


def members_of(session: Session, cohort_id: str, on: date) -> list[CohortMember]:
    """Members on the cohort's list on a day, by name."""
    return list(
        session.scalars(
            select(CohortMember)
            .where(
                CohortMember.cohort_id == cohort_id,
                CohortMember.joined_on <= on,
                (CohortMember.left_on.is_(None)) | (CohortMember.left_on > on),
            )
            .order_by(CohortMember.name)
        )
    )


def sessions_of(session: Session, cohort_id: str) -> list[SkillsSession]:
    return list(
        session.scalars(
            select(SkillsSession)
            .where(SkillsSession.cohort_id == cohort_id)
            .order_by(SkillsSession.planned_on)
        )
    )


@dataclass(frozen=True, slots=True)
class Logged:
    row: SkillsSession
    present: int
    roster: int


def log_delivery(
    *,
    session: Session,
    actor: Actor,
    session_id: str,
    delivered_on: date,
    absent: Sequence[str],
    minutes: int | None,
    note: str | None,
    now: datetime,
) -> Logged:
    """Log one lesson as taught: everyone on the list is present except the members named absent.

    Absent rather than present, so the common case is one tap: the checklist starts all ticked."""
    require_permission(actor, Permission.SKILLS_DELIVERY)
    planned = session.get(SkillsSession, session_id)
    if planned is None:
        raise NotFoundError(_NOT_FOUND)
    cohort = require_cohort(session, actor, planned.cohort_id, now)
    if delivered_on > now.date():
        raise ValidationError("the lesson date is in the future", column="delivered_on")
    if minutes is not None and not 1 <= minutes <= 180:
        raise ValidationError("minutes must be from 1 to 180", column="minutes")
    members = members_of(session, cohort.cohort_id, delivered_on)
    ids = {m.member_id for m in members}
    unknown = [member for member in absent if member not in ids]
    if unknown:
        raise ValidationError(f"not on this cohort's list on {delivered_on}: {unknown[0]}", column="absent")
    _, version = lesson_in_use(session, planned.lesson_id)
    with write_transaction(session):
        row = session.get(SkillsSession, session_id, populate_existing=True)
        if row is None:
            raise NotFoundError(_NOT_FOUND)
        if row.delivered_on is not None:
            raise ConflictError(f"this lesson was logged already, on {row.delivered_on}")
        row.delivered_on, row.minutes = delivered_on, minutes
        row.lesson_version, row.note = version, (note or "").strip() or None
        row.logged_by, row.logged_at = actor.user_id, now
        for member in members:
            session.add(
                SkillsAttendance(
                    session_id=session_id,
                    member_id=member.member_id,
                    present=member.member_id not in set(absent),
                )
            )
        present = len(members) - len(set(absent))
        audit_cohort(
            session,
            actor,
            now,
            "log",
            "skills_session",
            session_id,
            cohort.person_id,
            f"{row.lesson_id} (version {version}) delivered {delivered_on} to {cohort.name}: "
            f"{present} of {len(members)} present",
        )
    return Logged(row, present, len(members))
