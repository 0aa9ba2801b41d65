"""Recording, listing and revoking 42 CFR Part 2 consents; revocation takes effect at once.

A consent is recorded by a clinician (or the command-line operator) for a person whose record they
may see, with every element §2.31(a) requires; it is never edited, only revoked and recorded anew.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import NotFoundError, ValidationError
from onward.model.consent import ConsentTerms, Purpose, covers
from onward.security.access import Actor, require_person
from onward.security.audit import append_audit
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.store.tables_security import Consent


@dataclass(frozen=True, slots=True)
class ConsentForm:
    """The §2.31(a) elements as entered (the patient is the person the consent is recorded for)."""

    discloser: str
    information: str
    recipient: str
    purpose: str
    signed_by: str
    signed_on: date
    expires_on: date | None = None
    expiry_event: str | None = None


def _check(form: ConsentForm, today: date) -> None:
    for name in ("discloser", "information", "recipient", "signed_by"):
        if not str(getattr(form, name)).strip():
            raise ValidationError(f"{name.replace('_', ' ')} is required", column=name)
    try:
        Purpose(form.purpose)
    except ValueError:
        raise ValidationError(
            f"unknown purpose {form.purpose!r}",
            column="purpose",
            expected=", ".join(p.value for p in Purpose),
        ) from None
    if form.expires_on is None and not (form.expiry_event or "").strip():
        raise ValidationError(
            "a consent needs an expiry date or an expiry event (§2.31(a)(7))", column="expires_on"
        )
    if form.signed_on > today:
        raise ValidationError("the signature date is in the future", column="signed_on")
    if form.expires_on is not None and form.expires_on < form.signed_on:
        raise ValidationError("the consent expires before it was signed", column="expires_on")


def record_consent(
    *, session: Session, actor: Actor, person_id: str, form: ConsentForm, now: datetime
) -> Consent:
    require_permission(actor, Permission.RECORD_CONSENT)
    _check(form, now.date())
    with write_transaction(session):
        require_person(session, actor, person_id, now)
        consent = Consent(
            consent_id=uuid.uuid4().hex,
            person_id=person_id,
            discloser=form.discloser.strip(),
            information=form.information.strip(),
            recipient=" ".join(form.recipient.split()),
            purpose=form.purpose,
            expires_on=form.expires_on,
            expiry_event=(form.expiry_event or "").strip() or None,
            signed_by=form.signed_by.strip(),
            signed_on=form.signed_on,
            recorded_by=actor.user_id,
            recorded_at=now,
        )
        session.add(consent)
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="record_consent",
            entity="consent",
            entity_id=consent.consent_id,
            person_id=person_id,
            detail=f"to {consent.recipient} for {consent.purpose}"
            + (f" until {consent.expires_on}" if consent.expires_on else f" until {consent.expiry_event}"),
        )
    return consent


def revoke_consent(*, session: Session, actor: Actor, consent_id: str, note: str, now: datetime) -> Consent:
    """Revoke at once: no export or disclosure started after this moment uses the consent."""
    require_permission(actor, Permission.RECORD_CONSENT)
    with write_transaction(session):
        consent = session.get(Consent, consent_id)
        if consent is None:
            raise NotFoundError("there is no record here that you may see")
        require_person(session, actor, consent.person_id, now)
        if consent.revoked_at is not None:
            raise ValidationError("this consent is already revoked")
        consent.revoked_at = now
        consent.revocation_note = note.strip() or None
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="revoke_consent",
            entity="consent",
            entity_id=consent_id,
            person_id=consent.person_id,
            detail=note.strip() or None,
        )
    return consent


def consents_of(*, session: Session, actor: Actor, person_id: str, now: datetime) -> list[Consent]:
    """A person's consents, newest first, for someone who may see the person's record."""
    require_permission(actor, Permission.RECORD_CONSENT)
    require_person(session, actor, person_id, now)
    rows = list(
        session.scalars(
            select(Consent).where(Consent.person_id == person_id).order_by(Consent.recorded_at.desc())
        )
    )
    session.commit()
    return rows


def terms(consent: Consent) -> ConsentTerms:
    return ConsentTerms(
        consent_id=consent.consent_id,
        recipient=consent.recipient,
        purpose=consent.purpose,
        signed_on=consent.signed_on,
        expires_on=consent.expires_on,
        revoked_at=consent.revoked_at,
    )


def covering_consents(
    session: Session, *, person_ids: set[str] | None, recipient: str, purpose: str, on: date
) -> dict[str, Consent]:
    """For each person with a consent that covers this recipient and purpose on `on`, one such consent.

    Read inside the caller's transaction, so a revocation committed before it is always seen."""
    query = select(Consent).where(Consent.revoked_at.is_(None), Consent.purpose == purpose)
    if person_ids is not None:
        query = query.where(Consent.person_id.in_(person_ids))
    found: dict[str, Consent] = {}
    for consent in session.scalars(query.order_by(Consent.signed_on.desc())):
        if consent.person_id not in found and covers(
            terms(consent), recipient=recipient, purpose=purpose, on=on
        ):
            found[consent.person_id] = consent
    return found
