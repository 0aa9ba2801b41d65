"""Perinatal cohorts: one expectant parent in a nurse's care, whose lessons follow the due date and then
the birth, and clinic groups of parents taught one perinatal track on the days they meet
(docs/skills.md, "Delivery"). A parent's cohort belongs to their perinatal episode: the nurse sees it
because the parent is in her care, and every write is audited with the parent's person id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import ConflictError, ValidationError
from onward.model.curricula import load_curricula
from onward.model.eventlog import ProgramKind
from onward.model.skills import Track
from onward.model.skills_schedule import Term, postpartum_schedule, prenatal_schedule, school_schedule
from onward.security.access import Actor, require_person
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.services.skills_delivery import add_plan, audit_cohort, new_id, program_of_kind, require_cohort
from onward.store.tables import Episode, Program
from onward.store.tables_skills import Cohort, CohortMember


def _perinatal_episode(session: Session, actor: Actor, person_id: str, on: date) -> Episode:
    """The person's open episode in one of the actor's perinatal programs: the care the lessons belong to."""
    perinatal = select(Program.program_id).where(Program.kind == ProgramKind.PERINATAL.value)
    query = select(Episode).where(
        Episode.person_id == person_id,
        Episode.program_id.in_(perinatal),
        Episode.start_date <= on,
        (Episode.end_date.is_(None)) | (Episode.end_date > on),
    )
    if actor.role != "operator":
        query = query.where(Episode.program_id.in_(actor.program_ids))
    episode = session.scalars(query.order_by(Episode.start_date.desc())).first()
    if episode is None:
        raise ValidationError(
            f"{person_id} has no open episode in your perinatal program",
            column="person_id",
            expected="a person in perinatal care with you",
        )
    return episode


def create_parent_cohort(
    *, session: Session, actor: Actor, person_id: str, due_date: date, now: datetime
) -> Cohort:
    """One expectant parent: the prenatal lessons at their visits, counted back from the due date."""
    require_permission(actor, Permission.SKILLS_DELIVERY)
    require_person(session, actor, person_id, now)
    today = now.date()
    if not today - timedelta(weeks=4) <= due_date <= today + timedelta(weeks=42):
        raise ValidationError(
            f"due date {due_date} is not within this pregnancy",
            column="due_date",
            expected="a date up to 42 weeks ahead",
        )
    episode = _perinatal_episode(session, actor, person_id, today)
    existing = session.scalar(
        select(Cohort).where(
            Cohort.person_id == person_id, Cohort.kind == "parent", Cohort.closed_on.is_(None)
        )
    )
    if existing is not None:
        raise ConflictError(f"{person_id} already has lessons planned ({existing.cohort_id})")
    plan = prenatal_schedule(load_curricula().lessons(track=Track.PRENATAL), due_date)
    with write_transaction(session):
        cohort = Cohort(
            cohort_id=new_id("CO"),
            kind="parent",
            track="perinatal",
            program_id=episode.program_id,
            name=f"Parent {person_id}",
            staff_id=actor.staff_id,
            person_id=person_id,
            episode_id=episode.episode_id,
            due_date=due_date,
            created_by=actor.user_id,
            created_at=now,
        )
        session.add(cohort)
        session.flush()
        session.add(
            CohortMember(
                member_id=new_id("CM"),
                cohort_id=cohort.cohort_id,
                name=f"Parent {person_id}",
                person_id=person_id,
                joined_on=today,
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
            person_id,
            f"prenatal lessons planned from due date {due_date}",
        )
    return cohort


def record_birth(
    *, session: Session, actor: Actor, cohort_id: str, birth_date: date, now: datetime
) -> Cohort:
    """The baby is born: the postpartum lessons are planned from the birth; prenatal ones not yet
    delivered stay in the log as planned and undelivered."""
    require_permission(actor, Permission.SKILLS_DELIVERY)
    cohort = require_cohort(session, actor, cohort_id, now)
    if cohort.kind != "parent":
        raise ValidationError("a birth is recorded for one parent's lessons", column="cohort_id")
    if cohort.birth_date is not None:
        raise ConflictError(f"the birth was recorded already ({cohort.birth_date})")
    if birth_date > now.date():
        raise ValidationError("the birth date is in the future", column="birth_date")
    plan = postpartum_schedule(load_curricula().lessons(track=Track.POSTPARTUM), birth_date)
    with write_transaction(session):
        row = session.get(Cohort, cohort_id, populate_existing=True)
        if row is None or row.birth_date is not None:
            raise ConflictError("the birth was recorded already")
        row.birth_date = birth_date
        add_plan(session, cohort_id, plan)
        audit_cohort(
            session, actor, now, "update", "cohort", cohort_id, row.person_id, f"birth on {birth_date}"
        )
    return row


def create_clinic_group(
    *,
    session: Session,
    actor: Actor,
    program_id: str,
    track: str,
    name: str,
    term: Term,
    person_ids: Sequence[str],
    now: datetime,
) -> Cohort:
    """A group of parents in a perinatal program, taught one perinatal track on the days it meets."""
    require_permission(actor, Permission.SKILLS_DELIVERY)
    try:
        chosen = Track(track)
    except ValueError:
        chosen = Track.SCHOOL
    if not chosen.perinatal:
        raise ValidationError(f"unknown track {track!r}", column="track", expected="prenatal or postpartum")
    if not name.strip():
        raise ValidationError("give the group a name", column="name")
    program_of_kind(session, actor, program_id, ProgramKind.PERINATAL)
    members = [p.strip() for p in person_ids if p.strip()]
    for person_id in members:
        require_person(session, actor, person_id, now)
    plan = school_schedule(load_curricula().lessons(track=chosen), term)
    with write_transaction(session):
        cohort = Cohort(
            cohort_id=new_id("CO"),
            kind="clinic_group",
            track=chosen.value,
            program_id=program_id,
            name=name.strip()[:120],
            staff_id=actor.staff_id,
            created_by=actor.user_id,
            created_at=now,
            calendar=json.dumps(
                {
                    "starts": term.starts.isoformat(),
                    "ends": term.ends.isoformat(),
                    "weekdays": list(term.weekdays),
                }
            ),
        )
        session.add(cohort)
        session.flush()
        for person_id in members:
            session.add(
                CohortMember(
                    member_id=new_id("CM"),
                    cohort_id=cohort.cohort_id,
                    name=f"Parent {person_id}",
                    person_id=person_id,
                    joined_on=term.starts,
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
            f"clinic group {cohort.name}, {chosen.value}, {len(members)} parents",
        )
    return cohort
