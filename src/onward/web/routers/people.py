"""A person's record for the staff who may see it, break-glass, and invitations to their own account.

Every view goes through `onward.services.records` (policy check, audited read); a person the user may
not see answers 404 whether or not they exist.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import OnwardError, ValidationError
from onward.model.consent import Purpose
from onward.security.policy import Permission
from onward.services.accounts import invite_person
from onward.services.breakglass import BREAK_GLASS_LIFETIME, break_glass
from onward.services.consents import ConsentForm, consents_of, record_consent, revoke_consent
from onward.services.records import read_person
from onward.web.deps import ActorDep, NowDep, SessionDep, SettingsDep, audit_writer
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/people/{person_id}")
def person_page(
    request: Request, person_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> Response:
    record = read_person(
        session=session,
        actor=actor,
        person_id=person_id,
        now=now,
        audit=audit_writer(request).record,
        purpose="person page",
    )
    context = {
        "title": f"Person {record.person_id}",
        "record": record,
        "may_invite": actor.may(Permission.INVITE_PERSON),
        "may_consent": actor.may(Permission.RECORD_CONSENT),
        "invitation": None,
    }
    return render(request, "person_record.html", context)


@router.post("/people/{person_id}/invitation")
def invite(
    request: Request, person_id: str, session: SessionDep, settings: SettingsDep, actor: ActorDep, now: NowDep
) -> Response:
    """A one-time link the person opens to choose their own username and password."""
    link = invite_person(
        session=session, actor=actor, secret_key=settings.secret_key, person_id=person_id, now=now
    )
    context = {
        "title": "Invitation",
        "person_id": person_id,
        "url": settings.base_url + link.path,
        "link": link,
    }
    return render(request, "invitation_sent.html", context, status_code=201)


def _break_glass_page(
    request: Request, *, form: dict[str, str], error: str | None = None, status_code: int = 200
) -> Response:
    context = {
        "title": "Emergency access",
        "form": form,
        "error": error,
        "hours": int(BREAK_GLASS_LIFETIME.total_seconds() // 3600),
    }
    return render(request, "break_glass.html", context, status_code=status_code)


@router.get("/break-glass")
def break_glass_form(request: Request, actor: ActorDep, person_id: str = "") -> Response:
    return _break_glass_page(request, form={"person_id": person_id, "reason": ""})


@router.post("/break-glass", response_model=None)
def break_glass_submit(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    person_id: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    form = {"person_id": person_id, "reason": reason}
    try:
        break_glass(
            session=session,
            actor=actor,
            person_id=person_id.strip(),
            reason=reason,
            password=password,
            now=now,
        )
    except OnwardError as error:
        return _break_glass_page(request, form=form, error=str(error), status_code=error.http_status)
    return RedirectResponse(f"/people/{person_id.strip()}", status_code=303)


def _consents_page(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    person_id: str,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    rows = consents_of(session=session, actor=actor, person_id=person_id, now=now)
    context = {
        "title": f"Part 2 consents · {person_id}",
        "person_id": person_id,
        "consents": rows,
        "purposes": list(Purpose),
        "form": form or {"signed_on": now.date().isoformat()},
        "error": error,
        "notice": notice,
        "today": now.date(),
    }
    return render(request, "consents.html", context, status_code=status_code)


@router.get("/people/{person_id}/consents")
def consents_page(
    request: Request, person_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> Response:
    return _consents_page(request, session, actor, now, person_id)


def _date_field(value: str, name: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{value!r} is not a date", column=name, expected="YYYY-MM-DD") from None


@router.post("/people/{person_id}/consents")
def consents_submit(
    request: Request,
    person_id: str,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    recipient: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
    information: Annotated[str, Form()] = "",
    discloser: Annotated[str, Form()] = "",
    signed_by: Annotated[str, Form()] = "",
    signed_on: Annotated[str, Form()] = "",
    expires_on: Annotated[str, Form()] = "",
    expiry_event: Annotated[str, Form()] = "",
) -> Response:
    form = {
        "recipient": recipient,
        "purpose": purpose,
        "information": information,
        "discloser": discloser,
        "signed_by": signed_by,
        "signed_on": signed_on,
        "expires_on": expires_on,
        "expiry_event": expiry_event,
    }
    try:
        signed = _date_field(signed_on, "signed_on")
        if signed is None:
            raise ValidationError("the signature date is required", column="signed_on")
        record_consent(
            session=session,
            actor=actor,
            person_id=person_id,
            form=ConsentForm(
                discloser=discloser,
                information=information,
                recipient=recipient,
                purpose=purpose,
                signed_by=signed_by,
                signed_on=signed,
                expires_on=_date_field(expires_on, "expires_on"),
                expiry_event=expiry_event or None,
            ),
            now=now,
        )
    except ValidationError as error:
        return _consents_page(
            request,
            session,
            actor,
            now,
            person_id,
            form=form,
            error=str(error),
            status_code=error.http_status,
        )
    return _consents_page(
        request, session, actor, now, person_id, notice="Consent recorded.", status_code=201
    )


@router.post("/consents/{consent_id}/revoke", response_model=None)
def consent_revoke(
    request: Request,
    consent_id: str,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    note: Annotated[str, Form()] = "",
) -> Response:
    consent = revoke_consent(session=session, actor=actor, consent_id=consent_id, note=note, now=now)
    return RedirectResponse(f"/people/{consent.person_id}/consents", status_code=303)
