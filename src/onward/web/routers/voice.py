"""Voice pages for everyone: campaigns, ideas, similar ideas while typing, supports, comments, reports,
notifications, and the public "You said, we did" page (docs/voice.md).

People in services take part from their own account, on a phone. Council and moderation pages are in
`voice_council`. Every write goes through `onward.services.voice_*` and is audited there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.responses import Response

from onward.errors import OnwardError
from onward.model.voice import DECIDED, Status
from onward.security.policy import Permission
from onward.services import voice_ideas, voice_lifecycle, voice_moderation
from onward.web.deps import ActorDep, NowDep, SessionDep, SettingsDep
from onward.web.templating import render
from onward.web.voice_views import STYLESHEET, idea_card, render_idea, role_label, status_label

router = APIRouter(tags=["pages"], include_in_schema=False)


def _back(idea_id: str) -> RedirectResponse:
    return RedirectResponse(f"/voice/ideas/{idea_id}", status_code=303)


@router.get("/voice")
def voice_home(request: Request, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    """Open campaigns for this account, recent ideas, one's own ideas and unread notices."""
    context = {
        "title": "Ideas",
        "stylesheet": STYLESHEET,
        "campaigns": voice_ideas.open_campaigns_for(session, actor, now.date()),
        "recent": [idea_card(session, i) for i in voice_ideas.ideas(session)[:20]],
        "mine": [idea_card(session, i) for i in voice_ideas.my_ideas(session, actor)],
        "unread": voice_lifecycle.unread_count(session, actor),
    }
    return render(request, "voice_home.html", context)


