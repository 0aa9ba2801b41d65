"""Local review of lessons: a site drafts its own version, a curriculum lead approves it, and only then
is it the version taught (docs/skills.md, "Local review").

A draft is checked as a shipped lesson is (minutes, steps, taught words) and by the readability check of
its band when it is saved; a draft that fails the readability check cannot be approved. The curriculum
lead who approves must not be the draft's author (a second pair of eyes). Every draft and decision is
one transaction with its audit entry, so the audit log says who approved what, and when.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from onward.model.curricula import load_curricula
from onward.model.skills import Lesson
from onward.model.skills_readability import Readability, check
from onward.model.skills_versions import DiffLine, apply_content, form_content, lesson_content, lesson_diff
from onward.security.access import Actor
from onward.security.audit import append_audit
from onward.security.policy import Permission
from onward.services._guard import write_transaction
from onward.store.tables_skills import LessonVersion

DRAFT, APPROVED, REJECTED, SUPERSEDED = "draft", "approved", "rejected", "superseded"


def _may_edit(actor: Actor) -> None:
    if not (actor.may(Permission.SKILLS_DELIVERY) or actor.may(Permission.CURRICULUM_LEAD)):
        raise PermissionDeniedError(f"your role ({actor.role}) may not edit lessons (skills_delivery)")


def _approved(session: Session, lesson_id: str) -> LessonVersion | None:
    return session.scalar(
        select(LessonVersion)
        .where(LessonVersion.lesson_id == lesson_id, LessonVersion.status == APPROVED)
        .order_by(LessonVersion.number.desc())
        .limit(1)
    )


def _as_lesson(shipped: Lesson, row: LessonVersion) -> Lesson:
    return apply_content(load_curricula(), shipped, json.loads(row.content))


def lesson_in_use(session: Session, lesson_id: str) -> tuple[Lesson, int]:
    """The lesson as this site teaches it, and its version: the newest approved one, else the shipped
    lesson (version 0)."""
    shipped = load_curricula().lesson(lesson_id)
    row = _approved(session, lesson_id)
    if row is None:
        return shipped, 0
    return _as_lesson(shipped, row), row.number


def lesson_version(session: Session, lesson_id: str, number: int) -> Lesson:
    """Any version of a lesson by number (0 is the shipped one)."""
    shipped = load_curricula().lesson(lesson_id)
    if number == 0:
        return shipped
    row = session.scalar(
        select(LessonVersion).where(LessonVersion.lesson_id == lesson_id, LessonVersion.number == number)
    )
    if row is None:
        raise NotFoundError(f"lesson {lesson_id} has no version {number}")
    return _as_lesson(shipped, row)


def readability_json(result: Readability) -> str:
    return json.dumps(
        {
            "band": result.band,
            "words": result.words,
            "flesch_kincaid": result.flesch_kincaid,
            "unfamiliar_share": result.unfamiliar_share,
            "sentence_words": result.sentence_words,
            "problems": list(result.problems),
        }
    )


def save_draft(
    *,
    session: Session,
    actor: Actor,
    lesson_id: str,
    form: dict[str, str],
    note: str | None,
    now: datetime,
) -> LessonVersion:
    """A site's edit of a lesson, from the edit form, based on the version in use; checked, measured for
    readability and stored as a draft awaiting a curriculum lead."""
    _may_edit(actor)
    base, base_number = lesson_in_use(session, lesson_id)
    content: dict[str, Any] = form_content(form)
    edited = apply_content(load_curricula(), base, content)
    if edited == base:
        raise ValidationError("nothing was changed", column="text")
    readability = check(edited)  # slow part (textstat) before the write lock
    with write_transaction(session):
        number = (
            session.scalar(select(func.max(LessonVersion.number)).where(LessonVersion.lesson_id == lesson_id))
            or 0
        ) + 1
        row = LessonVersion(
            version_id=uuid.uuid4().hex[:16],
            lesson_id=lesson_id,
            number=number,
            based_on=base_number,
            content=json.dumps(lesson_content(edited), ensure_ascii=False),
            note=(note or "").strip() or None,
            status=DRAFT,
            readability=readability_json(readability),
            edited_by=actor.user_id,
            edited_at=now,
        )
        session.add(row)
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="draft",
            entity="lesson_version",
            entity_id=row.version_id,
            person_id=None,
            detail=f"{lesson_id} version {number} (from version {base_number}); "
            + (
                "readability passed"
                if readability.passed
                else "readability failed: " + "; ".join(readability.problems)
            ),
        )
    return row


def decide(
    *,
    session: Session,
    actor: Actor,
    version_id: str,
    approve: bool,
    note: str | None,
    now: datetime,
) -> LessonVersion:
    """A curriculum lead approves a draft (it becomes the version taught) or sends it back."""
    if not actor.may(Permission.CURRICULUM_LEAD):
        raise PermissionDeniedError(f"your role ({actor.role}) may not approve lessons (curriculum_lead)")
    with write_transaction(session):
        row = session.get(LessonVersion, version_id, populate_existing=True)
        if row is None:
            raise NotFoundError(f"no lesson version {version_id}")
        if row.status != DRAFT:
            raise ConflictError(f"version {row.number} of {row.lesson_id} is already {row.status}")
        if row.edited_by is not None and row.edited_by == actor.user_id:
            raise PermissionDeniedError("a draft is approved by someone other than its author")
        problems = json.loads(row.readability)["problems"]
        if approve and problems:
            raise ConflictError(
                "the readability check fails (" + "; ".join(problems) + "): edit the lesson again"
            )
        if approve:
            previous = _approved(session, row.lesson_id)
            if previous is not None:
                previous.status = SUPERSEDED
        row.status = APPROVED if approve else REJECTED
        row.decided_by, row.decided_at = actor.user_id, now
        row.decision_note = (note or "").strip() or None
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="approve" if approve else "reject",
            entity="lesson_version",
            entity_id=row.version_id,
            person_id=None,
            detail=f"{row.lesson_id} version {row.number} (from version {row.based_on})"
            + (f": {row.decision_note}" if row.decision_note else ""),
        )
    return row


@dataclass(frozen=True, slots=True)
class VersionView:
    """A version beside the one it was edited from: what a reviewer reads before deciding."""

    row: LessonVersion
    before: Lesson
    after: Lesson
    diff: list[DiffLine]
    readability: dict[str, Any]


def view_version(session: Session, version_id: str) -> VersionView:
    row = session.get(LessonVersion, version_id)
    if row is None:
        raise NotFoundError(f"no lesson version {version_id}")
    before = lesson_version(session, row.lesson_id, row.based_on)
    after = _as_lesson(load_curricula().lesson(row.lesson_id), row)
    return VersionView(row, before, after, lesson_diff(before, after), json.loads(row.readability))


def versions(
    session: Session, *, lesson_id: str | None = None, status: str | None = None
) -> list[LessonVersion]:
    query = select(LessonVersion).order_by(LessonVersion.edited_at.desc())
    if lesson_id is not None:
        query = query.where(LessonVersion.lesson_id == lesson_id)
    if status is not None:
        query = query.where(LessonVersion.status == status)
    return list(session.scalars(query))
