"""Capacity of a program (docs/access.md, "Capacity"): staff hours a week by treatment, case management
and other work, open slots, caseload per clinician against a target, and an estimate of how the wait
changes when hours move between case management and treatment (M/M/c), with a link to the what-if."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import Response

from onward.errors import ValidationError
from onward.security.policy import Permission
from onward.services.capacity import program_capacity
from onward.web.deps import ActorDep, NowDep, SessionDep
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

MAX_MOVE = 1000.0


def _moved(text: str | None) -> float:
    raw = (text or "").strip()
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError(
            f"{raw!r} is not a number of hours", column="move", expected="e.g. 20 or -10"
        ) from None
    if not -MAX_MOVE <= value <= MAX_MOVE:
        raise ValidationError(f"{value:g} hours", column="move", expected=f"-{MAX_MOVE:g} to {MAX_MOVE:g}")
    return value


@router.get("/programs/{program_id}/capacity")
def capacity_page(
    request: Request, program_id: str, actor: ActorDep, session: SessionDep, now: NowDep
) -> Response:
    error = ""
    try:
        moved = _moved(request.query_params.get("move"))
    except ValidationError as problem:
        moved, error = 0.0, str(problem)
    capacity = program_capacity(session=session, actor=actor, program_id=program_id, now=now, moved=moved)
    before, after = capacity.estimate(0.0), capacity.estimate(capacity.moved)
    whatif = None
    share = capacity.cm_share_after
    if actor.may(Permission.WHAT_IF) and share is not None:
        query = [
            ("scenarios", "status-quo"),
            ("scenarios", "my-levers"),
            ("lever_case_management_share", f"{share:.2f}"),
        ]
        whatif = "/whatif?" + urlencode(query)
    context = {
        "title": f"Capacity: {capacity.program.name}",
        "c": capacity,
        "before": before,
        "after": after,
        "whatif": whatif,
        "error": error,
        "may_wait": actor.may(Permission.ADMIT) and program_id in actor.program_ids,
    }
    return render(request, "capacity.html", context, status_code=400 if error else 200)
