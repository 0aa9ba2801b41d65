"""The targets page: targets in force beside their public sources, managers' proposals waiting for a
leader, every change with its reason, and the form to set (a leader) or propose (a manager) one
(docs/targets.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from onward.errors import ValidationError
from onward.metrics.registry import METRICS, PURPOSE_TITLES
from onward.model.own_page_metrics import ALL_METRICS, OWN_PAGE_METRICS
from onward.model.targets import STATUS_RULE
from onward.security.policy import Permission
from onward.services.targets import decide, history, proposals, remove_target, set_target, targets_in_force
from onward.web import queries
from onward.web.deps import ActorDep, NowDep, SessionDep
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

SYSTEM = "system"


def _number(text: str, name: str) -> float | None:
    text = text.strip().replace("%", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a number", column=name) from None


@router.get("/targets")
def targets_page(request: Request, session: SessionDep, actor: ActorDep) -> Response:
    """Targets in force, proposals, history; the set (leader) or propose (manager) form."""
    leader = actor.may(Permission.SET_TARGETS)
    scope = None if leader or actor.may(Permission.AGGREGATES) else list(actor.program_ids)
    programs = queries.list_programs(session, scope)
    names = {p.program_id: p.name for p in programs}
    in_force = [
        t for t in targets_in_force(session) if scope is None or t.program_id is None or t.program_id in scope
    ]
    context = {
        "title": "Targets",
        "status_rule": STATUS_RULE,
        "in_force": in_force,
        "metrics": ALL_METRICS,
        "purpose_titles": PURPOSE_TITLES,
        "targetable": [d for d in METRICS.values() if d.good is not None],
        "system_only": list(OWN_PAGE_METRICS.values()),  # published on their own pages (docs/targets.md)
        "programs": programs,
        "names": names,
        "proposals": proposals(session, scope),
        "history": history(session, None, scope)[:100],
        "may_set": leader,
        "may_propose": not leader and actor.may(Permission.PROPOSE_TARGETS),
    }
    return render(request, "targets.html", context)


@router.post("/targets")
def targets_post(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    metric: Annotated[str, Form()],
    program: Annotated[str, Form()] = SYSTEM,
    value: Annotated[str, Form()] = "",
    margin: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "set",
) -> Response:
    """Set (a leader), propose (a manager, own programs) or remove (a leader) a target; a rate's value and
    margin are given in percent on the form."""
    program_id = None if program == SYSTEM else program
    definition = ALL_METRICS.get(metric)
    scale = 100.0 if definition is not None and definition.kind == "rate" else 1.0
    if action == "remove":
        remove_target(
            session=session, actor=actor, metric_key=metric, program_id=program_id, reason=reason, now=now
        )
    else:
        amount = _number(value, "value")
        if amount is None:
            raise ValidationError("give the target's value", column="value")
        spread = _number(margin, "margin")
        set_target(
            session=session,
            actor=actor,
            metric_key=metric,
            program_id=program_id,
            value=amount / scale,
            margin=None if spread is None else spread / scale,
            reason=reason,
            now=now,
        )
    return RedirectResponse("/targets", status_code=303)


@router.post("/targets/{target_id}/decision")
def targets_decision(
    request: Request,
    target_id: str,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    decision: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    """A leader accepts or declines a manager's proposal."""
    if decision not in ("accept", "decline"):
        raise ValidationError("decision must be accept or decline", column="decision")
    decide(session=session, actor=actor, target_id=target_id, accept=decision == "accept", note=note, now=now)
    return RedirectResponse("/targets", status_code=303)
