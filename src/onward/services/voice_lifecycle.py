"""From idea to result: review, plan, progress, implementation and evaluation, and the notices each step
sends to the idea's author and supporters (docs/voice.md, "From idea to result").

Every step is one transaction: the idea's new status, a line of its history, an in-app notice for the
author and each supporter, and the audit entry. E-mail goes out after the commit (`voice_mail`), so a
mail server that is down never loses a step. A plan's baseline and an evaluation's after-value come from
the metrics engine (`onward.metrics.voice.measure`), computed by the caller before the write transaction
starts; the evaluation compares before with after and says plainly that the difference is not shown to be
caused by the change.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import NotFoundError, ValidationError
from onward.model.voice import REASON_MAX, Status, clean_text, parse_progress, require_transition
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.services.voice_ideas import audit
from onward.store.tables_voice import (
    VoiceEmail,
    VoiceEvent,
    VoiceIdea,
    VoiceNotification,
    VoicePlan,
    VoiceSupport,
)

NOT_CAUSAL = (
    "Measured before and after the change; other things changed too, so the difference is not shown to be "
    "caused by it."
)
SIMULATED = "SIMULATED: from a what-if run of the simulator, not a measurement."


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice to one account: what the e-mail (when configured) says too."""

    user_id: str
    idea_id: str
    title: str
    text: str


def audit_step(session: Session, actor: Actor, now: datetime, action: str, idea_id: str, detail: str) -> None:
    audit(session, actor, now, action, "voice_idea", idea_id, detail)


def record_step(
    session: Session, idea: VoiceIdea, status: Status, note: str, *, actor: Actor, now: datetime
) -> list[Notice]:
    """Move the idea to `status` (inside the caller's transaction), log it, notify author and supporters."""
    idea.status = status.value
    session.add(
        VoiceEvent(idea_id=idea.idea_id, at=now, status=status.value, note=note, by_user_id=actor.user_id)
    )
    people = [idea.author_user_id] if idea.author_user_id else []
    people += list(session.scalars(select(VoiceSupport.user_id).where(VoiceSupport.idea_id == idea.idea_id)))
    notices = [Notice(u, idea.idea_id, idea.title, note) for u in dict.fromkeys(people)]
    for n in notices:
        session.add(
            VoiceNotification(user_id=n.user_id, idea_id=n.idea_id, at=now, text=n.text, read_at=None)
        )
    return notices


def _locked(session: Session, idea_id: str) -> VoiceIdea:
    idea = session.get(VoiceIdea, idea_id, populate_existing=True)
    if idea is None:
        raise NotFoundError(f"no idea {idea_id}")
    return idea


def start_review(*, session: Session, actor: Actor, idea_id: str, now: datetime) -> list[Notice]:
    if not (actor.may(Permission.COUNCIL) or actor.may(Permission.VOICE_MODERATE)):
        require_permission(actor, Permission.COUNCIL)
    with write_transaction(session):
        idea = _locked(session, idea_id)
        require_transition(idea.status, Status.UNDER_REVIEW)
        notices = record_step(
            session, idea, Status.UNDER_REVIEW, "The council is reviewing this idea.", actor=actor, now=now
        )
        audit_step(session, actor, now, "review", idea.idea_id, "under review")
    return notices


_MILESTONE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s+(.+?)\s*$")


