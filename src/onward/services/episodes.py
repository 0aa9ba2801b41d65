"""Changes to an open episode: step down, resume, end (graduate, or any other end reason), extend the
planned exit with a reason, rewrite the graduation criteria with a reason.

Each is one transaction, allowed only to someone who may see the episode (`require_episode`: its own
clinicians, its program's manager, break-glass) and holds `record_care`, and each is audited. The
stage rules are `onward.model.pathways`; docs/pathways.md explains them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import NotFoundError, ValidationError
from onward.model.eventlog import EndReason
from onward.model.pathways import (
    MIN_CRITERIA_CHARS,
    Stage,
    check_end,
    check_extension,
    episode_stage,
    require_reason,
    require_transition,
)
from onward.security.access import Actor, require_episode
from onward.security.audit import append_audit
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.services.care_day import care_day, record_id
from onward.store.tables import Episode
from onward.store.tables_pathways import ExitExtension, GraduationCriteria, StageChange

_NOT_FOUND = "there is no record here that you may see"


def is_stepping_down(session: Session, episode_id: str) -> bool:
    """True when the latest recorded stage of the episode is `stepping_down`."""
    latest = session.scalar(
        select(StageChange.stage)
        .where(StageChange.episode_id == episode_id, StageChange.stage != Stage.ENDED.value)
        .order_by(StageChange.change_id.desc())
        .limit(1)
    )
    return latest == Stage.STEPPING_DOWN.value


def stage_of(session: Session, episode: Episode, day: date) -> Stage:
    return episode_stage(
        end_date=episode.end_date, as_of=day, stepping_down=is_stepping_down(session, episode.episode_id)
    )


def current_criteria(session: Session, episode_id: str) -> GraduationCriteria | None:
    """The episode's graduation criteria in force (None for an imported episode that has none yet)."""
    return session.scalar(
        select(GraduationCriteria)
        .where(GraduationCriteria.episode_id == episode_id, GraduationCriteria.replaced_at.is_(None))
        .limit(1)
    )


def _checked(session: Session, actor: Actor, episode_id: str, now: datetime) -> tuple[Episode, date]:
    require_permission(actor, Permission.RECORD_CARE)
    episode, _ = require_episode(session, actor, episode_id, now)
    day = care_day(session, now)
    session.commit()
    return episode, day


def _reload(session: Session, episode_id: str) -> Episode:
    episode = session.get(Episode, episode_id, populate_existing=True)
    if episode is None:
        raise NotFoundError(_NOT_FOUND)
    return episode


def _move(
    session: Session,
    actor: Actor,
    episode: Episode,
    *,
    stage: Stage,
    day: date,
    reason: str | None,
    now: datetime,
    end_reason: str | None = None,
) -> None:
    session.add(
        StageChange(
            person_id=episode.person_id,
            referral_id=episode.referral_id,
            episode_id=episode.episode_id,
            stage=stage.value,
            end_reason=end_reason,
            changed_on=day,
            reason=reason,
            changed_by=actor.user_id,
            changed_at=now,
        )
    )


def _audit(session: Session, actor: Actor, now: datetime, action: str, episode: Episode, detail: str) -> None:
    append_audit(
        session=session,
        at=now,
        user_id=actor.user_id,
        role=actor.role,
        request_id=actor.request_id,
        action=action,
        entity="episode",
        entity_id=episode.episode_id,
        person_id=episode.person_id,
        detail=detail,
    )


def step_down(*, session: Session, actor: Actor, episode_id: str, note: str, now: datetime) -> Episode:
    """Active → stepping down: the episode winds down towards its planned exit (a reason is kept)."""
    return _change_stage(session, actor, episode_id, Stage.STEPPING_DOWN, note, now, "step_down")


def resume(*, session: Session, actor: Actor, episode_id: str, note: str, now: datetime) -> Episode:
    """Stepping down → active again, with the reason (a setback, a new need)."""
    return _change_stage(session, actor, episode_id, Stage.ACTIVE, note, now, "resume")


