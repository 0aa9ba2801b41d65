"""Starting an episode from the waiting list: the form that confirms the clinician, planned exit and
written graduation criteria (the program kind's defaults, or those of the episode a person came back
from), and intake for a referral still at stage `referred`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import ValidationError
from onward.model.graduation import defaults_for
from onward.services import referrals
from onward.web.deps import ActorDep, NowDep, SessionDep
from onward.web.pathway_views import parse_day, program_kind_label
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _page(request: Request, start: referrals.EpisodeStart, **extra: Any) -> Response:
    stage = start.stage
    context: dict[str, Any] = {
        "title": f"Start an episode from referral {start.referral.referral_id}",
        "start": start,
        "stage": stage,
        "kind_label": program_kind_label(start.program.kind),
        "defaults": defaults_for(start.program.kind),
        "form": {},
        "error": None,
        "error_field": None,
    }
    context.update(extra)
    return render(request, "episode_start.html", context, status_code=400 if context["error"] else 200)


@router.get("/referrals/{referral_id}/start")
def start_page(
    request: Request, referral_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    start = referrals.start_defaults(session=session, actor=actor, referral_id=referral_id, now=now)
    return _page(request, start)


@router.post("/referrals/{referral_id}/start")
async def start_episode(
    request: Request, referral_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    start = referrals.start_defaults(session=session, actor=actor, referral_id=referral_id, now=now)
    try:
        episode = referrals.start_episode(
            session=session,
            actor=actor,
            referral_id=referral_id,
            primary_staff_id=form.get("primary_staff_id", "").strip() or None,
            planned_exit=parse_day(form.get("planned_exit"), "planned_exit"),
            criteria=form.get("criteria"),
            criteria_reason=form.get("criteria_reason"),
            is_sud=form.get("is_sud") == "yes",
            start=parse_day(form.get("start"), "start"),
            now=now,
        )
    except ValidationError as error:
        return _page(request, start, form=form, error=str(error), error_field=error.column)
    return RedirectResponse(f"/episodes/{episode.episode_id}?done=started", status_code=303)


@router.post("/referrals/{referral_id}/intake")
async def intake(
    request: Request, referral_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    referrals.complete_intake(
        session=session, actor=actor, referral_id=referral_id, note=form.get("note"), now=now
    )
    return RedirectResponse(f"/referrals/{referral_id}/start", status_code=303)
