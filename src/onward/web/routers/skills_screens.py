"""EPDS screen pages of the perinatal tracks: the form, the result with the risk flag, and the referral
offered with the parent's consent (docs/skills.md, "Perinatal screening")."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import OnwardError, ValidationError
from onward.interop.instrument_texts import definitions
from onward.model.eventlog import Instrument
from onward.model.instruments import INSTRUMENTS
from onward.security.policy import Permission
from onward.services.skills_delivery import require_cohort
from onward.services.skills_screens import (
    answer_referral,
    record_screen,
    require_screen,
    treatment_programs,
)
from onward.store.tables_skills import Cohort
from onward.web.deps import ActorDep, NowDep, SessionDep, SettingsDep, audit_read
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _screen_form(
    request: Request, settings: SettingsDep, cohort: Cohort, form: dict[str, str], error: str | None
) -> Response:
    definition = definitions(settings.instrument_texts_dir)[Instrument.EPDS]
    context = {
        "title": "EPDS screen",
        "cohort": cohort,
        "definition": definition,
        "has_text": definition.has_text,
        "form": form,
        "error": error,
    }
    return render(request, "skills_screen.html", context, status_code=400 if error else 200)


@router.get("/skills/cohorts/{cohort_id}/screen")
def screen_form(
    request: Request, cohort_id: str, session: SessionDep, settings: SettingsDep, actor: ActorDep, now: NowDep
) -> Response:
    cohort = require_cohort(session, actor, cohort_id, now)
    return _screen_form(request, settings, cohort, {"screened_on": now.date().isoformat()}, None)


@router.post("/skills/cohorts/{cohort_id}/screen")
async def screen_save(
    request: Request, cohort_id: str, session: SessionDep, settings: SettingsDep, actor: ActorDep, now: NowDep
) -> Response:
    """Score and save; a missing or bad answer comes back naming the item."""
    cohort = require_cohort(session, actor, cohort_id, now)
    data = await request.form()
    form = {key: str(value) for key, value in data.items() if key != "csrf_token"}
    try:
        answers = []
        for item in range(1, 11):
            raw = form.get(f"item{item}", "").strip()
            if not raw.isdigit():
                raise ValidationError(f"item {item} has no answer", column=f"item{item}")
            answers.append(int(raw))
        try:
            day = date.fromisoformat(form.get("screened_on", "").strip())
        except ValueError:
            raise ValidationError("not a date", column="screened_on", expected="YYYY-MM-DD") from None
        screen, _ = record_screen(
            session=session, actor=actor, cohort_id=cohort_id, answers=answers, screened_on=day, now=now
        )
    except OnwardError as error:
        if error.http_status != 400:
            raise
        return _screen_form(request, settings, cohort, form, str(error))
    return RedirectResponse(f"/skills/screens/{screen.screen_id}", status_code=303)


def _result_page(
    request: Request, session: SessionDep, actor: ActorDep, screen_id: str, now: NowDep, error: str | None
) -> Response:
    screen = require_screen(session, actor, screen_id, now)
    audit_read(
        request,
        actor,
        now=now,
        entity="perinatal_screen",
        entity_id=screen_id,
        person_id=screen.person_id,
        detail="EPDS result page",
    )
    cohort = require_cohort(session, actor, screen.cohort_id, now)
    context = {
        "title": "EPDS result",
        "screen": screen,
        "cohort": cohort,
        "band": _band(screen.total),
        "priority": "urgent" if screen.self_harm else ("routine" if screen.positive else None),
        "programs": treatment_programs(session),
        "may_refer": actor.may(Permission.REFER),
        "error": error,
    }
    return render(request, "skills_screen_result.html", context, status_code=400 if error else 200)


def _band(total: int) -> str:
    return next(b.label for b in INSTRUMENTS[Instrument.EPDS].bands if b.low <= total <= b.high)


@router.get("/skills/screens/{screen_id}")
def screen_result(
    request: Request, screen_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> Response:
    return _result_page(request, session, actor, screen_id, now, None)


@router.post("/skills/screens/{screen_id}/referral")
def screen_referral(
    request: Request,
    screen_id: str,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    answer: Annotated[str, Form()],
    program_id: Annotated[str, Form()] = "",
    consent: Annotated[str, Form()] = "",
) -> Response:
    """The parent's answer. Making the referral needs the consent box ticked as well as the button."""
    try:
        if answer == "agreed" and consent != "agreed":
            raise ValidationError("tick that the parent agrees before making the referral", column="consent")
        if answer not in ("agreed", "declined"):
            raise ValidationError("answer must be agreed or declined", column="answer")
        answer_referral(
            session=session,
            actor=actor,
            screen_id=screen_id,
            agreed=answer == "agreed",
            program_id=program_id or None,
            now=now,
        )
    except OnwardError as error:
        if error.http_status != 400:
            raise
        return _result_page(request, session, actor, screen_id, now, str(error))
    return RedirectResponse(f"/skills/screens/{screen_id}", status_code=303)
