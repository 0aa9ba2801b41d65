"""Targets per metric and program: leaders set them, managers propose them for their own programs and a
leader accepts or declines; every change is kept with its reason and audited (docs/targets.md).

Reading targets needs no permission beyond seeing the figures they sit beside (the callers check that);
each write checks the policy here, whoever calls it, and is one transaction with its audit entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from onward.model.targets import (
    DEFAULT,
    DEFAULT_TARGETS,
    SET_HERE,
    Scope,
    Targets,
    TargetView,
    check_scope,
    check_value,
    target_phrase,
    targetable,
)
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.services._guard import audit_by, write_transaction
from onward.store.tables import Program
from onward.store.tables_targets import Target

PROPOSED, ACTIVE, SUPERSEDED, DECLINED, REMOVED = "proposed", "active", "superseded", "declined", "removed"
__all__ = ["DEFAULT", "SET_HERE", "Targets", "TargetView", "decide", "history", "proposals", "remove_target"]


def targets_in_force(session: Session) -> Targets:
    """Every target in force: the active row of each scope (setting one supersedes the one before, so
    there is at most one), then the public defaults for the system where none is active and a leader has
    not removed it."""
    views: list[TargetView] = []
    removed: set[Scope] = set()
    for row in session.scalars(select(Target).where(Target.status.in_((ACTIVE, REMOVED)))):
        if row.status == REMOVED:
            removed.add((row.metric_key, row.program_id))
        elif row.value is not None:
            views.append(
                TargetView(
                    row.metric_key,
                    row.program_id,
                    row.value,
                    row.margin,
                    SET_HERE,
                    row.reason,
                    row.set_by_name,
                    row.set_at,
                    row.target_id,
                )
            )
    active = {(v.metric_key, v.program_id) for v in views}
    for key, default in DEFAULT_TARGETS.items():
        if (key, None) not in active and (key, None) not in removed:
            views.append(TargetView(key, None, default.value, None, DEFAULT, default.source))
    return Targets(views)


def history(
    session: Session, metric_key: str | None = None, program_ids: Iterable[str] | None = None
) -> list[Target]:
    """Every row (set, proposed, superseded, declined, removed), newest first; optionally one metric and
    the given programs (and the system)."""
    query = select(Target).order_by(Target.set_at.desc(), Target.target_id.desc())
    if metric_key is not None:
        query = query.where(Target.metric_key == metric_key)
    if program_ids is not None:
        query = query.where(Target.program_id.in_(list(program_ids)) | Target.program_id.is_(None))
    return list(session.scalars(query))


def proposals(session: Session, program_ids: Iterable[str] | None = None) -> list[Target]:
    """Proposals waiting for a leader, oldest first (optionally of some programs only)."""
    query = select(Target).where(Target.status == PROPOSED).order_by(Target.set_at, Target.target_id)
    if program_ids is not None:
        query = query.where(Target.program_id.in_(list(program_ids)))
    return list(session.scalars(query))


def _reason(text: str | None) -> str:
    reason = (text or "").strip()
    if not reason:
        raise ValidationError("say why the target changes", column="reason")
    return reason


def _check_program(session: Session, program_id: str | None) -> None:
    if program_id is not None and session.get(Program, program_id) is None:
        raise ValidationError(f"there is no program {program_id!r}", column="program")


def _supersede(session: Session, metric_key: str, program_id: str | None) -> None:
    for row in session.scalars(
        select(Target).where(
            Target.metric_key == metric_key,
            Target.status == ACTIVE,
            Target.program_id.is_(None) if program_id is None else Target.program_id == program_id,
        )
    ):
        row.status = SUPERSEDED


def _audit(session: Session, actor: Actor, now: datetime, action: str, row: Target, detail: str) -> None:
    audit_by(session, actor, now, action, "target", row.target_id, detail)


def _scope_words(metric_key: str, program_id: str | None) -> str:
    return f"{metric_key} for {'the system' if program_id is None else 'program ' + program_id}"


def set_target(
    *,
    session: Session,
    actor: Actor,
    metric_key: str,
    program_id: str | None,
    value: float,
    margin: float | None,
    reason: str | None,
    now: datetime,
) -> Target:
    """A leader's target is in force at once; a manager's, for one of their own programs, is a proposal
    a leader accepts or declines. Anyone else is refused."""
    definition = targetable(metric_key)
    check_scope(definition, program_id)  # the numbers published on their own pages: the system only
    check_value(definition, value, margin)
    why = _reason(reason)
    if actor.may(Permission.SET_TARGETS):
        status = ACTIVE
    elif actor.may(Permission.PROPOSE_TARGETS):
        if program_id is None or program_id not in actor.program_ids:
            raise PermissionDeniedError("a manager proposes targets for their own programs only")
        status = PROPOSED
    else:
        raise PermissionDeniedError(f"your role ({actor.role}) may not set targets (set_targets)")
    with write_transaction(session):
        _check_program(session, program_id)
        if status == ACTIVE:
            _supersede(session, metric_key, program_id)
        row = Target(
            target_id=uuid.uuid4().hex[:16],
            metric_key=metric_key,
            program_id=program_id,
            value=float(value),
            margin=None if margin is None else float(margin),
            status=status,
            reason=why,
            set_by=actor.user_id,
            set_by_name=actor.username,
            set_by_role=actor.role,
            set_at=now,
        )
        session.add(row)
        action = "set" if status == ACTIVE else "propose"
        _audit(
            session,
            actor,
            now,
            action,
            row,
            f"{_scope_words(metric_key, program_id)}: {target_phrase(definition, value)}; {why}",
        )
    return row


def remove_target(
    *,
    session: Session,
    actor: Actor,
    metric_key: str,
    program_id: str | None,
    reason: str | None,
    now: datetime,
) -> Target:
    """A leader removes the target of a scope (a system default too): the figure has no target there."""
    if not actor.may(Permission.SET_TARGETS):
        raise PermissionDeniedError(f"your role ({actor.role}) may not remove targets (set_targets)")
    check_scope(targetable(metric_key), program_id)
    why = _reason(reason)
    with write_transaction(session):
        _check_program(session, program_id)
        _supersede(session, metric_key, program_id)
        row = Target(
            target_id=uuid.uuid4().hex[:16],
            metric_key=metric_key,
            program_id=program_id,
            value=None,
            margin=None,
            status=REMOVED,
            reason=why,
            set_by=actor.user_id,
            set_by_name=actor.username,
            set_by_role=actor.role,
            set_at=now,
        )
        session.add(row)
        _audit(session, actor, now, "remove", row, f"{_scope_words(metric_key, program_id)}; {why}")
    return row


def decide(
    *, session: Session, actor: Actor, target_id: str, accept: bool, note: str | None, now: datetime
) -> Target:
    """A leader accepts a manager's proposal (it is then the target in force) or declines it."""
    if not actor.may(Permission.SET_TARGETS):
        raise PermissionDeniedError(f"your role ({actor.role}) may not decide on targets (set_targets)")
    with write_transaction(session):
        row = session.get(Target, target_id, populate_existing=True)
        if row is None:
            raise NotFoundError(f"no target proposal {target_id}")
        if row.status != PROPOSED:
            raise ConflictError(f"target {target_id} is {row.status}, not a proposal")
        if accept:
            _supersede(session, row.metric_key, row.program_id)
        row.status = ACTIVE if accept else DECLINED
        row.decided_by_name, row.decided_at = actor.username, now
        row.decision_note = (note or "").strip() or None
        _audit(
            session,
            actor,
            now,
            "accept" if accept else "decline",
            row,
            f"{_scope_words(row.metric_key, row.program_id)}"
            + (f": {row.decision_note}" if row.decision_note else ""),
        )
    return row
