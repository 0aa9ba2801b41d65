"""What happens to a referral on the waiting list: a slot offered, attempts to reach the person, the
first appointment booked, or the referral closed as withdrawn, declined, not reached or referred
elsewhere. Admitting it is `services.referrals.start_episode`.

Each action is one transaction: the access policy (`admit`, and the referral's program must be one of
the actor's own), the referral read again under the write lock and refused unless still on the list,
the event log's `referrals.outcome` / `outcome_date` / `outcome_reason` written, and an audit row.
docs/web.md ("Waiting list") describes the page that calls them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.errors import ConflictError, NotFoundError, ValidationError
from onward.model.access import NOT_REACHED_ATTEMPTS
from onward.model.eventlog import ReferralOutcome, StaffRole
from onward.model.pathways import require_reason
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.services._guard import audit_by, require_permission, write_transaction
from onward.services.care_day import care_day, record_id
from onward.services.referrals import referral_stage
from onward.store.tables import Episode, Program, Referral, Staff
from onward.store.tables_access import FirstAppointment, ReferralContact

_NOT_FOUND = "there is no record here that you may see"

#: Outcomes that close a referral without admitting it, and whether each needs an offer first.
CLOSING: dict[str, bool] = {
    ReferralOutcome.WITHDRAWN.value: False,
    ReferralOutcome.DECLINED.value: True,
    ReferralOutcome.NOT_REACHED.value: False,
    ReferralOutcome.REFERRED_ELSEWHERE.value: False,
}
CONTACT_METHODS: tuple[str, ...] = ("phone", "text", "letter", "email", "in_person")
TREATING_ROLES: frozenset[str] = frozenset(
    {StaffRole.CLINICIAN.value, StaffRole.PRESCRIBER.value, StaffRole.CASE_MANAGER.value}
)
_TIME_LENGTH = 5


def _referral_in_scope(session: Session, actor: Actor, referral_id: str) -> Referral:
    require_permission(actor, Permission.ADMIT)
    referral = session.get(Referral, referral_id)
    if referral is None or (actor.role != "operator" and referral.program_id not in actor.program_ids):
        raise NotFoundError(_NOT_FOUND)
    return referral


def _open_referral(session: Session, referral_id: str) -> Referral:
    """The referral read again inside the write transaction, refused unless still on the list."""
    referral = session.get(Referral, referral_id, populate_existing=True)
    if referral is None:
        raise NotFoundError(_NOT_FOUND)
    if referral_stage(session, referral) is None:
        raise ConflictError(f"referral {referral_id} is {referral.outcome}, no longer waiting")
    return referral


def open_slots(session: Session, program_id: str, day: date) -> tuple[int, int, int, int]:
    """(capacity slots, open episodes on `day`, offers outstanding, slots free for a new offer)."""
    program = session.get(Program, program_id)
    capacity = program.capacity_slots if program is not None else 0
    census = session.scalar(
        select(func.count())
        .select_from(Episode)
        .where(
            Episode.program_id == program_id,
            Episode.start_date <= day,
            (Episode.end_date.is_(None)) | (Episode.end_date > day),
        )
    )
    offered = session.scalar(
        select(func.count())
        .select_from(Referral)
        .where(Referral.program_id == program_id, Referral.outcome == ReferralOutcome.OFFERED.value)
        .where(
            Referral.referral_id.not_in(select(Episode.referral_id).where(Episode.referral_id.is_not(None)))
        )
    )
    census, offered = int(census or 0), int(offered or 0)
    return capacity, census, offered, max(0, capacity - census - offered)


def offer_slot(
    *, session: Session, actor: Actor, referral_id: str, note: str | None = None, now: datetime
) -> Referral:
    """Offer the referral a slot of its program: refused when every slot is taken or already offered."""
    referral = _referral_in_scope(session, actor, referral_id)
    day = care_day(session, now)
    session.commit()
    with write_transaction(session):
        referral = _open_referral(session, referral_id)
        if referral.outcome == ReferralOutcome.OFFERED.value:
            raise ConflictError(
                f"referral {referral_id} was already offered a slot on {referral.outcome_date}"
            )
        capacity, census, offered, free = open_slots(session, referral.program_id, day)
        if free == 0:
            raise ConflictError(
                f"no open slot: {capacity} slots, {census} people in care, {offered} offers outstanding"
            )
        text = (note or "").strip() or f"slot offered ({free} of {capacity} open)"
        _set_outcome(referral, ReferralOutcome.OFFERED.value, day, text)
        _audit(session, actor, now, "offer", referral, f"slot offered on {day}: {text}")
    return referral


def record_contact(
    *,
    session: Session,
    actor: Actor,
    referral_id: str,
    method: str,
    reached: bool,
    note: str | None = None,
    now: datetime,
) -> ReferralContact:
    """Record one attempt to reach the person (reached or not)."""
    _referral_in_scope(session, actor, referral_id)
    if method not in CONTACT_METHODS:
        raise ValidationError(
            f"unknown contact method {method!r}", column="method", expected=", ".join(CONTACT_METHODS)
        )
    day = care_day(session, now)
    session.commit()
    with write_transaction(session):
        referral = _open_referral(session, referral_id)
        contact = ReferralContact(
            referral_id=referral_id,
            attempted_on=day,
            method=method,
            reached=reached,
            note=(note or "").strip() or None,
            recorded_by=actor.user_id,
            recorded_at=now,
        )
        session.add(contact)
        _audit(
            session,
            actor,
            now,
            "contact",
            referral,
            f"{method} on {day}: {'reached' if reached else 'not reached'}",
        )
    return contact


def unanswered_attempts(session: Session, referral_id: str) -> int:
    """Attempts to reach the person since the last time they were reached."""
    last_reached = session.scalar(
        select(func.max(ReferralContact.contact_id)).where(
            ReferralContact.referral_id == referral_id, ReferralContact.reached.is_(True)
        )
    )
    query = select(func.count()).where(
        ReferralContact.referral_id == referral_id, ReferralContact.reached.is_(False)
    )
    if last_reached is not None:
        query = query.where(ReferralContact.contact_id > last_reached)
    return int(session.scalar(query) or 0)


def close_referral(
    *, session: Session, actor: Actor, referral_id: str, outcome: str, reason: str | None, now: datetime
) -> Referral:
    """Close a referral without admitting it: withdrawn, declined (an offer turned down), not reached
    (after NOT_REACHED_ATTEMPTS unanswered attempts) or referred elsewhere; a reason is required."""
    _referral_in_scope(session, actor, referral_id)
    if outcome not in CLOSING:
        raise ValidationError(f"unknown outcome {outcome!r}", column="outcome", expected=", ".join(CLOSING))
    text = require_reason(reason)
    day = care_day(session, now)
    session.commit()
    with write_transaction(session):
        referral = _open_referral(session, referral_id)
        if CLOSING[outcome] and referral.outcome != ReferralOutcome.OFFERED.value:
            raise ConflictError(f"referral {referral_id} has no slot offered to decline")
        if outcome == ReferralOutcome.NOT_REACHED.value:
            attempts = unanswered_attempts(session, referral_id)
            if attempts < NOT_REACHED_ATTEMPTS:
                raise ConflictError(
                    f"{attempts} unanswered attempt(s) recorded; {NOT_REACHED_ATTEMPTS} are needed "
                    "before a referral closes as not reached"
                )
        _set_outcome(referral, outcome, day, text)
        _replace_appointment(session, referral_id, now)
        _audit(session, actor, now, "close", referral, f"{outcome} on {day}: {text}")
    return referral


def book_first_appointment(
    *,
    session: Session,
    actor: Actor,
    referral_id: str,
    staff_id: str,
    day: date,
    at_time: str | None = None,
    now: datetime,
) -> FirstAppointment:
    """Book the first appointment with a clinician of the program, today or later. A referral not yet
    offered a slot is offered one by the booking (subject to a free slot)."""
    referral = _referral_in_scope(session, actor, referral_id)
    today = care_day(session, now)
    if day < today:
        raise ValidationError(f"the appointment date {day} is in the past", column="day")
    staff = session.get(Staff, staff_id)
    if staff is None or staff.program_id != referral.program_id or staff.role not in TREATING_ROLES:
        raise ValidationError(
            f"{staff_id!r} is not a clinician of program {referral.program_id}",
            column="staff_id",
            expected="a clinician, prescriber or case manager of the program",
        )
    time_text = _check_time(at_time)
    session.commit()
    with write_transaction(session):
        referral = _open_referral(session, referral_id)
        if referral.outcome != ReferralOutcome.OFFERED.value:
            capacity, census, offered, free = open_slots(session, referral.program_id, today)
            if free == 0:
                raise ConflictError(
                    f"no open slot: {capacity} slots, {census} people in care, {offered} offers outstanding"
                )
            _set_outcome(referral, ReferralOutcome.OFFERED.value, today, f"first appointment on {day}")
        _replace_appointment(session, referral_id, now)
        appointment = FirstAppointment(
            appointment_id=record_id(),
            referral_id=referral_id,
            staff_id=staff_id,
            appointment_on=day,
            at_time=time_text,
            booked_by=actor.user_id,
            booked_at=now,
        )
        session.add(appointment)
        _audit(
            session,
            actor,
            now,
            "book",
            referral,
            f"first appointment {day}{' ' + time_text if time_text else ''} with {staff_id}",
        )
    return appointment


def current_appointment(session: Session, referral_id: str) -> FirstAppointment | None:
    return session.scalar(
        select(FirstAppointment)
        .where(FirstAppointment.referral_id == referral_id, FirstAppointment.replaced_at.is_(None))
        .limit(1)
    )


def _replace_appointment(session: Session, referral_id: str, now: datetime) -> None:
    earlier = current_appointment(session, referral_id)
    if earlier is not None:
        earlier.replaced_at = now


def _check_time(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    parts = text.split(":")
    valid = (
        len(text) == _TIME_LENGTH
        and len(parts) == 2  # noqa: PLR2004
        and all(p.isdigit() for p in parts)
        and int(parts[0]) < 24  # noqa: PLR2004
        and int(parts[1]) < 60  # noqa: PLR2004
    )
    if not valid:
        raise ValidationError(f"not a time: {text!r}", column="at_time", expected="HH:MM, e.g. 09:30")
    return text


def _set_outcome(referral: Referral, outcome: str, day: date, reason: str) -> None:
    referral.outcome = outcome
    referral.outcome_date = max(day, referral.referral_date)
    referral.outcome_reason = reason[:200]


def _audit(
    session: Session, actor: Actor, now: datetime, action: str, referral: Referral, detail: str
) -> None:
    audit_by(
        session, actor, now, action, "referral", referral.referral_id, detail, person_id=referral.person_id
    )
