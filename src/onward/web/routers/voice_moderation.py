"""Voice pages for moderators, administrators and leaders: reported ideas and comments with the
moderation log, the council's seats, and the voice metrics (docs/voice.md). Every write goes through
`onward.services.voice_*`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import ValidationError
from onward.metrics.voice import voice_metrics_of_database
from onward.model.voice_council import GROUP_LABELS, Group, Seat
from onward.security.policy import Permission
from onward.services import voice_council, voice_moderation
from onward.web.deps import ActorDep, NowDep, SessionDep, SettingsDep
from onward.web.templating import render
from onward.web.voice_views import STYLESHEET, voice_section

router = APIRouter(tags=["pages"], include_in_schema=False)


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            f"{field.replace('_', ' ')} {value!r} is not a day", column=field, expected="YYYY-MM-DD"
        ) from None


@router.get("/voice/moderation")
def moderation_page(request: Request, session: SessionDep) -> Response:
    context = {
        "title": "Moderation",
        "stylesheet": STYLESHEET,
        "reported": voice_moderation.reported(session),
        "log": voice_moderation.moderation_log(session),
    }
    return render(request, "voice_moderation.html", context)


@router.post("/voice/moderation")
def moderate(
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    kind: Annotated[str, Form()] = "",
    target_id: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    voice_moderation.moderate(
        session=session, actor=actor, kind=kind, target_id=target_id, action=action, reason=reason, now=now
    )
    return RedirectResponse("/voice/moderation", status_code=303)


@router.get("/council/members")
def members_page(
    request: Request, session: SessionDep, actor: ActorDep, settings: SettingsDep, now: NowDep
) -> Response:
    context = {
        "title": "Council members",
        "stylesheet": STYLESHEET,
        "members": voice_council.all_members(session),
        "state": voice_council.council_state(session, now.date(), settings.council_rule),
        "groups": {g.value: GROUP_LABELS[g] for g in Group},
        "seats": [s.value for s in Seat],
        "may_seat": actor.may(Permission.MANAGE_USERS),
        "today": now.date(),
    }
    return render(request, "voice_members.html", context)


@router.post("/council/members")
def seat(
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    name: Annotated[str, Form()] = "",
    group: Annotated[str, Form()] = "",
    seat: Annotated[str, Form()] = "member",
    username: Annotated[str, Form()] = "",
    joined_on: Annotated[str, Form()] = "",
) -> Response:
    voice_council.seat_member(
        session=session,
        actor=actor,
        name=name,
        group=group,
        seat=seat,
        username=username.strip() or None,
        joined_on=_day(joined_on, "joined_on") if joined_on else now.date(),
        now=now,
    )
    return RedirectResponse("/council/members", status_code=303)


@router.post("/council/members/{member_id}/leave")
def leave(member_id: str, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    voice_council.unseat_member(
        session=session, actor=actor, member_id=member_id, left_on=now.date(), now=now
    )
    return RedirectResponse("/council/members", status_code=303)


@router.get("/voice/metrics")
def metrics_page(request: Request, settings: SettingsDep, now: NowDep) -> Response:
    """Voice metrics over the last 12 months (or ?from=&to=), with their definitions (for leaders)."""
    end = _day(request.query_params["to"], "to") if request.query_params.get("to") else now.date()
    start = (
        _day(request.query_params["from"], "from")
        if request.query_params.get("from")
        else end - timedelta(days=365)
    )
    figures = voice_metrics_of_database(settings.resolved_database_url, start, end)
    context = {
        "title": "Voice metrics",
        "stylesheet": STYLESHEET,
        "section": voice_section(figures),
    }
    return render(request, "voice_metrics.html", context)