@router.get("/voice/campaigns/{campaign_id}")
def campaign_page(
    request: Request, campaign_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> Response:
    campaign = voice_ideas.get_campaign(session, campaign_id)
    context = {
        "title": campaign.title,
        "stylesheet": STYLESHEET,
        "campaign": campaign,
        "is_open": campaign.opens_on <= now.date() <= campaign.closes_on,
        "may_take_part": voice_ideas.may_take_part(actor, campaign),
        "ideas": [idea_card(session, i) for i in voice_ideas.ideas(session, campaign_id=campaign_id)],
        "audience": campaign.audience.replace("_", " "),
        "may_export": actor.may(Permission.COUNCIL),
    }
    return render(request, "voice_campaign.html", context)


def _new_page(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    values: dict[str, str],
    error: str | None,
) -> Response:
    words = f"{values.get('title', '')} {values.get('problem', '')}"
    context = {
        "title": "Share an idea",
        "stylesheet": STYLESHEET,
        "values": values,
        "campaigns": voice_ideas.open_campaigns_for(session, actor, now.date()),
        "roles": [(r.value, role_label(r.value)) for r in voice_ideas.author_roles_for(actor)],
        "similar": [idea_card(session, i) for i in voice_ideas.similar_ideas(session, words)]
        if words.strip()
        else [],
        "checked": bool(values.get("check")),
        "error": error,
    }
    return render(request, "voice_new.html", context, status_code=400 if error else 200)


@router.get("/voice/ideas/new")
def new_idea(request: Request, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    """The idea form (`?campaign=` preselects a campaign)."""
    values = {"campaign": request.query_params.get("campaign", "")}
    return _new_page(request, session, actor, now, values, None)


@router.post("/voice/ideas")
async def submit_idea(request: Request, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    """Share the idea; with `check` set, only list similar ideas (the no-script way to see them)."""
    data = await request.form()
    values = {
        f: str(data.get(f, "")) for f in ("title", "problem", "proposal", "author_role", "campaign", "check")
    }
    if values["check"]:  # "Look for similar ideas": the same form again, with similar ideas listed
        return _new_page(request, session, actor, now, values, None)
    try:
        idea = voice_ideas.submit_idea(
            session=session,
            actor=actor,
            title=values["title"],
            problem=values["problem"],
            proposal=values["proposal"],
            author_role=values["author_role"] or None,
            campaign_id=values["campaign"] or None,
            now=now,
        )
    except OnwardError as error:
        if error.http_status not in (400, 409):
            raise
        return _new_page(request, session, actor, now, values, str(error))
    return _back(idea.idea_id)


@router.get("/voice/similar")
def similar(request: Request, session: SessionDep, actor: ActorDep) -> JSONResponse:
    """Similar ideas for the words typed so far (`q`), as JSON for voice.js."""
    found = voice_ideas.similar_ideas(session, request.query_params.get("q", "")[:500])
    return JSONResponse(
        [{"idea_id": i.idea_id, "title": i.title, "status": status_label(i.status)} for i in found]
    )


@router.get("/voice/ideas/{idea_id}")
def idea_page(
    request: Request, idea_id: str, session: SessionDep, actor: ActorDep, settings: SettingsDep, now: NowDep
) -> Response:
    return render_idea(request, session, actor, settings, idea_id, now.date())


@router.post("/voice/ideas/{idea_id}/support")
def support_idea(idea_id: str, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    voice_ideas.support(session=session, actor=actor, idea_id=idea_id, now=now)
    return _back(idea_id)


@router.post("/voice/ideas/{idea_id}/comments")
def comment_idea(
    request: Request,
    idea_id: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    now: NowDep,
    stance: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
) -> Response:
    try:
        voice_ideas.comment(session=session, actor=actor, idea_id=idea_id, stance=stance, body=body, now=now)
    except OnwardError as error:
        if error.http_status != 400:
            raise
        form = {"stance": stance, "body": body}
        return render_idea(
            request,
            session,
            actor,
            settings,
            idea_id,
            now.date(),
            error=str(error),
            form=form,
            status_code=400,
        )
    return _back(idea_id)


@router.post("/voice/ideas/{idea_id}/report")
def report_idea(
    idea_id: str, session: SessionDep, actor: ActorDep, now: NowDep, reason: Annotated[str, Form()] = ""
) -> Response:
    voice_moderation.report(
        session=session, actor=actor, kind="idea", target_id=idea_id, reason=reason or "reported", now=now
    )
    return RedirectResponse("/voice?reported=1", status_code=303)


@router.post("/voice/comments/{comment_id}/report")
def report_comment(
    comment_id: str, session: SessionDep, actor: ActorDep, now: NowDep, reason: Annotated[str, Form()] = ""
) -> Response:
    from onward.store.tables_voice import VoiceComment

    row = session.get(VoiceComment, comment_id)
    voice_moderation.report(
        session=session,
        actor=actor,
        kind="comment",
        target_id=comment_id,
        reason=reason or "reported",
        now=now,
    )
    return _back(row.idea_id) if row is not None else RedirectResponse("/voice", status_code=303)


@router.get("/voice/notifications")
def notifications_page(
    request: Request, session: SessionDep, actor: ActorDep, settings: SettingsDep
) -> Response:
    context = {
        "title": "Notifications",
        "stylesheet": STYLESHEET,
        "notices": voice_lifecycle.notifications(session, actor),
        "email": voice_lifecycle.email_of(session, actor.user_id),
        "smtp": bool(settings.smtp_host),
    }
    return render(request, "voice_notifications.html", context)


@router.post("/voice/notifications/read")
def read_notifications(session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    voice_lifecycle.mark_read(session=session, actor=actor, now=now)
    return RedirectResponse("/voice/notifications", status_code=303)


@router.post("/voice/notifications/email")
def email_address(
    session: SessionDep, actor: ActorDep, now: NowDep, email: Annotated[str, Form()] = ""
) -> Response:
    voice_lifecycle.set_email(session=session, actor=actor, email=email, now=now)
    return RedirectResponse("/voice/notifications", status_code=303)


@router.get("/voice/results")
def you_said_we_did(request: Request, session: SessionDep) -> Response:
    """Public: decided ideas, the council's reasons, plans and measured results; no author is named."""
    decided = [i for i in voice_ideas.ideas(session) if Status(i.status) in DECIDED]
    cards = [
        idea_card(session, i)
        for i in sorted(decided, key=lambda i: i.decided_on or i.submitted_on, reverse=True)
    ]
    context = {
        "title": "You said, we did",
        "stylesheet": STYLESHEET,
        "cards": cards,
        "received": len(voice_ideas.ideas(session, include_hidden=True)),
        "not_causal": voice_lifecycle.NOT_CAUSAL,
        "simulated_label": voice_lifecycle.SIMULATED,
    }
    return render(request, "voice_results.html", context)
