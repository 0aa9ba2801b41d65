"""What the voice pages show: an idea with everything around it, as a template context (docs/voice.md).

Both voice routers render an idea page from here, so a refused action (a decision without the required
composition, a plan without milestones) comes back on the same page with its reason.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from onward.errors import OnwardError
from onward.metrics.registry import METRICS
from onward.metrics.voice import VOICE_METRICS, VoiceMetrics, voice_metrics_of_database
from onward.model.voice import AUTHOR_ROLE_LABELS, STATUS_LABELS, AuthorRole, Stance, Status
from onward.model.voice_council import GROUP_LABELS, Group
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.services import voice_council, voice_ideas, voice_lifecycle
from onward.settings import Settings
from onward.store.tables import User
from onward.store.tables_voice import VoiceEvent, VoiceIdea, VoicePlan
from onward.web.templating import render

STYLESHEET = "voice.css"


def role_label(value: str) -> str:
    try:
        return AUTHOR_ROLE_LABELS[AuthorRole(value)]
    except ValueError:
        return value


def status_label(value: str) -> str:
    try:
        return STATUS_LABELS[Status(value)]
    except ValueError:
        return value


def plan_view(plan: VoicePlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    definition = METRICS.get(plan.metric_key)
    return {
        "row": plan,
        "metric": definition.title if definition else plan.metric_key,
        "definition": definition.definition if definition else "",
        "milestones": json.loads(plan.milestones),
        "simulated": json.loads(plan.simulated) if plan.simulated else None,
    }


def idea_card(session: Session, idea: VoiceIdea) -> dict[str, Any]:
    """The public face of an idea: no account, only the author's role."""
    return {
        "idea": idea,
        "role": role_label(idea.author_role),
        "status": status_label(idea.status),
        "supports": voice_ideas.supports(session, idea.idea_id),
        "plan": plan_view(voice_lifecycle.get_plan(session, idea.idea_id)),
    }


def idea_context(
    session: Session, actor: Actor, settings: Settings, idea_id: str, today: date
) -> dict[str, Any]:
    idea = voice_ideas.get_idea(session, actor, idea_id)
    may_moderate = actor.may(Permission.VOICE_MODERATE)
    may_council = actor.may(Permission.COUNCIL)
    comments = voice_ideas.comments(session, idea.idea_id, include_hidden=may_moderate)
    author = session.get(User, idea.author_user_id) if may_moderate and idea.author_user_id else None
    rule = settings.council_rule
    decisions = [
        {"row": d, "record": json.loads(d.composition)}
        for d in voice_council.decisions(session, idea.idea_id)
    ]
    return {
        "title": idea.title,
        "stylesheet": STYLESHEET,
        **idea_card(session, idea),
        "campaign": voice_ideas.get_campaign(session, idea.campaign_id) if idea.campaign_id else None,
        "history": voice_lifecycle.history(session, idea.idea_id),
        "supported": voice_ideas.supported_by(session, idea.idea_id, actor.user_id),
        "comments": comments,
        "stances": [s.value for s in Stance],
        "counts": {s.value: sum(c.stance == s.value for c in comments if not c.hidden) for s in Stance},
        "decisions": decisions,
        "may_moderate": may_moderate,
        "may_council": may_council,
        "author": author,
        "council": voice_council.council_state(session, today, rule) if may_council else None,
        "groups": {g.value: GROUP_LABELS[g] for g in Group},
        "metrics": list(METRICS.values()),
        "today": today,
        "not_causal": voice_lifecycle.NOT_CAUSAL,
        "simulated_label": voice_lifecycle.SIMULATED,
        "error": None,
        "form": {},
    }


def render_idea(
    request: Request,
    session: Session,
    actor: Actor,
    settings: Settings,
    idea_id: str,
    today: date,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = idea_context(session, actor, settings, idea_id, today)
    context["error"], context["form"] = error, form or {}
    return render(request, "voice_idea.html", context, status_code=status_code)


def voice_section(figures: VoiceMetrics) -> dict[str, Any]:
    """The self-contained voice section of a leader's page (`_voice_metrics_section.html`): the period,
    each voice metric with its definition, and ideas by author role."""
    return {
        "period": figures.period,
        "rows": [{"definition": d, "figure": figures.figures[k]} for k, d in VOICE_METRICS.items()],
        "by_role": [(role_label(r), n) for r, n in figures.by_author_role.items()],
    }


_SECTIONS: dict[tuple[str, date, int], dict[str, Any]] = {}
_SECTIONS_KEPT = 16


def leader_voice_section(session: Session, url: str, today: date) -> dict[str, Any] | None:
    """The voice section over the 12 months up to `today`, computed once per change of the ideas (the
    newest line of any idea's history) so the leader's home stays fast; None when it cannot be computed."""
    version = session.scalar(select(func.max(VoiceEvent.event_id))) or 0
    key = (url, today, int(version))
    if key not in _SECTIONS:
        try:
            section = voice_section(voice_metrics_of_database(url, today - timedelta(days=365), today))
        except OnwardError:
            return None
        _SECTIONS[key] = section
        while len(_SECTIONS) > _SECTIONS_KEPT:
            _SECTIONS.pop(next(iter(_SECTIONS)))
    return _SECTIONS[key]
