"""The self-report link's page: a questionnaire a person answers on their phone, without an account.

The page shows only the questionnaire (nothing about the person or their care), says plainly when a
link was used or has expired, and after a positive risk answer tells the person where to get help now
(the site's `crisis_help_text` setting). The form carries the double-submit CSRF token every signed-out
form carries (onward.web.sessions).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from onward.errors import ValidationError
from onward.model.instruments import Definition
from onward.services.selfreport import LinkClosedError, LinkStatus, LinkView, open_link, submit_link
from onward.web.deps import NowDep, SessionDep
from onward.web.pathway_views import settings_of
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

_CLOSED = {
    LinkStatus.USED: (
        "This link has already been used",
        "Your answers were received. Each link can be used once. If you need to answer again, ask your "
        "clinician for a new link.",
    ),
    LinkStatus.EXPIRED: (
        "This link has expired",
        "Links work for a limited time, to keep your answers safe. Ask your clinician for a new link.",
    ),
    LinkStatus.UNKNOWN: (
        "This link does not work",
        "Check that the whole link was copied, or ask your clinician for a new one.",
    ),
}


def _closed(request: Request, status: LinkStatus) -> Response:
    heading, message = _CLOSED[status]
    context = {
        "title": heading,
        "heading": heading,
        "message": message,
        "help_text": settings_of(request).crisis_help_text,
    }
    return render(
        request, "answer_closed.html", context, status_code=410 if status is not LinkStatus.UNKNOWN else 404
    )


def _form_page(
    request: Request, token: str, view: LinkView, definition: Definition, **extra: Any
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "title": definition.short_name,
        "definition": definition,
        "token": token,
        "expires_at": view.expires_at,
        "chosen": {},
        "error": None,
        "error_item": None,
        "help_text": settings_of(request).crisis_help_text,
    }
    context.update(extra)
    return context


@router.get("/answer/{token}")
def answer_page(request: Request, token: str, session: SessionDep, now: NowDep) -> Response:
    settings = settings_of(request)
    view = open_link(
        session=session,
        secret_key=settings.secret_key,
        token=token,
        texts_dir=settings.instrument_texts_dir,
        now=now,
    )
    if view.status is not LinkStatus.OPEN or view.definition is None:
        return _closed(request, view.status)
    return render(request, "answer.html", _form_page(request, token, view, view.definition))


@router.post("/answer/{token}")
async def answer_submit(request: Request, token: str, session: SessionDep, now: NowDep) -> Response:
    settings = settings_of(request)
    view = open_link(
        session=session,
        secret_key=settings.secret_key,
        token=token,
        texts_dir=settings.instrument_texts_dir,
        now=now,
    )
    if view.status is not LinkStatus.OPEN or view.definition is None:
        return _closed(request, view.status)
    definition = view.definition
    form = await request.form()
    chosen: dict[int, int] = {}
    missing: list[int] = []
    for item in definition.items:
        raw = form.get(f"item{item.number}")
        try:
            chosen[item.number] = int(raw) if isinstance(raw, str) else -1
        except ValueError:
            chosen[item.number] = -1
        if chosen[item.number] not in item.values:
            chosen.pop(item.number)
            missing.append(item.number)
    if missing:
        words = (
            "question " + str(missing[0])
            if len(missing) == 1
            else "questions " + ", ".join(map(str, missing))
        )
        context = _form_page(
            request,
            token,
            view,
            definition,
            chosen=chosen,
            error=f"Please answer {words}.",
            error_item=missing[0],
        )
        return render(request, "answer.html", context, status_code=400)
    try:
        submitted = submit_link(
            session=session,
            secret_key=settings.secret_key,
            token=token,
            answers=[chosen[item.number] for item in definition.items],
            texts_dir=settings.instrument_texts_dir,
            request_id=getattr(request.state, "request_id", None),
            now=now,
        )
    except LinkClosedError as closed:
        return _closed(request, closed.status)
    except ValidationError as error:
        context = _form_page(request, token, view, definition, chosen=chosen, error=str(error))
        return render(request, "answer.html", context, status_code=400)
    context = {
        "title": "Thank you",
        "risk": submitted.risk,
        "help_text": settings.crisis_help_text,
        "instrument": definition.short_name,
    }
    return render(request, "answer_done.html", context)
