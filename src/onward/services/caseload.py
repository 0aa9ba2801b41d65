"""A clinician's caseload with its flags: the open episodes they are assigned to, most urgent first.

Flags are the pure rules of `onward.model.flags` (docs/flags.md) applied to each episode's rows, read in
four indexed queries whatever the caseload's size; the Ibis engine of `onward.metrics.flags` gives the
same answers for the whole county (a test holds them together). Reading the caseload is audited.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from onward.model.flags import (
    FLAG_NAMES,
    MOOD,
    RISK_INSTRUMENTS,
    TREATMENT,
    EpisodeFacts,
    Flag,
    FlagRules,
    MeasurementFacts,
    ServiceFacts,
    episode_flags,
)
from onward.model.pathways import Stage, episode_stage, weeks_in_care
from onward.security.access import Actor, assigned_episodes
from onward.security.audit import AuditEvent
from onward.security.policy import Permission
from onward.services._guard import require_permission
from onward.services.care_day import care_day
from onward.store.tables import Episode, Measurement, Program, Service
from onward.store.tables_pathways import StageChange

RecordAudit = Callable[[AuditEvent], object]
#: Scores shown in a caseload sparkline: the latest eight of each instrument.
SPARK_POINTS = 8
_CHUNK = 500  # under SQLite's bound-parameter limit
_RANK = {name: i for i, name in enumerate(FLAG_NAMES)}


@dataclass(frozen=True, slots=True)
class Scores:
    instrument: str
    points: tuple[tuple[date, int], ...]

    @property
    def latest(self) -> tuple[date, int]:
        return self.points[-1]


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


@dataclass(frozen=True, slots=True)
class EpisodeRows:
    """What the flag rules and the charts read about a set of episodes."""

    measurements: dict[str, list[MeasurementFacts]]
    first_treatment: dict[str, date]
    stepping_down: set[str]


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def episode_rows(session: Session, ids: Sequence[str], day: date) -> EpisodeRows:
    """Measurements (item scores only for the risk instruments), first treatment and stage of episodes."""
    measured: dict[str, list[MeasurementFacts]] = defaultdict(list)
    first: dict[str, date] = {}
    stepping: dict[str, str] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(
                Measurement.episode_id,
                Measurement.measurement_id,
                Measurement.instrument,
                Measurement.measured_on,
                Measurement.score,
                Measurement.items,
            ).where(Measurement.episode_id.in_(chunk), Measurement.measured_on <= day)
        )
        for episode_id, mid, instrument, on, score, items in rows:
            parsed = tuple(json.loads(items)) if items and instrument in RISK_INSTRUMENTS else None
            measured[str(episode_id)].append(MeasurementFacts(mid, instrument, on, score, parsed))
        first.update(
            (str(e), d)
            for e, d in session.execute(
                select(Service.episode_id, func.min(Service.service_date))
                .where(
                    Service.episode_id.in_(chunk),
                    Service.category.in_(TREATMENT),
                    Service.service_date <= day,
                )
                .group_by(Service.episode_id)
            )
        )
        for episode_id, stage in session.execute(
            select(StageChange.episode_id, StageChange.stage)
            .where(StageChange.episode_id.in_(chunk), StageChange.stage != Stage.ENDED.value)
            .order_by(StageChange.change_id)
        ):
            stepping[str(episode_id)] = stage
    down = {e for e, s in stepping.items() if s == Stage.STEPPING_DOWN.value}
    return EpisodeRows(dict(measured), first, down)


def flags_of(episode: Episode, rows: EpisodeRows, *, as_of: date, rules: FlagRules) -> list[Flag]:
    """The episode's flags on `as_of`, most urgent first (`onward.model.flags`)."""
    treated = rows.first_treatment.get(episode.episode_id)
    return episode_flags(
        EpisodeFacts(
            episode.episode_id,
            episode.person_id,
            episode.start_date,
            episode.planned_end_date,
            episode.end_date,
        ),
        rows.measurements.get(episode.episode_id, []),
        [ServiceFacts(treated, TREATMENT[0])] if treated else [],
        as_of=as_of,
        rules=rules,
    )


def score_series(measurements: Iterable[MeasurementFacts], *, last: int | None = None) -> tuple[Scores, ...]:
    """PHQ-9 and GAD-7 scores of an episode in date order (the latest `last` of each when given)."""
    out = []
    for instrument in MOOD:
        points = sorted(
            (m.measured_on, m.score, m.measurement_id) for m in measurements if m.instrument == instrument
        )
        if points:
            kept = points[-last:] if last else points
            out.append(Scores(instrument, tuple((d, s) for d, s, _ in kept)))
    return tuple(out)


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
    found = session.execute(
        select(Episode, Program.name)
        .join(Program, Program.program_id == Episode.program_id)
        .where(assigned_episodes(actor.staff_id, on), _open_at(day))
    ).all()
    rows = episode_rows(session, [e.episode_id for e, _ in found], day)
    session.commit()
    lines = []
    for episode, program_name in found:
        flags = flags_of(episode, rows, as_of=day, rules=rules)
        lines.append(
            CaseloadLine(
                episode_id=episode.episode_id,
                person_id=episode.person_id,
                program_id=episode.program_id,
                program_name=program_name,
                start_date=episode.start_date,
                planned_exit=episode.planned_end_date,
                weeks=weeks_in_care(episode.start_date, day),
                stage=episode_stage(
                    end_date=episode.end_date,
                    as_of=day,
                    stepping_down=episode.episode_id in rows.stepping_down,
                ),
                is_sud=episode.is_sud,
                flags=tuple(flags),
                scores=score_series(rows.measurements.get(episode.episode_id, []), last=SPARK_POINTS),
            )
        )
    lines.sort(key=lambda line: (line.urgency, line.episode_id))
    counts = {
        name: sum(1 for line in lines if any(f.flag == name for f in line.flags)) for name in FLAG_NAMES
    }
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
