"""Council pages: the council's home (composition, rule, ideas waiting), campaigns and formal requests with
their export, decisions, plans, progress and evaluations; moderation; seats; and the voice metrics for
leaders (docs/voice.md). Every write goes through `onward.services.voice_*`.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import OnwardError, ValidationError
from onward.metrics.voice import measure
from onward.model.roles import COUNCIL_ROLE_TEXT, ROLE_DESCRIPTIONS
from onward.model.voice import Audience, CampaignKind, Status
from onward.model.voice_council import GROUP_LABELS
from onward.services import voice_council, voice_ideas, voice_lifecycle
from onward.services.voice_lifecycle import Notice
from onward.services.voice_mail import deliver
from onward.services.voice_reports import export_rows
from onward.web import queries
from onward.web.deps import ActorDep, NowDep, SessionDep, SettingsDep
from onward.web.templating import render
from onward.web.voice_views import STYLESHEET, idea_card, render_idea

router = APIRouter(tags=["pages"], include_in_schema=False)


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            f"{field.replace('_', ' ')} {value!r} is not a day", column=field, expected="YYYY-MM-DD"
        ) from None


def _number(value: str, field: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValidationError(f"{field.replace('_', ' ')} {value!r} is not a number", column=field) from None


@router.get("/council")
def council_home(
    request: Request, session: SessionDep, actor: ActorDep, settings: SettingsDep, now: NowDep
) -> Response:
    """The council's composition against its rule, ideas waiting for review or a decision, plans under way,
    campaigns, and the form to open a campaign or a formal request."""
    state = voice_council.council_state(session, now.date(), settings.council_rule)
    by_status = {
        s: [idea_card(session, i) for i in voice_ideas.ideas(session, status=s.value)] for s in Status
    }
    context = {
        "title": "Council",
        "stylesheet": STYLESHEET,
        "council_text": COUNCIL_ROLE_TEXT,
        "state": state,
        "groups": GROUP_LABELS,
        "waiting": by_status[Status.SUBMITTED] + by_status[Status.UNDER_REVIEW],
        "under_way": by_status[Status.ACCEPTED]
        + by_status[Status.PLANNED]
        + by_status[Status.IN_PROGRESS]
        + by_status[Status.IMPLEMENTED],
        "campaigns": voice_ideas.campaigns(session),
        "audiences": [a.value for a in Audience],
        "export_columns": voice_ideas.EXPORT_COLUMNS,
        "today": now.date(),
        "error": request.query_params.get("error"),
        "role_counts": [
            {"label": r.value.replace("_", " "), "description": ROLE_DESCRIPTIONS[r], "count": n}
            for r, n in queries.active_users_per_role(session).items()
        ],
    }
    return render(request, "voice_council.html", context)


@router.post("/voice/campaigns")
async def create_campaign(request: Request, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    data = await request.form()
    value = {
        k: str(data.get(k, ""))
        for k in (
            "title",
            "question",
            "audience",
            "program_id",
            "opens_on",
            "closes_on",
            "requester",
            "reference",
        )
    }
    fields = [str(f) for f in data.getlist("export_fields")]
    campaign = voice_ideas.create_campaign(
        session=session,
        actor=actor,
        title=value["title"],
        question=value["question"],
        audience=value["audience"],
        program_id=value["program_id"] or None,
        opens_on=_day(value["opens_on"], "opens_on"),
        closes_on=_day(value["closes_on"], "closes_on"),
        kind=CampaignKind.FORMAL_REQUEST.value if value["requester"].strip() else CampaignKind.CAMPAIGN.value,
        requester=value["requester"] or None,
        reference=value["reference"] or None,
        export_fields=fields,
        now=now,
    )
    return RedirectResponse(f"/voice/campaigns/{campaign.campaign_id}", status_code=303)


@router.get("/voice/campaigns/{campaign_id}/export.csv")
def campaign_export(campaign_id: str, session: SessionDep) -> Response:
    """The answers to a campaign or formal request, in the columns it asked for (all columns otherwise)."""
    campaign = voice_ideas.get_campaign(session, campaign_id)
    header, rows = export_rows(session, campaign)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    name = (campaign.reference or campaign.campaign_id).replace('"', "")
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _after_step(settings: SettingsDep, session: SessionDep, notices: list[Notice], idea_id: str) -> Response:
    deliver(settings, session, notices)
    return RedirectResponse(f"/voice/ideas/{idea_id}", status_code=303)


def _refused(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    now: NowDep,
    idea_id: str,
    error: OnwardError,
    form: dict[str, str],
) -> Response:
    if error.http_status not in (400, 409):
        raise error
    return render_idea(
        request,
        session,
        actor,
        settings,
        idea_id,
        now.date(),
        error=str(error),
        form=form,
        status_code=error.http_status,
    )


@router.post("/voice/ideas/{idea_id}/review")
def start_review(
    idea_id: str, session: SessionDep, actor: ActorDep, settings: SettingsDep, now: NowDep
) -> Response:
    notices = voice_lifecycle.start_review(session=session, actor=actor, idea_id=idea_id, now=now)
    return _after_step(settings, session, notices, idea_id)


@router.post("/voice/ideas/{idea_id}/decision")
async def decide(
    request: Request, idea_id: str, session: SessionDep, actor: ActorDep, settings: SettingsDep, now: NowDep
) -> Response:
    """Accept or decline with a public reason, naming who is present; refused, with every reason, when the
    council or those present do not meet the composition rule and quorum."""
    data = await request.form()
    outcome, reason = str(data.get("outcome", "")), str(data.get("reason", ""))
    present = [str(p) for p in data.getlist("present")]
    try:
        _, notices = voice_council.decide(
            session=session,
            actor=actor,
            idea_id=idea_id,
            outcome=outcome,
            reason=reason,
            present=present,
            rule=settings.council_rule,
            now=now,
        )
    except OnwardError as error:
        return _refused(
            request,
            session,
            actor,
            settings,
            now,
            idea_id,
            error,
            {"outcome": outcome, "reason": reason, "present": ",".join(present)},
        )
    return _after_step(settings, session, notices, idea_id)


@router.post("/voice/ideas/{idea_id}/plan")
async def plan(
    request: Request, idea_id: str, session: SessionDep, actor: ActorDep, settings: SettingsDep, now: NowDep
) -> Response:
    """A plan: owner, milestones, target metric with its baseline measured now by the metrics engine, a
    target, and optionally a simulated impact with its interval."""
    data = await request.form()
    form = {
        k: str(data.get(k, ""))
        for k in (
            "owner",
            "milestones",
            "metric_key",
            "baseline_from",
            "baseline_to",
            "target",
            "scenario",
            "sim_value",
            "sim_low",
            "sim_high",
        )
    }
    try:
        start, end = _day(form["baseline_from"], "baseline_from"), _day(form["baseline_to"], "baseline_to")
        baseline = measure(settings.resolved_database_url, form["metric_key"], start, end)
        simulated = None
        if form["scenario"].strip():
            simulated = {
                "scenario": form["scenario"].strip()[:120],
                "measure": form["metric_key"],
                **{k: _number(form[f"sim_{k}"], f"sim_{k}") for k in ("value", "low", "high")},
            }
        notices = voice_lifecycle.plan(
            session=session,
            actor=actor,
            idea_id=idea_id,
            owner=form["owner"],
            milestones=form["milestones"],
            metric_key=form["metric_key"],
            baseline_from=start,
            baseline_to=end,
            baseline=baseline,
            target=_number(form["target"], "target"),
            simulated=simulated,
            now=now,
        )
    except OnwardError as error:
        return _refused(request, session, actor, settings, now, idea_id, error, form)
    return _after_step(settings, session, notices, idea_id)


@router.post("/voice/ideas/{idea_id}/progress")
def progress(
    request: Request,
    idea_id: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    now: NowDep,
    percent: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    try:
        notices = voice_lifecycle.report_progress(
            session=session, actor=actor, idea_id=idea_id, progress=percent, note=note, now=now
        )
    except OnwardError as error:
        return _refused(
            request, session, actor, settings, now, idea_id, error, {"percent": percent, "note": note}
        )
    return _after_step(settings, session, notices, idea_id)


@router.post("/voice/ideas/{idea_id}/implemented")
def implemented(
    idea_id: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    now: NowDep,
    note: Annotated[str, Form()] = "",
) -> Response:
    notices = voice_lifecycle.implement(session=session, actor=actor, idea_id=idea_id, note=note, now=now)
    return _after_step(settings, session, notices, idea_id)


@router.post("/voice/ideas/{idea_id}/evaluation")
def evaluation(
    request: Request,
    idea_id: str,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    now: NowDep,
    after_from: Annotated[str, Form()] = "",
    after_to: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Measure the plan's target metric after the change and record it beside the baseline (not causal)."""
    row = voice_lifecycle.get_plan(session, idea_id)
    try:
        if row is None:
            raise ValidationError("this idea has no plan to evaluate")
        start, end = _day(after_from, "after_from"), _day(after_to, "after_to")
        after = measure(settings.resolved_database_url, row.metric_key, start, end)
        notices = voice_lifecycle.evaluate(
            session=session,
            actor=actor,
            idea_id=idea_id,
            after_from=start,
            after_to=end,
            after=after,
            note=note,
            now=now,
        )
    except OnwardError as error:
        return _refused(
            request,
            session,
            actor,
            settings,
            now,
            idea_id,
            error,
            {"after_from": after_from, "after_to": after_to, "note": note},
        )
    return _after_step(settings, session, notices, idea_id)
