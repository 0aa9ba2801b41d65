"""A clinician's caseload with its flags: the open episodes they are assigned to, most urgent first.

Flags are the pure rules of `onward.model.flags` (docs/flags.md) over each episode's rows, read in a few
indexed queries whatever the caseload's size and remembered per episode until those rows change
(`onward.services.episode_summaries`); the Ibis engine of `onward.metrics.flags` gives the same answers
for the whole county (a test holds them together). Reading the caseload is audited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from onward.model.flags import FLAG_NAMES, Flag, FlagRules
from onward.model.pathways import Stage, episode_stage, weeks_in_care
from onward.security.access import Actor, assigned_episodes
from onward.security.audit import AuditEvent
from onward.security.policy import Permission
from onward.services._guard import require_permission
from onward.services.care_day import care_day
from onward.services.episode_rows import Scores
from onward.services.episode_summaries import summaries
from onward.store.tables import Episode, Program

RecordAudit = Callable[[AuditEvent], object]
_RANK = {name: i for i, name in enumerate(FLAG_NAMES)}


@dataclass(frozen=True, slots=True)
class CaseloadLine:
    episode_id: str
    person_id: str
    program_id: str
    program_name: str
    start_date: date
    planned_exit: date | None
    weeks: int
    stage: Stage
    is_sud: bool
    flags: tuple[Flag, ...]
    scores: tuple[Scores, ...]

    @property
    def urgency(self) -> tuple[int, date, int]:
        """Sort key: the most urgent flag (risk first), the longest-standing, then the longest in care."""
        if not self.flags:
            return (len(FLAG_NAMES), date.max, -self.weeks)
        top = self.flags[0]
        return (_RANK[top.flag], top.since, -self.weeks)


@dataclass(frozen=True, slots=True)
class Caseload:
    as_of: date
    lines: list[CaseloadLine]
    counts: dict[str, int] = field(default_factory=dict)  # flag -> episodes with it, before filters
    programs: list[tuple[str, str]] = field(default_factory=list)  # (id, name) of the caseload's programs


def _open_at(day: date) -> ColumnElement[bool]:
    return and_(Episode.start_date <= day, or_(Episode.end_date.is_(None), Episode.end_date > day))


def caseload(
    *,
    session: Session,
    actor: Actor,
    now: datetime,
    rules: FlagRules,
    audit: RecordAudit,
    flag: str | None = None,
    program_id: str | None = None,
    stage: str | None = None,
) -> Caseload:
    """The open episodes assigned to the actor's staff record (primary clinician or care team) on the
    care day, each with its flags, weeks in care, latest scores and planned exit; most urgent first.
    `flag` ("none" for episodes without flags), `program_id` and `stage` filter the lines shown."""
    require_permission(actor, Permission.CASELOAD)
    day = care_day(session, now)
    if actor.staff_id is None:
        session.commit()
        return Caseload(day, [])
    on = datetime.combine(day, time.min, tzinfo=UTC)
    # Plain columns, not ORM objects: a caseload is read on every visit and needs no identity map.
    found = session.execute(
        select(
            Episode.episode_id,
            Episode.person_id,
            Episode.program_id,
            Episode.start_date,
            Episode.planned_end_date,
            Episode.end_date,
            Episode.is_sud,
            Program.name,
        )
        .join(Program, Program.program_id == Episode.program_id)
        .where(assigned_episodes(actor.staff_id, on), _open_at(day))
    ).all()
    summary = summaries(session, found, day=day, rules=rules)
    session.commit()
    lines = []
    for episode in found:
        program_name = episode.name
        facts = summary[episode.episode_id]
        lines.append(
            CaseloadLine(
                episode_id=episode.episode_id,
                person_id=episode.person_id,
                program_id=episode.program_id,
                program_name=program_name,
                start_date=episode.start_date,
                planned_exit=episode.planned_end_date,
                weeks=weeks_in_care(episode.start_date, day),
                stage=episode_stage(end_date=episode.end_date, as_of=day, stepping_down=facts.stepping_down),
                is_sud=episode.is_sud,
                flags=facts.flags,
                scores=facts.scores,
            )
        )
    lines.sort(key=lambda line: (line.urgency, line.episode_id))
    flagged = Counter(name for line in lines for name in {f.flag for f in line.flags})
    counts = {name: flagged[name] for name in FLAG_NAMES}
    counts["none"] = sum(1 for line in lines if not line.flags)
    programs = sorted({(line.program_id, line.program_name) for line in lines}, key=lambda p: p[1])
    shown = [
        line
        for line in lines
        if (not flag or (flag == "none" and not line.flags) or any(f.flag == flag for f in line.flags))
        and (not program_id or line.program_id == program_id)
        and (not stage or line.stage.value == stage)
    ]
    audit(
        AuditEvent(
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            action="read",
            entity="caseload",
            entity_id=actor.staff_id,
            person_id=None,
            detail=f"{len(lines)} assigned open episodes as of {day}; {len(shown)} shown",
            request_id=actor.request_id,
        )
    )
    return Caseload(day, shown, counts, programs)
