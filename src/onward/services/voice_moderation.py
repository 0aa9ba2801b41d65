"""Voice moderation: reports on ideas and comments, and the moderators' review (docs/voice.md,
"Moderation").

Anyone taking part may report an idea or a comment, once; the third report pending review hides it from
everyone but its author and the moderators. A moderator restores it (reports dismissed) or keeps it hidden
(reports upheld), with a reason; every automatic hide and every review is a line of the moderation log.
Every write is one transaction with its audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onward.errors import ConflictError, NotFoundError, ValidationError
from onward.model.voice import COMMENT_MAX, HIDE_AFTER_REPORTS, clean_text
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.services.voice_ideas import audit, new_id
from onward.store.tables_voice import VoiceComment, VoiceIdea, VoiceModeration, VoiceReport

_NOT_FOUND = "there is no idea here that you may see"


def _target(session: Session, kind: str, target_id: str) -> VoiceIdea | VoiceComment:
    row: VoiceIdea | VoiceComment | None = (
        session.get(VoiceIdea, target_id)
        if kind == "idea"
        else session.get(VoiceComment, target_id)
        if kind == "comment"
        else None
    )
    if row is None:
        raise NotFoundError(_NOT_FOUND)
    return row


def report(*, session: Session, actor: Actor, kind: str, target_id: str, reason: str, now: datetime) -> bool:
    """Report an idea or a comment (once per account); the third pending report hides it. Returns whether
    it is hidden now."""
    require_permission(actor, Permission.VOICE)
    why = clean_text(reason, field="reason", maximum=COMMENT_MAX)
    with write_transaction(session):
        target = _target(session, kind, target_id)
        if target.hidden:
            return True
        session.add(
            VoiceReport(
                report_id=new_id(),
                target_kind=kind,
                target_id=target_id,
                user_id=actor.user_id,
                reason=why,
                at=now,
                status="pending",
            )
        )
        try:
            session.flush()
        except IntegrityError:
            raise ConflictError("you have already reported this") from None
        pending = (
            session.scalar(
                select(func.count())
                .select_from(VoiceReport)
                .where(
                    VoiceReport.target_kind == kind,
                    VoiceReport.target_id == target_id,
                    VoiceReport.status == "pending",
                )
            )
            or 0
        )
        if pending >= HIDE_AFTER_REPORTS:
            target.hidden = True
            session.add(
                VoiceModeration(
                    at=now,
                    moderator_user_id=None,
                    action="auto_hide",
                    target_kind=kind,
                    target_id=target_id,
                    reason=f"{pending} reports pending review",
                )
            )
        audit(session, actor, now, "report", f"voice_{kind}", target_id, why[:200])
    return bool(target.hidden)


@dataclass(frozen=True, slots=True)
class Reported:
    kind: str
    target_id: str
    title: str
    hidden: bool
    reports: list[VoiceReport]
    author_user_id: str | None


def reported(session: Session) -> list[Reported]:
    """Everything with reports pending review, for moderators."""
    pending = list(
        session.scalars(select(VoiceReport).where(VoiceReport.status == "pending").order_by(VoiceReport.at))
    )
    grouped: dict[tuple[str, str], list[VoiceReport]] = {}
    for row in pending:
        grouped.setdefault((row.target_kind, row.target_id), []).append(row)
    out = []
    for (kind, target_id), rows in grouped.items():
        target = _target(session, kind, target_id)
        title = target.title if isinstance(target, VoiceIdea) else target.body[:80]
        out.append(
            Reported(
                kind,
                target_id,
                title,
                bool(target.hidden),
                rows,
                target.author_user_id if isinstance(target, VoiceIdea) else target.user_id,
            )
        )
    return out


def moderate(
    *, session: Session, actor: Actor, kind: str, target_id: str, action: str, reason: str, now: datetime
) -> None:
    """A moderator keeps an item hidden (`hide`: reports upheld) or shows it again (`restore`: reports
    dismissed); either way the pending reports are closed and the step goes into the moderation log."""
    require_permission(actor, Permission.VOICE_MODERATE)
    if action not in ("hide", "restore"):
        raise ValidationError(
            f"unknown moderation action {action!r}", column="action", expected="hide, restore"
        )
    why = clean_text(reason, field="reason", maximum=COMMENT_MAX)
    with write_transaction(session):
        target = _target(session, kind, target_id)
        target.hidden = action == "hide"
        for row in session.scalars(
            select(VoiceReport).where(
                VoiceReport.target_kind == kind,
                VoiceReport.target_id == target_id,
                VoiceReport.status == "pending",
            )
        ):
            row.status = "upheld" if action == "hide" else "dismissed"
        session.add(
            VoiceModeration(
                at=now,
                moderator_user_id=actor.user_id,
                action=action,
                target_kind=kind,
                target_id=target_id,
                reason=why,
            )
        )
        audit(session, actor, now, action, f"voice_{kind}", target_id, why[:200])


def moderation_log(session: Session, limit: int = 200) -> list[VoiceModeration]:
    return list(
        session.scalars(select(VoiceModeration).order_by(VoiceModeration.entry_id.desc()).limit(limit))
    )
