"""The waiting list of a program (its manager and clinicians): triaged, with the expected wait, targets
and 6/18-week shares; offer the next slot, and per referral record attempts to reach the person, book
the first appointment, or close it (withdrawn, declined, not reached, referred elsewhere).
Admitting is the start form of `routers/referrals.py`. docs/web.md, "Waiting list"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import ConflictError, ValidationError
from onward.model.access import DEFAULT_TARGET_DAYS, NHS_WEEKS, NOT_REACHED_ATTEMPTS
from onward.security.policy import Permission
from onward.services import referral_outcomes as outcomes
from onward.services import waiting_list as waiting
from onward.web.deps import ActorDep, NowDep, SessionDep, audit_read
from onward.web.pathway_views import parse_day
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

_DONE = {
    "offered": "Slot offered.",
    "booked": "First appointment booked.",
    "contact": "Attempt recorded.",
    "closed": "Referral closed.",
}


async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


def _list_page(
    request: Request,
    actor: Any,
    session: Any,
    now: Any,
    program_id: str,
    *,
    error: str = "",
    status: int = 200,
) -> Response:
    listing = waiting.waiting_list(session=session, actor=actor, program_id=program_id, now=now)
    audit_read(
        request,
        actor,
        now=now,
        entity="waiting_list",
        entity_id=program_id,
        person_id=None,
        detail=f"waiting list of {program_id}: {len(listing.rows)} referrals",
    )
    context = {
        "title": f"Waiting list: {listing.program.name}",
        "listing": listing,
        "nhs_weeks": NHS_WEEKS,
        "default_target": DEFAULT_TARGET_DAYS,
        "error": error,
        "done": _DONE.get(request.query_params.get("done", ""), ""),
        "may_capacity": actor.may(Permission.OWN_PROGRAMS),
    }
    return render(request, "waiting_list.html", context, status_code=status)


@router.get("/programs/{program_id}/waiting")
def waiting_page(
    request: Request, program_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    return _list_page(request, actor, session, now, program_id)


@router.post("/programs/{program_id}/waiting/offer-next")
def offer_next(
    request: Request, program_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    try:
        referral = waiting.offer_next_slot(session=session, actor=actor, program_id=program_id, now=now)
    except ConflictError as error:
        return _list_page(request, actor, session, now, program_id, error=str(error), status=409)
    return RedirectResponse(
        f"/programs/{program_id}/waiting?done=offered#r-{referral.referral_id}", status_code=303
    )


def _referral_page(
    request: Request,
    actor: Any,
    session: Any,
    now: Any,
    referral_id: str,
    *,
    error: str = "",
    error_field: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    detail = waiting.referral_detail(session=session, actor=actor, referral_id=referral_id, now=now)
    audit_read(
        request,
        actor,
        now=now,
        entity="referral",
        entity_id=referral_id,
        person_id=detail.referral.person_id,
        detail="waiting-list referral",
    )
    context = {
        "title": f"Referral {referral_id}",
        "detail": detail,
        "closing": list(outcomes.CLOSING),
        "methods": outcomes.CONTACT_METHODS,
        "attempts_needed": NOT_REACHED_ATTEMPTS,
        "error": error,
        "error_field": error_field,
        "form": form or {},
        "done": _DONE.get(request.query_params.get("done", ""), ""),
    }
    return render(request, "waiting_referral.html", context, status_code=status)


@router.get("/referrals/{referral_id}/waiting")
def referral_page(
    request: Request, referral_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    return _referral_page(request, actor, session, now, referral_id)


async def _act(
    request: Request, actor: Any, session: Any, now: Any, referral_id: str, action: str
) -> Response:
    form = await _form(request)
    try:
        if action == "offered":
            outcomes.offer_slot(
                session=session, actor=actor, referral_id=referral_id, note=form.get("note"), now=now
            )
        elif action == "contact":
            outcomes.record_contact(
                session=session,
                actor=actor,
                referral_id=referral_id,
                method=form.get("method", ""),
                reached=form.get("reached") == "yes",
                note=form.get("note"),
                now=now,
            )
        elif action == "booked":
            day = parse_day(form.get("day"), "day")
            if day is None:
                raise ValidationError("choose the appointment date", column="day")
            outcomes.book_first_appointment(
                session=session,
                actor=actor,
                referral_id=referral_id,
                staff_id=form.get("staff_id", ""),
                day=day,
                at_time=form.get("at_time"),
                now=now,
            )
        else:
            outcomes.close_referral(
                session=session,
                actor=actor,
                referral_id=referral_id,
                outcome=form.get("outcome", ""),
                reason=form.get("reason"),
                now=now,
            )
    except ValidationError as error:
        return _referral_page(
            request,
            actor,
            session,
            now,
            referral_id,
            error=str(error),
            error_field=error.column,
            form=form,
            status=400,
        )
    except ConflictError as error:
        return _referral_page(
            request, actor, session, now, referral_id, error=str(error), form=form, status=409
        )
    if action in {"booked", "closed", "offered"}:
        program_id = waiting.referral_detail(
            session=session, actor=actor, referral_id=referral_id, now=now
        ).program.program_id
        return RedirectResponse(
            f"/programs/{program_id}/waiting?done={action}#r-{referral_id}", status_code=303
        )
    return RedirectResponse(f"/referrals/{referral_id}/waiting?done={action}", status_code=303)


@router.post("/referrals/{referral_id}/offer")
async def offer(
    request: Request, referral_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    return await _act(request, actor, session, now, referral_id, "offered")


@router.post("/referrals/{referral_id}/contacts")
async def contact(
    request: Request, referral_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    return await _act(request, actor, session, now, referral_id, "contact")


@router.post("/referrals/{referral_id}/appointment")
async def book(
    request: Request, referral_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    return await _act(request, actor, session, now, referral_id, "booked")


@router.post("/referrals/{referral_id}/close")
async def close(
    request: Request, referral_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    return await _act(request, actor, session, now, referral_id, "closed")
