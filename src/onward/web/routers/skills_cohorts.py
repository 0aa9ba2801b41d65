"""Skills delivery pages: cohorts and their schedules, the one-page delivery log, and coverage.

The log page is built for a teacher with a tablet at the end of a lesson: the lesson and the date are
filled in, every name on the list starts ticked present, and one button saves it (docs/skills.md,
"Delivery"). A parent's cohort is part of their record, so its pages are audited reads.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from onward.errors import NotFoundError, OnwardError, ValidationError
from onward.model.curricula import load_curricula
from onward.model.perinatal_screening import SCREEN_POINTS
from onward.model.skills_coverage import coverage
from onward.model.skills_schedule import Term, parse_days_off, parse_weekdays
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.services.skills_coverage import coverage_report, facts_by_cohort
from onward.services.skills_delivery import (
    create_class,
    log_delivery,
    members_of,
    require_cohort,
    sessions_of,
)
from onward.services.skills_perinatal import create_clinic_group, create_parent_cohort, record_birth
from onward.services.skills_screens import screens_of
from onward.store.tables import Program
from onward.store.tables_skills import SkillsSession
from onward.web.deps import ActorDep, NowDep, SessionDep, SettingsDep, audit_read
from onward.web.skills_published import published_skills
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"not a date: {value!r}", column=field, expected="YYYY-MM-DD") from None


def _programs(session: Session, actor: Actor, kind: str) -> list[Program]:
    return [
        p
        for p in (session.get(Program, pid) for pid in actor.program_ids)
        if p is not None and p.kind == kind
    ]


def _new_page(
    request: Request, session: Session, actor: Actor, form: dict[str, str], error: str | None
) -> Response:
    context = {
        "title": "New cohort",
        "schools": _programs(session, actor, "school"),
        "clinics": _programs(session, actor, "perinatal"),
        "form": form,
        "error": error,
        "grades": ["K", *map(str, range(1, 13))],
    }
    return render(request, "skills_cohort_new.html", context, status_code=400 if error else 200)


@router.get("/skills/cohorts/new")
def new_cohort(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    return _new_page(request, session, actor, dict(request.query_params), None)


@router.post("/skills/cohorts")
async def add_cohort(request: Request, session: SessionDep, actor: ActorDep, now: NowDep) -> Response:
    """A class (grade, term, weekdays, roster) or one expectant parent (person id, due date)."""
    data = await request.form()
    form = {key: str(value) for key, value in data.items() if key != "csrf_token"}
    try:
        if form.get("kind") == "parent":
            cohort = create_parent_cohort(
                session=session,
                actor=actor,
                person_id=form.get("person_id", "").strip(),
                due_date=_day(form.get("due_date", ""), "due_date"),
                now=now,
            )
        elif form.get("kind") == "clinic_group":
            cohort = create_clinic_group(
                session=session,
                actor=actor,
                program_id=form.get("program_id", ""),
                track=form.get("track", ""),
                name=form.get("name", ""),
                term=Term(
                    starts=_day(form.get("starts", ""), "starts"),
                    ends=_day(form.get("ends", ""), "ends"),
                    weekdays=parse_weekdays(form.get("weekdays", "")),
                ),
                person_ids=form.get("person_ids", "").split(),
                now=now,
            )
        else:
            term = Term(
                starts=_day(form.get("starts", ""), "starts"),
                ends=_day(form.get("ends", ""), "ends"),
                weekdays=parse_weekdays(form.get("weekdays", "")),
                days_off=parse_days_off(form.get("days_off", "")),
            )
            cohort = create_class(
                session=session,
                actor=actor,
                program_id=form.get("program_id", ""),
                grade=form.get("grade", ""),
                name=form.get("name", ""),
                term=term,
                roster=form.get("roster", "").splitlines(),
                now=now,
            )
    except OnwardError as error:
        if error.http_status != 400:
            raise
        return _new_page(request, session, actor, form, str(error))
    return RedirectResponse(f"/skills/cohorts/{cohort.cohort_id}", status_code=303)


@router.get("/skills/cohorts/{cohort_id}")
def cohort_page(
    request: Request, cohort_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> Response:
    """A cohort's schedule, lesson by lesson, with coverage by skill and (for a parent) EPDS screens."""
    cohort = require_cohort(session, actor, cohort_id, now)
    if cohort.person_id is not None:
        audit_read(
            request,
            actor,
            now=now,
            entity="cohort",
            entity_id=cohort_id,
            person_id=cohort.person_id,
            detail="skills cohort page",
        )
    today = now.date()
    curricula = load_curricula()
    planned = sessions_of(session, cohort_id)
    context = {
        "title": cohort.name,
        "cohort": cohort,
        "program": session.get(Program, cohort.program_id),
        "rows": [(s, curricula.lesson(s.lesson_id)) for s in planned],
        "members": members_of(session, cohort_id, today),
        "coverage": coverage(facts_by_cohort(session, [cohort_id])[cohort_id], today),
        "today": today,
        "screen_points": SCREEN_POINTS,
        "screens": screens_of(session, cohort_id),
        "may_deliver": actor.may(Permission.SKILLS_DELIVERY),
    }
    return render(request, "skills_cohort.html", context)


