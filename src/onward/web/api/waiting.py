"""What happens to a referral on the waiting list, over JSON: offer a slot, record an attempt to reach
the person, book the first appointment, close it (withdrawn, declined, not reached, referred elsewhere).
The same services as the waiting-list pages (docs/access.md); each write is policy-checked and audited."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from onward.services import referral_outcomes as outcomes
from onward.store.tables import Referral
from onward.web.deps import ActorDep, NowDep, SessionDep
from onward.web.errors import error_responses

router = APIRouter(tags=["waiting list"])
_ERRORS = error_responses(400, 401, 403, 404, 409)


class ReferralOutcomeOut(BaseModel):
    referral_id: str
    program_id: str
    outcome: str = Field(
        description="waiting, offered, admitted, withdrawn, declined, not_reached, referred_elsewhere"
    )
    outcome_date: date | None
    outcome_reason: str | None


def _out(referral: Referral) -> ReferralOutcomeOut:
    return ReferralOutcomeOut(
        referral_id=referral.referral_id,
        program_id=referral.program_id,
        outcome=referral.outcome,
        outcome_date=referral.outcome_date,
        outcome_reason=referral.outcome_reason,
    )


class OfferIn(BaseModel):
    note: str | None = Field(None, max_length=200)


@router.post("/referrals/{referral_id}/offer", responses=_ERRORS)
def post_offer(
    body: OfferIn, referral_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> ReferralOutcomeOut:
    """Offer the referral a slot of its program (409 when none is free or one was offered already)."""
    return _out(
        outcomes.offer_slot(session=session, actor=actor, referral_id=referral_id, note=body.note, now=now)
    )


class ContactIn(BaseModel):
    method: Literal["phone", "text", "letter", "email", "in_person"]
    reached: bool
    note: str | None = Field(None, max_length=500)


class ContactOut(BaseModel):
    referral_id: str
    attempted_on: date
    method: str
    reached: bool
    unanswered_attempts: int = Field(description="Attempts since the person was last reached.")


@router.post("/referrals/{referral_id}/contacts", status_code=201, responses=_ERRORS)
def post_contact(
    body: ContactIn, referral_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> ContactOut:
    """Record one attempt to reach the person."""
    contact = outcomes.record_contact(
        session=session, actor=actor, referral_id=referral_id, method=body.method, reached=body.reached,
        note=body.note, now=now,
    )  # fmt: skip
    return ContactOut(
        referral_id=referral_id,
        attempted_on=contact.attempted_on,
        method=contact.method,
        reached=contact.reached,
        unanswered_attempts=outcomes.unanswered_attempts(session, referral_id),
    )


class AppointmentIn(BaseModel):
    staff_id: str = Field(max_length=64)
    day: date
    at_time: str | None = Field(None, description="HH:MM", max_length=5)


class AppointmentOut(BaseModel):
    referral_id: str
    staff_id: str
    day: date
    at_time: str | None
    outcome: str


@router.post("/referrals/{referral_id}/appointment", status_code=201, responses=_ERRORS)
def post_appointment(
    body: AppointmentIn, referral_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> AppointmentOut:
    """Book the first appointment with a clinician of the program (offers the slot when none was)."""
    booked = outcomes.book_first_appointment(
        session=session, actor=actor, referral_id=referral_id, staff_id=body.staff_id, day=body.day,
        at_time=body.at_time, now=now,
    )  # fmt: skip
    referral = session.get(Referral, referral_id)
    return AppointmentOut(
        referral_id=referral_id,
        staff_id=booked.staff_id,
        day=booked.appointment_on,
        at_time=booked.at_time,
        outcome=referral.outcome if referral else "offered",
    )


class CloseIn(BaseModel):
    outcome: Literal["withdrawn", "declined", "not_reached", "referred_elsewhere"]
    reason: str = Field(max_length=200)


@router.post("/referrals/{referral_id}/outcome", responses=_ERRORS)
def post_outcome(
    body: CloseIn, referral_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> ReferralOutcomeOut:
    """Close the referral without admitting it, with a reason (declined needs an offer; not reached
    needs 3 unanswered attempts)."""
    referral = outcomes.close_referral(
        session=session,
        actor=actor,
        referral_id=referral_id,
        outcome=body.outcome,
        reason=body.reason,
        now=now,
    )
    return _out(referral)
