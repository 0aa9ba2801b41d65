"""Skills pages: lessons as a site teaches them, a site's edits and their review, printable packets.

Cohorts, delivery logs, coverage and perinatal screens are in `skills_cohorts`. docs/skills.md
describes the pages; docs/web.md lists every route and who may open it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import OnwardError
from onward.model.curricula import expected_curricula, load_curricula
from onward.model.perinatal_screening import SCREEN_POINTS
from onward.model.skills_versions import content_form, lesson_content
from onward.security.policy import Permission
from onward.services.skills_delivery import cohorts_for
from onward.services.skills_packets import html_to_pdf, packet
from onward.services.skills_review import (
    DRAFT,
    decide,
    lesson_in_use,
    save_draft,
    versions,
    view_version,
)
from onward.web.deps import ActorDep, NowDep, SessionDep
from onward.web.templating import render

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["pages"], include_in_schema=False)

_CURRICULUM_TITLES = {
    "prenatal": "Prenatal",
    "postpartum": "Postpartum",
    **{f"grade-{g}": ("Kindergarten" if g == "k" else f"Grade {g}") for g in ["k", *map(str, range(1, 13))]},
}


@router.get("/skills")
def skills_home(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    """Home for teachers and perinatal staff: their cohorts, the curricula, drafts awaiting review."""
    context = {
        "title": "Skills",
        "cohorts": cohorts_for(session, actor),
        "curricula": [(cid, _CURRICULUM_TITLES[cid]) for cid in expected_curricula()],
        "may_deliver": actor.may(Permission.SKILLS_DELIVERY),
        "may_review": actor.may(Permission.CURRICULUM_LEAD),
        "drafts": len(versions(session, status=DRAFT)) if actor.may(Permission.CURRICULUM_LEAD) else 0,
    }
    return render(request, "skills_home.html", context)


@router.get("/skills/curricula/{curriculum_id}")
def curriculum_page(request: Request, curriculum_id: str, session: SessionDep) -> Response:
    curricula = load_curricula()
    chosen = next((c for c in curricula.curricula if c.id == curriculum_id), None)
    if chosen is None:
        return render(
            request, "error.html", {"title": "Not found", "message": "No such curriculum."}, status_code=404
        )
    lessons = [(lesson_in_use(session, lesson.id), lesson) for lesson in chosen.lessons]
    context = {
        "title": _CURRICULUM_TITLES[chosen.id],
        "curriculum": chosen,
        "lessons": [(in_use, version, shipped) for (in_use, version), shipped in lessons],
        "screen_points": SCREEN_POINTS,
    }
    return render(request, "skills_curriculum.html", context)


@router.get("/skills/lessons/{lesson_id}")
def lesson_page(request: Request, lesson_id: str, session: SessionDep, actor: ActorDep) -> Response:
    """The lesson as this site teaches it (its approved version, else as shipped)."""
    lesson, version = lesson_in_use(session, lesson_id)
    context = {
        "title": lesson.title,
        "lesson": lesson,
        "version": version,
        "screen_point": SCREEN_POINTS.get(lesson.id),
        "log_session": request.query_params.get("session"),
        "may_edit": actor.may(Permission.SKILLS_DELIVERY) or actor.may(Permission.CURRICULUM_LEAD),
        "history": versions(session, lesson_id=lesson_id),
    }
    return render(request, "skills_lesson.html", context)


def _edit_page(
    request: Request, lesson_id: str, session: SessionDep, form: dict[str, str], note: str, error: str | None
) -> Response:
    lesson, version = lesson_in_use(session, lesson_id)
    context = {
        "title": f"Edit: {lesson.title}",
        "lesson": lesson,
        "version": version,
        "form": form,
        "note": note,
        "error": error,
    }
    return render(request, "skills_edit.html", context, status_code=400 if error else 200)


@router.get("/skills/lessons/{lesson_id}/edit")
def edit_form(request: Request, lesson_id: str, session: SessionDep) -> Response:
    lesson, _ = lesson_in_use(session, lesson_id)
    return _edit_page(request, lesson_id, session, content_form(lesson_content(lesson)), "", None)


_EDIT_FIELDS = (
    "title",
    "minutes",
    "objectives",
    "materials",
    "steps",
    "practice_at_home",
    "text",
    "words_taught",
    "adaptations_disability",
    "adaptations_language",
    "adaptations_trauma_informed",
)


@router.post("/skills/lessons/{lesson_id}/edit")
async def save_edit(
    request: Request, lesson_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> Response:
    """Save a site's edit as a draft for a curriculum lead; a bad edit comes back with the reason."""
    data = await request.form()
    form = {field: str(data.get(field, "")) for field in _EDIT_FIELDS}
    note = str(data.get("note", ""))
    try:
        row = save_draft(session=session, actor=actor, lesson_id=lesson_id, form=form, note=note, now=now)
    except OnwardError as error:
        if error.http_status != 400:
            raise
        return _edit_page(request, lesson_id, session, form, note, str(error))
    return RedirectResponse(f"/skills/versions/{row.version_id}", status_code=303)


@router.get("/skills/review")
def review_page(request: Request, session: SessionDep) -> Response:
    """Drafts awaiting a curriculum lead, and the decisions made so far."""
    rows = versions(session)
    context = {
        "title": "Lesson review",
        "drafts": [r for r in rows if r.status == DRAFT],
        "decided": [r for r in rows if r.status != DRAFT][:50],
    }
    return render(request, "skills_review.html", context)


@router.get("/skills/versions/{version_id}")
def version_page(request: Request, version_id: str, session: SessionDep, actor: ActorDep) -> Response:
    view = view_version(session, version_id)
    context = {
        "title": f"Version {view.row.number} of {view.after.title}",
        "view": view,
        "may_decide": actor.may(Permission.CURRICULUM_LEAD)
        and view.row.status == DRAFT
        and view.row.edited_by != actor.user_id,
        "own_draft": view.row.edited_by == actor.user_id,
        "error": None,
    }
    return render(request, "skills_version.html", context)


@router.post("/skills/versions/{version_id}/decision")
def version_decision(
    request: Request,
    version_id: str,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    decision: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    if decision not in ("approve", "reject"):
        raise OnwardError("decision must be approve or reject")
    decide(
        session=session, actor=actor, version_id=version_id, approve=decision == "approve", note=note, now=now
    )
    return RedirectResponse(f"/skills/versions/{version_id}", status_code=303)


@router.get("/skills/packets/{curriculum_id}.pdf")
def packet_pdf_page(request: Request, curriculum_id: str, session: SessionDep) -> Response:
    """The same page, printed to PDF by headless Chromium (docs/skills.md, "Printable packets")."""
    page = render(request, "skills_packet.html", {"title": "Packet", **packet(session, curriculum_id)})
    path = f"/skills/packets/{curriculum_id}"
    pdf = html_to_pdf(bytes(page.body), static_dir=STATIC_DIR, path=path)
    filename = f"onward-{curriculum_id}-packet.pdf"
    return Response(
        pdf, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )


@router.get("/skills/packets/{curriculum_id}")
def packet_page(request: Request, curriculum_id: str, session: SessionDep) -> Response:
    """A printable packet of a grade or track: every lesson as taught here, with a print stylesheet."""
    return render(request, "skills_packet.html", {"title": "Packet", **packet(session, curriculum_id)})