@router.post("/skills/cohorts/{cohort_id}/birth")
def add_birth(
    cohort_id: str, session: SessionDep, actor: ActorDep, now: NowDep, birth_date: Annotated[str, Form()]
) -> Response:
    record_birth(
        session=session, actor=actor, cohort_id=cohort_id, birth_date=_day(birth_date, "birth_date"), now=now
    )
    return RedirectResponse(f"/skills/cohorts/{cohort_id}", status_code=303)


def _log_page(
    request: Request,
    session: Session,
    actor: Actor,
    planned: SkillsSession,
    now: datetime,
    on: date,
    form: dict[str, str],
    absent: set[str],
    error: str | None,
) -> Response:
    cohort = require_cohort(session, actor, planned.cohort_id, now)
    context = {
        "title": "Log a lesson",
        "cohort": cohort,
        "planned": planned,
        "lesson": load_curricula().lesson(planned.lesson_id),
        "members": members_of(session, cohort.cohort_id, on),
        "absent": absent,
        "form": form,
        "error": error,
        "screen_point": SCREEN_POINTS.get(planned.lesson_id) if cohort.person_id else None,
    }
    return render(request, "skills_log.html", context, status_code=400 if error else 200)


@router.get("/skills/sessions/{session_id}/log")
def log_form(
    request: Request, session_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> Response:
    planned = session.get(SkillsSession, session_id)
    if planned is None:
        raise NotFoundError("there is no cohort here that you may see")
    today = now.date()
    default = planned.planned_on if planned.planned_on <= today else today
    return _log_page(
        request, session, actor, planned, now, today, {"delivered_on": default.isoformat()}, set(), None
    )


@router.post("/skills/sessions/{session_id}/log")
async def log_save(
    request: Request, session_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> Response:
    """Save the log: members left unticked are absent; then back to the cohort, with coverage updated."""
    data = await request.form()
    planned = session.get(SkillsSession, session_id)
    if planned is None:
        raise NotFoundError("there is no cohort here that you may see")
    cohort = require_cohort(session, actor, planned.cohort_id, now)
    present = {str(v) for v in data.getlist("present")}
    form = {
        "delivered_on": str(data.get("delivered_on", "")),
        "minutes": str(data.get("minutes", "")),
        "note": str(data.get("note", "")),
    }
    day = now.date()
    try:
        day = _day(form["delivered_on"], "delivered_on")
        minutes = form["minutes"].strip()
        if minutes and not minutes.isdigit():
            raise ValidationError(f"not a whole number: {minutes!r}", column="minutes")
        everyone = [m.member_id for m in members_of(session, cohort.cohort_id, day)]
        log_delivery(
            session=session,
            actor=actor,
            session_id=session_id,
            delivered_on=day,
            absent=[m for m in everyone if m not in present],
            minutes=int(minutes) if minutes else None,
            note=form["note"],
            now=now,
        )
    except OnwardError as error:
        if error.http_status != 400:
            raise
        everyone = [m.member_id for m in members_of(session, cohort.cohort_id, day)]
        return _log_page(
            request, session, actor, planned, now, day, form, set(everyone) - present, str(error)
        )
    return RedirectResponse(f"/skills/cohorts/{cohort.cohort_id}?logged={session_id}", status_code=303)


@router.get("/skills/coverage")
def coverage_page(
    request: Request, session: SessionDep, settings: SettingsDep, actor: ActorDep, now: NowDep
) -> Response:
    """Planned against delivered, by skill: per cohort (staff and managers), grade, school and clinic."""
    report = coverage_report(session=session, actor=actor, on=now.date())
    published = published_skills(settings.resolved_database_url) if actor.may(Permission.AGGREGATES) else None
    context = {"title": "Skills coverage", "report": report, "published": published}
    return render(request, "skills_coverage.html", context)