def parse_milestones(text: str) -> list[dict[str, str]]:
    """One milestone a line: `YYYY-MM-DD what is done by then`; at least one."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = _MILESTONE.match(line)
        if found is None:
            raise ValidationError(
                f"milestone line {number} {line.strip()!r}", column="milestones", expected="YYYY-MM-DD title"
            )
        try:
            date.fromisoformat(found.group(1))
        except ValueError:
            raise ValidationError(
                f"milestone line {number}: no such day {found.group(1)}", column="milestones"
            ) from None
        out.append({"due": found.group(1), "title": found.group(2)[:200]})
    if not out:
        raise ValidationError("a plan needs at least one milestone", column="milestones")
    return out


def plan(
    *,
    session: Session,
    actor: Actor,
    idea_id: str,
    owner: str,
    milestones: str,
    metric_key: str,
    baseline_from: date,
    baseline_to: date,
    baseline: float | None,
    target: float,
    simulated: dict[str, object] | None,
    now: datetime,
) -> list[Notice]:
    """Turn an accepted idea into a plan: an owner, milestones, a target metric with its measured baseline
    (`onward.metrics.voice.measure`) and a target; optionally a simulated impact (scenario, value and
    interval) from a what-if run, stored labelled as simulated."""
    require_permission(actor, Permission.COUNCIL)
    steps = parse_milestones(milestones)
    who = clean_text(owner, field="owner", maximum=200)
    if simulated is not None:
        low, value, high = (float(simulated[k]) for k in ("low", "value", "high"))  # type: ignore[arg-type]
        if not low <= value <= high:
            raise ValidationError("the simulated value lies outside its interval", column="simulated_value")
    with write_transaction(session):
        idea = _locked(session, idea_id)
        require_transition(idea.status, Status.PLANNED)
        session.add(
            VoicePlan(
                idea_id=idea.idea_id,
                owner=who,
                milestones=json.dumps(steps),
                metric_key=metric_key,
                baseline_from=baseline_from,
                baseline_to=baseline_to,
                baseline=baseline,
                target=target,
                simulated=json.dumps(simulated) if simulated is not None else None,
                planned_at=now,
            )
        )
        base = "no value" if baseline is None else f"{baseline:.3g}"
        note = (
            f"Planned: {who} leads it; target {metric_key} {target:.3g} "
            f"(baseline {base}, {baseline_from} to {baseline_to})."
        )
        notices = record_step(session, idea, Status.PLANNED, note, actor=actor, now=now)
        audit_step(session, actor, now, "plan", idea.idea_id, note)
    return notices


def report_progress(
    *, session: Session, actor: Actor, idea_id: str, progress: str | int, note: str, now: datetime
) -> list[Notice]:
    require_permission(actor, Permission.COUNCIL)
    percent = parse_progress(progress)
    words = clean_text(note, field="note", maximum=REASON_MAX, required=False)
    with write_transaction(session):
        idea = _locked(session, idea_id)
        require_transition(idea.status, Status.IN_PROGRESS)
        idea.progress = percent
        text = f"In progress: {percent} % done." + (f" {words}" if words else "")
        notices = record_step(session, idea, Status.IN_PROGRESS, text, actor=actor, now=now)
        audit_step(session, actor, now, "progress", idea.idea_id, text)
    return notices


def implement(*, session: Session, actor: Actor, idea_id: str, note: str, now: datetime) -> list[Notice]:
    require_permission(actor, Permission.COUNCIL)
    words = clean_text(note, field="note", maximum=REASON_MAX, required=False)
    with write_transaction(session):
        idea = _locked(session, idea_id)
        require_transition(idea.status, Status.IMPLEMENTED)
        idea.progress, idea.implemented_on = 100, now.date()
        text = "Implemented." + (f" {words}" if words else "")
        notices = record_step(session, idea, Status.IMPLEMENTED, text, actor=actor, now=now)
        audit_step(session, actor, now, "implement", idea.idea_id, text)
    return notices


def evaluate(
    *,
    session: Session,
    actor: Actor,
    idea_id: str,
    after_from: date,
    after_to: date,
    after: float | None,
    note: str,
    now: datetime,
) -> list[Notice]:
    """Record the target metric after the change (measured over [after_from, after_to]) beside its
    baseline; labelled as not causal."""
    require_permission(actor, Permission.COUNCIL)
    words = clean_text(note, field="note", maximum=REASON_MAX, required=False)
    with write_transaction(session):
        idea = _locked(session, idea_id)
        require_transition(idea.status, Status.EVALUATED)
        row = session.get(VoicePlan, idea.idea_id)
        if row is None:
            raise NotFoundError(f"idea {idea_id} has no plan")
        row.after_from, row.after_to, row.after = after_from, after_to, after
        row.evaluation_note = words or None
        idea.evaluated_on = now.date()
        before = "no value" if row.baseline is None else f"{row.baseline:.3g}"
        later = "no value" if after is None else f"{after:.3g}"
        text = (
            f"Evaluated: {row.metric_key} was {before} before and {later} after "
            f"(target {row.target:.3g}). {NOT_CAUSAL}"
        )
        notices = record_step(session, idea, Status.EVALUATED, text, actor=actor, now=now)
        audit_step(session, actor, now, "evaluate", idea.idea_id, text)
    return notices


def get_plan(session: Session, idea_id: str) -> VoicePlan | None:
    return session.get(VoicePlan, idea_id)


def history(session: Session, idea_id: str) -> list[VoiceEvent]:
    return list(
        session.scalars(select(VoiceEvent).where(VoiceEvent.idea_id == idea_id).order_by(VoiceEvent.event_id))
    )


# --- in-app notifications and e-mail addresses -----------------------------------------------------


def notifications(session: Session, actor: Actor, limit: int = 100) -> list[VoiceNotification]:
    if actor.user_id is None:
        return []
    return list(
        session.scalars(
            select(VoiceNotification)
            .where(VoiceNotification.user_id == actor.user_id)
            .order_by(VoiceNotification.notification_id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, actor: Actor) -> int:
    return sum(1 for n in notifications(session, actor) if n.read_at is None)


def mark_read(*, session: Session, actor: Actor, now: datetime) -> int:
    require_permission(actor, Permission.VOICE)
    with write_transaction(session):
        rows = [n for n in notifications(session, actor, limit=1000) if n.read_at is None]
        for row in rows:
            row.read_at = now
        audit(
            session,
            actor,
            now,
            "read",
            "voice_notifications",
            actor.user_id or "",
            f"{len(rows)} marked read",
        )
    return len(rows)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def set_email(*, session: Session, actor: Actor, email: str, now: datetime) -> VoiceEmail | None:
    """Give (or, with an empty address, remove) the address this account is e-mailed at about its ideas."""
    require_permission(actor, Permission.VOICE)
    if actor.user_id is None:
        raise ValidationError("e-mail goes to signed-in accounts", column="email")
    address = email.strip()
    if address and (_EMAIL.match(address) is None or len(address) > 254):
        raise ValidationError(
            f"{address!r} is not an e-mail address", column="email", expected="name@example.org"
        )
    with write_transaction(session):
        row = session.get(VoiceEmail, actor.user_id)
        if not address:
            if row is not None:
                session.delete(row)
            audit_step_account(session, actor, now, "email removed")
            return None
        if row is None:
            row = VoiceEmail(user_id=actor.user_id, email=address, added_at=now)
            session.add(row)
        row.email, row.added_at = address, now
        audit_step_account(session, actor, now, "email set")
    return row


def audit_step_account(session: Session, actor: Actor, now: datetime, detail: str) -> None:
    audit(session, actor, now, "update", "voice_email", actor.user_id or "", detail)


def email_of(session: Session, user_id: str | None) -> str | None:
    row = session.get(VoiceEmail, user_id) if user_id else None
    return row.email if row else None
