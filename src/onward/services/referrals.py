"""Referrals on the way in: an ordinary referral, a fast re-entry, intake, and starting the episode.

A referral made here starts at stage `referred` and joins the waiting list (`waiting`) once intake is
done. A fast re-entry — a person coming back after graduating or stepping down — skips the full intake:
it starts at `waiting` and comes first within its access tier (`onward.model.pathways.waiting_order`).
Starting an episode from a waiting referral admits it (`referrals.outcome = admitted`) and makes the
episode active, which needs a primary clinician, a planned exit and written graduation criteria.

The waiting-list outcomes (offered, withdrawn, declined, not reached, referred elsewhere) are
`services/referral_outcomes.py`, the triaged list `services/waiting_list.py` (docs/access.md).
docs/pathways.md describes the whole pathway.

Every write is one transaction, checked against the access policy and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import ConflictError, NotFoundError, ValidationError
from onward.model.eventlog import OPEN_OUTCOMES, Priority, ReferralOutcome, ReferralSource
from onward.model.graduation import defaults_for
from onward.model.pathways import (
    Stage,
    StartCheck,
    WaitingEntry,
    check_fast_reentry,
    check_start,
    require_reason,
    require_transition,
    waiting_order,
)
from onward.security.access import Actor, require_episode, require_person
from onward.security.audit import append_audit
from onward.security.policy import Permission
from onward.services._guard import audit_by, require_permission, write_transaction
from onward.services.care_day import care_day, new_id, record_id
from onward.store.tables import Episode, Person, Program, Referral, Staff
from onward.store.tables_pathways import GraduationCriteria, ReferralPathway, StageChange

_NOT_FOUND = "there is no record here that you may see"


def _program_in_scope(actor: Actor, program_id: str) -> None:
    """Admitting and intake are work of the program: its manager or its own clinicians."""
    if actor.role != "operator" and program_id not in actor.program_ids:
        raise NotFoundError(_NOT_FOUND)


def _locked_open_referral(session: Session, referral_id: str) -> Referral:
    """The referral read again inside the write transaction, refused unless still on the list."""
    referral = session.get(Referral, referral_id, populate_existing=True)
    if referral is None:
        raise NotFoundError(_NOT_FOUND)
    if referral_stage(session, referral) is None:
        raise ConflictError(f"referral {referral_id} is {referral.outcome}, no longer waiting")
    return referral


def referral_stage(session: Session, referral: Referral) -> Stage | None:
    """Where a referral stands on the pathway: referred or waiting while it is open (an imported
    referral has no pathway row and counts as waiting); None once it has an outcome other than waiting
    or offered (admitted, withdrawn, ...) or an episode started from it."""
    if referral.outcome not in {o.value for o in OPEN_OUTCOMES}:
        return None
    if session.scalar(select(Episode.episode_id).where(Episode.referral_id == referral.referral_id).limit(1)):
        return None  # an episode already started from it (an extract that left the outcome as waiting)
    row = session.get(ReferralPathway, referral.referral_id)
    return Stage(row.stage) if row is not None else Stage.WAITING


def _check_choice(value: str, choices: type[Priority] | type[ReferralSource], field: str) -> str:
    try:
        return choices(value).value
    except ValueError:
        raise ValidationError(
            f"unknown {field} {value!r}", column=field, expected=", ".join(c.value for c in choices)
        ) from None


def _add_referral(
    session: Session,
    *,
    actor: Actor,
    person_id: str,
    program_id: str,
    referral_date: date,
    source: str,
    priority: str,
    stage: Stage,
    fast_reentry_of: str | None,
    note: str | None,
    now: datetime,
) -> Referral:
    referral = Referral(
        referral_id=new_id("REF"),
        person_id=person_id,
        program_id=program_id,
        referral_date=referral_date,
        source=source,
        priority=priority,
        outcome=ReferralOutcome.WAITING.value,
    )
    session.add(referral)
    session.flush()
    session.add(
        ReferralPathway(
            referral_id=referral.referral_id,
            stage=stage.value,
            fast_reentry_of=fast_reentry_of,
            note=note,
            created_by=actor.user_id,
            created_at=now,
        )
    )
    session.add(
        StageChange(
            person_id=person_id,
            referral_id=referral.referral_id,
            stage=stage.value,
            changed_on=referral_date,
            reason=note,
            changed_by=actor.user_id,
            changed_at=now,
        )
    )
    return referral


def create_referral(
    *,
    session: Session,
    actor: Actor,
    person_id: str,
    program_id: str,
    source: str,
    priority: str,
    note: str | None = None,
    referral_date: date | None = None,
    now: datetime,
) -> Referral:
    """An ordinary referral of a person one may see (a program's manager may refer anyone to their own
    program); it waits at stage `referred` until intake is done."""
    require_permission(actor, Permission.REFER)
    manages = actor.may(Permission.OWN_PROGRAMS) and program_id in actor.program_ids
    if actor.role == "operator" or manages:
        if session.get(Person, person_id) is None:
            raise NotFoundError(_NOT_FOUND)
    else:
        require_person(session, actor, person_id, now)
    if session.get(Program, program_id) is None:
        raise ValidationError(f"there is no program {program_id!r}", column="program_id")
    source = _check_choice(source, ReferralSource, "source")
    priority = _check_choice(priority, Priority, "priority")
    day = referral_date or care_day(session, now)
    if day > now.date():
        raise ValidationError(f"the referral date {day} is in the future", column="referral_date")
    session.commit()
    with write_transaction(session):
        referral = _add_referral(
            session,
            actor=actor,
            person_id=person_id,
            program_id=program_id,
            referral_date=day,
            source=source,
            priority=priority,
            stage=Stage.REFERRED,
            fast_reentry_of=None,
            note=(note or "").strip() or None,
            now=now,
        )
        _audit(
            session, actor, now, "create", referral, f"referral to {program_id}, {priority}, from {source}"
        )
    return referral


def create_fast_reentry(
    *,
    session: Session,
    actor: Actor,
    episode_id: str,
    reason: str,
    program_id: str | None = None,
    priority: str = Priority.ROUTINE.value,
    now: datetime,
) -> Referral:
    """Refer a person back after a graduation or a step down: no full intake (stage `waiting` at once),
    first within its access tier on the waiting list; by default to the program they left."""
    require_permission(actor, Permission.REFER)
    episode, _ = require_episode(session, actor, episode_id, now)
    day = care_day(session, now)
    check_fast_reentry(end_reason=episode.end_reason, end_date=episode.end_date, today=day)
    text = require_reason(reason)
    target = program_id or episode.program_id
    if session.get(Program, target) is None:
        raise ValidationError(f"there is no program {target!r}", column="program_id")
    priority = _check_choice(priority, Priority, "priority")
    person_id = episode.person_id
    session.commit()
    with write_transaction(session):
        open_reentry = session.scalar(
            select(Referral.referral_id)
            .join(ReferralPathway, ReferralPathway.referral_id == Referral.referral_id)
            .where(
                ReferralPathway.fast_reentry_of == episode_id,
                Referral.outcome.in_([o.value for o in OPEN_OUTCOMES]),
            )
        )
        if open_reentry is not None:
            raise ConflictError(f"referral {open_reentry} already brings this person back; it is waiting")
        referral = _add_referral(
            session,
            actor=actor,
            person_id=person_id,
            program_id=target,
            referral_date=day,
            source=ReferralSource.OTHER.value,
            priority=priority,
            stage=Stage.WAITING,
            fast_reentry_of=episode_id,
            note=text,
            now=now,
        )
        _audit(session, actor, now, "create", referral, f"fast re-entry after episode {episode_id}: {text}")
    return referral


def complete_intake(
    *, session: Session, actor: Actor, referral_id: str, note: str | None = None, now: datetime
) -> Referral:
    """Intake done: the referral moves from `referred` to the waiting list."""
    require_permission(actor, Permission.ADMIT)
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFoundError(_NOT_FOUND)
    _program_in_scope(actor, referral.program_id)
    day = care_day(session, now)
    session.commit()
    with write_transaction(session):
        referral = _locked_open_referral(session, referral_id)
        stage = referral_stage(session, referral)
        require_transition(stage or Stage.WAITING, Stage.WAITING)
        row = session.get(ReferralPathway, referral_id)
        if row is not None:
            row.stage = Stage.WAITING.value
        session.add(
            StageChange(
                person_id=referral.person_id,
                referral_id=referral_id,
                stage=Stage.WAITING.value,
                changed_on=day,
                reason=(note or "").strip() or "intake done",
                changed_by=actor.user_id,
                changed_at=now,
            )
        )
        _audit(session, actor, now, "intake", referral, "intake done: on the waiting list")
    return referral


@dataclass(frozen=True, slots=True)
class EpisodeStart:
    """What starting an episode defaults to, for the form that confirms it."""

    referral: Referral
    program: Program
    start: date
    planned_exit: date
    criteria: str
    criteria_basis: str
    primary_staff_id: str | None
    is_sud: bool
    stage: Stage | None = None  # the referral's stage now (None once admitted or closed)


def start_defaults(*, session: Session, actor: Actor, referral_id: str, now: datetime) -> EpisodeStart:
    """The defaults of an episode started from this referral: the program kind's planned length and
    criteria (`onward.model.graduation`), or, for a fast re-entry, the criteria and clinician of the
    episode the person came back from."""
    require_permission(actor, Permission.ADMIT)
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFoundError(_NOT_FOUND)
    _program_in_scope(actor, referral.program_id)
    program = session.get(Program, referral.program_id)
    if program is None:
        raise NotFoundError(_NOT_FOUND)
    day = care_day(session, now)
    defaults = defaults_for(program.kind)
    criteria, basis = defaults.criteria, f"default:{program.kind}"
    primary = actor.staff_id
    pathway = session.get(ReferralPathway, referral_id)
    previous = session.get(Episode, pathway.fast_reentry_of) if pathway and pathway.fast_reentry_of else None
    if previous is not None:
        earlier = _current_criteria(session, previous.episode_id)
        if earlier is not None:
            criteria, basis = earlier.text, f"previous:{previous.episode_id}"
        primary = previous.primary_staff_id or primary
    return EpisodeStart(
        referral=referral,
        program=program,
        start=day,
        planned_exit=defaults.planned_exit(day),
        criteria=criteria,
        criteria_basis=basis,
        primary_staff_id=primary,
        is_sud=program.kind == "medication_for_oud",
        stage=referral_stage(session, referral),
    )


def _current_criteria(session: Session, episode_id: str) -> GraduationCriteria | None:
    return session.scalar(
        select(GraduationCriteria)
        .where(GraduationCriteria.episode_id == episode_id, GraduationCriteria.replaced_at.is_(None))
        .limit(1)
    )


def start_episode(
    *,
    session: Session,
    actor: Actor,
    referral_id: str,
    primary_staff_id: str | None,
    planned_exit: date | None,
    criteria: str | None,
    is_sud: bool,
    criteria_reason: str | None = None,
    start: date | None = None,
    now: datetime,
) -> Episode:
    """Admit a waiting referral: a new active episode with its primary clinician, planned exit and
    written graduation criteria. Criteria that differ from the defaults need a reason."""
    defaults = start_defaults(session=session, actor=actor, referral_id=referral_id, now=now)
    referral = defaults.referral
    if defaults.stage is None:
        raise ConflictError(f"referral {referral_id} is {referral.outcome}, no longer waiting")
    require_transition(defaults.stage, Stage.ACTIVE)
    day = start or defaults.start
    if day > now.date():
        raise ValidationError(f"the start date {day} is in the future", column="start")
    if day < referral.referral_date:
        raise ValidationError(
            f"the start date {day} is before the referral date {referral.referral_date}", column="start"
        )
    staff = session.get(Staff, primary_staff_id) if primary_staff_id else None
    text = (criteria or "").strip()
    check_start(
        StartCheck(
            primary_staff_id=primary_staff_id,
            staff_role=staff.role if staff else None,
            staff_program_id=staff.program_id if staff else None,
            program_id=referral.program_id,
            planned_exit=planned_exit,
            start=day,
            criteria=text,
        )
    )
    edited = " ".join(text.split()) != " ".join(defaults.criteria.split())
    reason = require_reason(criteria_reason, field="criteria_reason") if edited else None
    session.commit()
    with write_transaction(session):
        referral = _locked_open_referral(session, referral_id)
        require_transition(referral_stage(session, referral) or Stage.WAITING, Stage.ACTIVE)
        episode = Episode(
            episode_id=new_id("EPI"),
            person_id=referral.person_id,
            program_id=referral.program_id,
            referral_id=referral_id,
            primary_staff_id=primary_staff_id,
            start_date=day,
            planned_end_date=planned_exit,
            is_sud=is_sud,
        )
        session.add(episode)
        session.flush()
        referral.outcome = ReferralOutcome.ADMITTED.value
        referral.outcome_date = day
        pathway = session.get(ReferralPathway, referral_id)
        if pathway is not None:
            pathway.stage = Stage.ACTIVE.value
        session.add(
            GraduationCriteria(
                criteria_id=record_id(),
                episode_id=episode.episode_id,
                text=text,
                basis="edited" if edited else defaults.criteria_basis,
                reason=reason,
                written_by=actor.user_id,
                written_at=now,
            )
        )
        session.add(
            StageChange(
                person_id=referral.person_id,
                referral_id=referral_id,
                episode_id=episode.episode_id,
                stage=Stage.ACTIVE.value,
                changed_on=day,
                reason="episode started",
                changed_by=actor.user_id,
                changed_at=now,
            )
        )
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="create",
            entity="episode",
            entity_id=episode.episode_id,
            person_id=episode.person_id,
            detail=f"started from referral {referral_id}; primary {primary_staff_id}; planned exit "
            f"{planned_exit}; criteria {'edited: ' + (reason or '') if edited else 'as the defaults'}",
        )
    return episode


@dataclass(frozen=True, slots=True)
class WaitingReferral:
    referral_id: str
    person_id: str
    referral_date: date
    priority: str
    stage: Stage
    fast_reentry_of: str | None


def waiting_list(*, session: Session, actor: Actor, program_id: str, now: datetime) -> list[WaitingReferral]:
    """The open referrals of a program in the order places are offered (`waiting_order`); for the
    program's manager and clinicians. Reading it is audited by the caller (it names people)."""
    require_permission(actor, Permission.ADMIT)
    _program_in_scope(actor, program_id)
    rows = session.execute(
        select(Referral, ReferralPathway)
        .outerjoin(ReferralPathway, ReferralPathway.referral_id == Referral.referral_id)
        .where(
            Referral.program_id == program_id,
            Referral.outcome.in_([o.value for o in OPEN_OUTCOMES]),
            Referral.referral_date <= now.date(),
            Referral.referral_id.not_in(select(Episode.referral_id).where(Episode.referral_id.is_not(None))),
        )
    ).all()
    by_id = {
        r.referral_id: WaitingReferral(
            referral_id=r.referral_id,
            person_id=r.person_id,
            referral_date=r.referral_date,
            priority=r.priority,
            stage=Stage(p.stage) if p is not None else Stage.WAITING,
            fast_reentry_of=p.fast_reentry_of if p is not None else None,
        )
        for r, p in rows
    }
    entries = [
        WaitingEntry(w.referral_id, w.referral_date, w.priority, w.fast_reentry_of is not None)
        for w in by_id.values()
    ]
    return [by_id[e.referral_id] for e in waiting_order(entries)]


def _audit(
    session: Session, actor: Actor, now: datetime, action: str, referral: Referral, detail: str
) -> None:
    audit_by(
        session, actor, now, action, "referral", referral.referral_id, detail, person_id=referral.person_id
    )
