"""EPDS screens in the perinatal tracks, and the referral a positive one offers (docs/skills.md,
"Perinatal screening").

A screen is an EPDS measurement of the parent's perinatal episode (written with its FHIR
QuestionnaireResponse by `onward.services.measures.add_measurement`), so a positive item 10 raises the
caseload's `risk` flag at once, plus a row saying which set point it was and what was offered. A
positive screen offers a referral into treatment; it is made through the pathways' referral service
(`onward.services.referrals.create_referral`) only when the parent agrees, and the answer is kept with
the screen. Everything is checked record by record and audited with the parent's person id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import ConflictError, NotFoundError, ValidationError
from onward.model.eventlog import ReferralSource
from onward.model.perinatal_screening import EPDS, SCREEN_POINTS, ScreenResult, score_epds
from onward.security.access import Actor, require_episode
from onward.security.audit import append_audit
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.services.measures import add_measurement, score_form
from onward.services.referrals import create_referral
from onward.services.skills_delivery import require_cohort
from onward.store.tables import Episode, Person, Program
from onward.store.tables_skills import Cohort, PerinatalScreen, SkillsSession

_NOT_FOUND = "there is no record here that you may see"
AGREED, DECLINED = "agreed", "declined"
#: Programs a screen may refer to: treatment, not the skills programs themselves.
_NOT_TREATMENT = ("school", "perinatal")


def screens_of(session: Session, cohort_id: str) -> list[PerinatalScreen]:
    """A parent cohort's screens, oldest first."""
    return list(
        session.scalars(
            select(PerinatalScreen)
            .where(PerinatalScreen.cohort_id == cohort_id)
            .order_by(PerinatalScreen.screened_on, PerinatalScreen.screen_id)
        )
    )


def treatment_programs(session: Session) -> list[Program]:
    return list(
        session.scalars(select(Program).where(Program.kind.not_in(_NOT_TREATMENT)).order_by(Program.name))
    )


def _set_point(session: Session, cohort_id: str, on: date) -> str | None:
    """The set-point lesson this screen belongs to: the latest one planned on or before the day."""
    return session.scalar(
        select(SkillsSession.lesson_id)
        .where(
            SkillsSession.cohort_id == cohort_id,
            SkillsSession.lesson_id.in_(list(SCREEN_POINTS)),
            SkillsSession.planned_on <= on,
        )
        .order_by(SkillsSession.planned_on.desc())
        .limit(1)
    )


def _parent_episode(session: Session, actor: Actor, cohort: Cohort, now: datetime) -> Episode:
    if cohort.kind != "parent" or cohort.episode_id is None:
        raise ValidationError("the EPDS is screened for one parent's lessons", column="cohort_id")
    episode, _ = require_episode(session, actor, cohort.episode_id, now)
    return episode


def record_screen(
    *,
    session: Session,
    actor: Actor,
    cohort_id: str,
    answers: Sequence[int],
    screened_on: date,
    now: datetime,
) -> tuple[PerinatalScreen, ScreenResult]:
    """Score the boxes ticked and save the screen as an EPDS measurement of the parent's episode."""
    require_permission(actor, Permission.SKILLS_DELIVERY)
    require_permission(actor, Permission.RECORD_CARE)
    cohort = require_cohort(session, actor, cohort_id, now)
    episode = _parent_episode(session, actor, cohort, now)
    if screened_on > now.date():
        raise ValidationError(f"{screened_on} is in the future", column="screened_on")
    if screened_on < episode.start_date:
        raise ValidationError(f"{screened_on} is before the perinatal care began", column="screened_on")
    result = score_epds(answers)
    person = session.get(Person, episode.person_id)
    score = score_form(EPDS, answers, person.sex if person else None)
    session.commit()
    with write_transaction(session):
        recorded = add_measurement(
            session,
            episode=episode,
            instrument=EPDS,
            answers=answers,
            score=score,
            measured_on=screened_on,
            source="clinician",
            now=now,
        )
        screen = PerinatalScreen(
            screen_id=f"SC-{uuid.uuid4().hex[:12]}",
            person_id=episode.person_id,
            cohort_id=cohort_id,
            lesson_id=_set_point(session, cohort_id, screened_on),
            measurement_id=recorded.measurement.measurement_id,
            screened_on=screened_on,
            total=result.total,
            self_harm=result.self_harm,
            positive=result.positive,
            screened_by=actor.user_id,
        )
        session.add(screen)
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="create",
            entity="perinatal_screen",
            entity_id=screen.screen_id,
            person_id=episode.person_id,
            detail=f"{result.summary()} on {screened_on}" + ("; referral offered" if result.positive else ""),
        )
    return screen, result


def require_screen(session: Session, actor: Actor, screen_id: str, now: datetime) -> PerinatalScreen:
    screen = session.get(PerinatalScreen, screen_id)
    if screen is None:
        raise NotFoundError(_NOT_FOUND)
    require_cohort(session, actor, screen.cohort_id, now)
    return screen


def answer_referral(
    *,
    session: Session,
    actor: Actor,
    screen_id: str,
    agreed: bool,
    program_id: str | None,
    now: datetime,
) -> PerinatalScreen:
    """The parent's answer to the referral a positive screen offers; a referral is made only if they agree."""
    require_permission(actor, Permission.SKILLS_DELIVERY)
    screen = require_screen(session, actor, screen_id, now)
    if not screen.positive:
        raise ConflictError("this screen is below the cut-off: no referral is offered")
    if screen.consent == AGREED:
        raise ConflictError(f"the referral was made already ({screen.referral_id})")
    referral_id = None
    if agreed:
        program = session.get(Program, program_id or "")
        if program is None or program.kind in _NOT_TREATMENT:
            raise ValidationError("choose a treatment program", column="program_id")
        result_priority = "urgent" if screen.self_harm else "routine"
        referral = create_referral(
            session=session,
            actor=actor,
            person_id=screen.person_id,
            program_id=program.program_id,
            source=ReferralSource.PERINATAL.value,
            priority=result_priority,
            note=f"EPDS {screen.total} on {screen.screened_on}"
            + ("; item 10 positive" if screen.self_harm else "")
            + "; the parent agreed to this referral",
            now=now,
        )
        referral_id = referral.referral_id
    with write_transaction(session):
        row = session.get(PerinatalScreen, screen_id, populate_existing=True)
        if row is None:
            raise NotFoundError(_NOT_FOUND)
        row.consent, row.consent_on = (AGREED if agreed else DECLINED), now.date()
        if referral_id is not None:
            row.referral_id, row.followed_up_on = referral_id, now.date()
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="consent",
            entity="perinatal_screen",
            entity_id=screen_id,
            person_id=row.person_id,
            detail=f"referral {'agreed: ' + referral_id if referral_id else 'declined'}",
        )
    return row
