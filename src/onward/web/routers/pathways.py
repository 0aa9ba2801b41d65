"""Pathway pages: the clinician's caseload, the episode page with its actions, the person's own progress.

Handlers parse the form, call one service, and redirect back (post/redirect/get); a refused change
re-renders the episode page with the reason and the form field it names. Reads are audited by the
services; docs/web.md lists each route and who may use it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import ValidationError
from onward.model.eventlog import EndReason, ProgramKind
from onward.model.flags import FLAG_NAMES
from onward.model.graduation import defaults_for
from onward.model.instruments import spec
from onward.model.pathways import Stage
from onward.model.service_codes import default_catalog
from onward.services import episodes as episode_service
from onward.services import measures, referrals, selfreport
from onward.services.caseload import caseload
from onward.services.episode_record import EpisodeRecord, my_progress, read_episode
from onward.web.deps import ActorDep, NowDep, SessionDep, audit_writer
from onward.web.pathway_views import (
    COMING_BACK,
    END_REASON_LABELS,
    FLAG_LABELS,
    GRADUATING_MEANS,
    caseload_row,
    flag_rules,
    form_fragments,
    parse_day,
    parse_int,
    program_kind_label,
    settings_of,
    short_name,
    timeline,
    trend,
)
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

_DONE = {
    "measure": "Measurement recorded.",
    "service": "Service recorded.",
    "step-down": "The episode is stepping down.",
    "resume": "The episode is active again.",
    "end": "The episode has ended.",
    "exit": "Planned exit moved; the reason is kept with the episode.",
    "criteria": "Graduation criteria rewritten; the earlier version is kept.",
    "refer-back": "Referred back: the fast re-entry referral is on the waiting list.",
    "started": "Episode started.",
}


@router.get("/caseload")
def caseload_page(request: Request, actor: ActorDep, session: SessionDep, now: NowDep) -> Response:
    """The clinician's assigned open episodes, flags first by urgency (risk first); audited."""
    params = request.query_params
    flag = params.get("flag") or None
    flag = flag if flag in (*FLAG_NAMES, "none") else None
    stage = params.get("stage") or None
    stage = stage if stage in (Stage.ACTIVE.value, Stage.STEPPING_DOWN.value) else None
    program_id = params.get("program") or None
    result = caseload(
        session=session,
        actor=actor,
        now=now,
        rules=flag_rules(request),
        audit=audit_writer(request).record,
        flag=flag,
        program_id=program_id,
        stage=stage,
    )
    context = {
        "title": "Caseload",
        "linked": actor.staff_id is not None,
        "caseload": result,
        "filters": {"flag": flag, "stage": stage, "program": program_id},
        "flag_names": FLAG_NAMES,
        "flag_labels": FLAG_LABELS,
        "caseload_row": caseload_row(request),
    }
    return render(request, "caseload.html", context)


#: The service-code options of the episode page's form, in a stable order (the catalogue is immutable).
_SERVICE_CODES = tuple(sorted(default_catalog().values(), key=lambda c: (c.category.value, c.code)))


def _episode_context(request: Request, record: EpisodeRecord, **extra: Any) -> dict[str, Any]:
    episode = record.episode
    settings = settings_of(request)
    end = max(record.as_of if record.open else episode.end_date or record.as_of, episode.start_date)
    trends = [trend(s, planned_exit=episode.planned_end_date, today=record.as_of) for s in record.scores]
    answerable = sorted(
        selfreport.answerable(settings.instrument_texts_dir).values(), key=lambda d: d.id.value
    )
    context: dict[str, Any] = {
        "title": f"Episode {episode.episode_id}",
        "record": record,
        "episode": episode,
        "trends": trends,
        "services_chart": timeline(record.services, start=episode.start_date, end=end),
        "flag_labels": FLAG_LABELS,
        "end_reasons": [r.value for r in EndReason],
        "end_reason_labels": END_REASON_LABELS,
        "instruments": answerable,
        "all_instruments": answerable,
        "service_codes": _SERVICE_CODES,
        "forms": form_fragments(request),
        "kind_label": program_kind_label(record.program.kind),
        "defaults": defaults_for(record.program.kind)
        if record.program.kind in {k.value for k in ProgramKind}
        else None,
        "short_name": short_name,
        "link_days": settings.self_report_link_days,
        "done": _DONE.get(request.query_params.get("done", "")),
        "error": None,
        "error_field": None,
        "may_record": actor_may(request, "record_care"),
        "may_refer": actor_may(request, "refer"),
    }
    context.update(extra)
    return context