def _change_stage(
    session: Session, actor: Actor, episode_id: str, stage: Stage, note: str, now: datetime, action: str
) -> Episode:
    _checked(session, actor, episode_id, now)
    text = require_reason(note, field="note")
    with write_transaction(session):
        episode = _reload(session, episode_id)
        day = care_day(session, now)
        require_transition(stage_of(session, episode, day), stage)
        _move(session, actor, episode, stage=stage, day=day, reason=text, now=now)
        _audit(session, actor, now, action, episode, f"{stage.value}: {text}")
    return episode


def end_episode(
    *,
    session: Session,
    actor: Actor,
    episode_id: str,
    end_reason: EndReason | str,
    note: str | None = None,
    on: date | None = None,
    now: datetime,
) -> Episode:
    """End an open episode (from active or stepping down) for one of the event log's end reasons."""
    episode, day = _checked(session, actor, episode_id, now)
    end_day = on or day
    why = check_end(start=episode.start_date, on=end_day, today=now.date(), reason=end_reason)
    text = (note or "").strip() or None
    if why is not EndReason.GRADUATED and why is not EndReason.DIED:
        text = require_reason(note, field="note")
    with write_transaction(session):
        episode = _reload(session, episode_id)
        require_transition(stage_of(session, episode, end_day), Stage.ENDED)
        episode.end_date = end_day
        episode.end_reason = why.value
        _move(
            session,
            actor,
            episode,
            stage=Stage.ENDED,
            day=end_day,
            reason=text,
            now=now,
            end_reason=why.value,
        )
        _audit(
            session,
            actor,
            now,
            "end",
            episode,
            f"ended {end_day} as {why.value}" + (f": {text}" if text else ""),
        )
    return episode


def graduate(
    *, session: Session, actor: Actor, episode_id: str, note: str | None = None, now: datetime
) -> Episode:
    """End the episode as graduated, today (the care day)."""
    return end_episode(
        session=session,
        actor=actor,
        episode_id=episode_id,
        end_reason=EndReason.GRADUATED,
        note=note,
        now=now,
    )


def extend_exit(
    *, session: Session, actor: Actor, episode_id: str, new_exit: date, reason: str, now: datetime
) -> ExitExtension:
    """Move the planned exit later, with a reason; the extension is kept with the old and new dates."""
    episode, day = _checked(session, actor, episode_id, now)
    text = check_extension(current=episode.planned_end_date, new=new_exit, today=day, reason=reason)
    with write_transaction(session):
        episode = _reload(session, episode_id)
        if stage_of(session, episode, day) is Stage.ENDED:
            raise ValidationError(
                "the episode has ended; its planned exit cannot move", column="planned_exit"
            )
        extension = ExitExtension(
            extension_id=record_id(),
            episode_id=episode_id,
            previous_exit=episode.planned_end_date,
            new_exit=new_exit,
            reason=text,
            extended_by=actor.user_id,
            extended_at=now,
        )
        session.add(extension)
        episode.planned_end_date = new_exit
        _audit(
            session,
            actor,
            now,
            "extend_exit",
            episode,
            f"planned exit {extension.previous_exit} → {new_exit}: {text}",
        )
    return extension


def edit_criteria(
    *, session: Session, actor: Actor, episode_id: str, text: str, reason: str, now: datetime
) -> GraduationCriteria:
    """New written graduation criteria, with the reason; the previous version is kept, marked replaced."""
    _checked(session, actor, episode_id, now)
    body = (text or "").strip()
    if len(body) < MIN_CRITERIA_CHARS:
        raise ValidationError(
            "written graduation criteria are required",
            column="criteria",
            expected=f"at least {MIN_CRITERIA_CHARS} characters",
        )
    why = require_reason(reason, field="criteria_reason")
    with write_transaction(session):
        episode = _reload(session, episode_id)
        previous = current_criteria(session, episode_id)
        if previous is not None:
            if " ".join(previous.text.split()) == " ".join(body.split()):
                raise ValidationError("the criteria are unchanged", column="criteria")
            previous.replaced_at = now
        criteria = GraduationCriteria(
            criteria_id=record_id(),
            episode_id=episode_id,
            text=body,
            basis="edited",
            reason=why,
            written_by=actor.user_id,
            written_at=now,
        )
        session.add(criteria)
        _audit(session, actor, now, "edit_criteria", episode, f"graduation criteria rewritten: {why}")
    return criteria