def actor_may(request: Request, permission: str) -> bool:
    actor = getattr(request.state, "actor", None)
    return bool(actor is not None and permission in {p.value for p in actor.permissions})


@router.get("/episodes/{episode_id}")
def episode_page(
    request: Request, episode_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    """Score trend, services, planned exit, graduation criteria, flags and the actions; audited."""
    record = read_episode(
        session=session,
        actor=actor,
        episode_id=episode_id,
        now=now,
        rules=flag_rules(request),
        audit=audit_writer(request).record,
    )
    return render(request, "episode.html", _episode_context(request, record))


def _refused(
    request: Request, episode_id: str, error: ValidationError, actor: Any, session: Any, now: Any
) -> Response:
    record = read_episode(
        session=session,
        actor=actor,
        episode_id=episode_id,
        now=now,
        rules=flag_rules(request),
        audit=audit_writer(request).record,
    )
    context = _episode_context(request, record, error=str(error), error_field=error.column)
    return render(request, "episode.html", context, status_code=400)


def _back(episode_id: str, done: str) -> Response:
    return RedirectResponse(f"/episodes/{episode_id}?done={done}", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.post("/episodes/{episode_id}/measurements")
async def record_measure(
    request: Request, episode_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    form = await _form(request)
    try:
        instrument = form.get("instrument", "")
        definition = spec(instrument)
        answers = []
        for item in definition.items:
            value = parse_int(form.get(f"item{item.number}"), f"item{item.number}")
            if value is None:
                raise ValidationError(
                    f"{definition.short_name} item {item.number} has no answer", column=f"item{item.number}"
                )
            answers.append(value)
        measures.record_measurement(
            session=session,
            actor=actor,
            episode_id=episode_id,
            instrument=instrument,
            answers=answers,
            measured_on=parse_day(form.get("measured_on"), "measured_on"),
            now=now,
        )
    except ValidationError as error:
        return _refused(request, episode_id, error, actor, session, now)
    return _back(episode_id, "measure")


@router.post("/episodes/{episode_id}/services")
async def record_service(
    request: Request, episode_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    form = await _form(request)
    try:
        measures.record_service(
            session=session,
            actor=actor,
            episode_id=episode_id,
            code=form.get("code", ""),
            service_date=parse_day(form.get("service_date"), "service_date"),
            minutes=parse_int(form.get("minutes"), "minutes"),
            now=now,
        )
    except ValidationError as error:
        return _refused(request, episode_id, error, actor, session, now)
    return _back(episode_id, "service")


@router.post("/episodes/{episode_id}/links")
async def send_link(
    request: Request, episode_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    """Create a single-use link and show it once (only its hash is stored)."""
    form = await _form(request)
    settings = settings_of(request)
    try:
        days = parse_int(form.get("valid_days"), "valid_days") or settings.self_report_link_days
        sent = selfreport.send_link(
            session=session,
            actor=actor,
            episode_id=episode_id,
            instrument=form.get("instrument", ""),
            secret_key=settings.secret_key,
            valid_for=timedelta(days=days),
            texts_dir=settings.instrument_texts_dir,
            now=now,
        )
    except ValidationError as error:
        return _refused(request, episode_id, error, actor, session, now)
    url = f"{str(request.base_url).rstrip('/')}{sent.path}"
    context = {
        "title": "Link ready",
        "episode_id": episode_id,
        "sent": sent,
        "url": url,
        "instrument": short_name(sent.instrument),
    }
    return render(request, "link_sent.html", context)


@router.post("/episodes/{episode_id}/step-down")
async def step_down(
    request: Request, episode_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    form = await _form(request)
    try:
        episode_service.step_down(
            session=session, actor=actor, episode_id=episode_id, note=form.get("note", ""), now=now
        )
    except ValidationError as error:
        return _refused(request, episode_id, error, actor, session, now)
    return _back(episode_id, "step-down")


@router.post("/episodes/{episode_id}/resume")
async def resume(
    request: Request, episode_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    form = await _form(request)
    try:
        episode_service.resume(
            session=session, actor=actor, episode_id=episode_id, note=form.get("note", ""), now=now
        )
    except ValidationError as error:
        return _refused(request, episode_id, error, actor, session, now)
    return _back(episode_id, "resume")


@router.post("/episodes/{episode_id}/end")
async def end(
    request: Request, episode_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    """Graduate (the default) or end for another reason."""
    form = await _form(request)
    try:
        episode_service.end_episode(
            session=session,
            actor=actor,
            episode_id=episode_id,
            end_reason=form.get("end_reason", EndReason.GRADUATED.value),
            note=form.get("note"),
            on=parse_day(form.get("end_date"), "end_date"),
            now=now,
        )
    except ValidationError as error:
        return _refused(request, episode_id, error, actor, session, now)
    return _back(episode_id, "end")


@router.post("/episodes/{episode_id}/exit")
async def extend_exit(
    request: Request, episode_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    form = await _form(request)
    try:
        new_exit = parse_day(form.get("planned_exit"), "planned_exit")
        if new_exit is None:
            raise ValidationError("choose the new planned exit date", column="planned_exit")
        episode_service.extend_exit(
            session=session,
            actor=actor,
            episode_id=episode_id,
            new_exit=new_exit,
            reason=form.get("reason", ""),
            now=now,
        )
    except ValidationError as error:
        return _refused(request, episode_id, error, actor, session, now)
    return _back(episode_id, "exit")


@router.post("/episodes/{episode_id}/criteria")
async def edit_criteria(
    request: Request, episode_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    form = await _form(request)
    try:
        episode_service.edit_criteria(
            session=session,
            actor=actor,
            episode_id=episode_id,
            text=form.get("criteria", ""),
            reason=form.get("criteria_reason", ""),
            now=now,
        )
    except ValidationError as error:
        return _refused(request, episode_id, error, actor, session, now)
    return _back(episode_id, "criteria")


@router.post("/episodes/{episode_id}/refer-back")
async def refer_back(
    request: Request, episode_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    """A fast re-entry referral for a person who graduated or stepped down from this episode."""
    form = await _form(request)
    try:
        referrals.create_fast_reentry(
            session=session,
            actor=actor,
            episode_id=episode_id,
            reason=form.get("reason", ""),
            priority=form.get("priority") or "routine",
            now=now,
        )
    except ValidationError as error:
        return _refused(request, episode_id, error, actor, session, now)
    return _back(episode_id, "refer-back")


@router.get("/me")
def my_page(request: Request, actor: ActorDep, session: SessionDep, now: NowDep) -> Response:
    """The person's own progress chart in plain words, planned exit, graduating and coming back; audited."""
    if actor.person_id is None:
        context: dict[str, Any] = {"title": "My care", "person_linked": False}
        return render(request, "me.html", context)
    progress = my_progress(session=session, actor=actor, now=now, audit=audit_writer(request).record)
    current = progress.current
    charts = (
        [
            trend(s, planned_exit=current.planned_exit, plain=True, today=progress.as_of)
            for s in current.scores
        ]
        if current
        else []
    )
    context = {
        "title": "My care",
        "person_linked": True,
        "progress": progress,
        "current": current,
        "charts": charts,
        "graduating_means": GRADUATING_MEANS,
        "coming_back": COMING_BACK,
        "short_name": short_name,
        "end_reason_labels": END_REASON_LABELS,
        "kind_label": program_kind_label,
    }
    return render(request, "me.html", context)
