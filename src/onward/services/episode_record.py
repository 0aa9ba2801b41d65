"""One episode as its clinicians see it, and a person's own progress: read, checked and audited.

The episode page shows the score trend, services, planned exit and its extensions, the graduation
criteria and their history, the stage history, the links sent and the flags. A person's own page
shows each of their episodes' scores and plan in plain words. Both read through the access policy
(`require_episode`, `require_person`) and write one audit entry per read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.model.flags import Flag, FlagRules
from onward.model.pathways import FAST_REENTRY_AFTER, Stage, episode_stage, weeks_in_care
from onward.security.access import Actor, Basis, require_episode, require_person, visible_episodes
from onward.security.audit import AuditEvent
from onward.security.policy import Permission
from onward.services._guard import require_permission
from onward.services.care_day import care_day
from onward.services.episode_rows import (
    Scores,
    episode_rows,
    flags_of,
    measurements_of,
    rows_of_one,
    score_series,
)
from onward.services.selfreport import LinkLine, episode_links
from onward.store.tables import Episode, Program, Referral, Service, Staff
from onward.store.tables_pathways import ExitExtension, GraduationCriteria, ReferralPathway, StageChange

RecordAudit = Callable[[AuditEvent], object]


@dataclass(frozen=True, slots=True)
class ServiceLine:
    service_date: date
    code: str
    category: str
    minutes: int
    staff_id: str | None


@dataclass(frozen=True, slots=True)
class EpisodeRecord:
    episode: Episode
    program: Program
    basis: Basis
    as_of: date
    stage: Stage
    weeks: int
    flags: list[Flag]
    scores: tuple[Scores, ...]
    services: list[ServiceLine]
    criteria: list[GraduationCriteria]  # newest first; the first one is in force unless replaced
    extensions: list[ExitExtension]
    stages: list[StageChange]
    links: list[LinkLine]
    reentries: list[Referral]  # fast re-entry referrals made after this episode
    primary_staff: Staff | None

    @property
    def open(self) -> bool:
        return self.stage is not Stage.ENDED

    @property
    def may_refer_back(self) -> bool:
        return not self.open and self.episode.end_reason in {r.value for r in FAST_REENTRY_AFTER}


def _audit(
    audit: RecordAudit, actor: Actor, now: datetime, entity: str, entity_id: str, person_id: str, detail: str
) -> None:
    audit(
        AuditEvent(
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            action="read",
            entity=entity,
            entity_id=entity_id,
            person_id=person_id,
            detail=detail,
            request_id=actor.request_id,
        )
    )


def read_episode(
    *, session: Session, actor: Actor, episode_id: str, now: datetime, rules: FlagRules, audit: RecordAudit
) -> EpisodeRecord:
    """The episode page's record; NotFoundError for an episode the actor may not see."""
    episode, basis = require_episode(session, actor, episode_id, now)
    day = care_day(session, now)
    # The program and the primary clinician in one statement (the foreign key guarantees the program).
    program, staff = session.execute(
        select(Program, Staff)
        .outerjoin(Staff, Staff.staff_id == episode.primary_staff_id)
        .where(Program.program_id == episode.program_id)
    ).one()
    services = [
        ServiceLine(*row)
        for row in session.execute(
            select(Service.service_date, Service.code, Service.category, Service.minutes, Service.staff_id)
            .where(Service.episode_id == episode_id)
            .order_by(Service.service_date, Service.service_id)
        )
    ]
    criteria = list(
        session.scalars(
            select(GraduationCriteria)
            .where(GraduationCriteria.episode_id == episode_id)
            .order_by(GraduationCriteria.written_at.desc())
        )
    )
    extensions = list(
        session.scalars(
            select(ExitExtension)
            .where(ExitExtension.episode_id == episode_id)
            .order_by(ExitExtension.extended_at)
        )
    )
    stages = list(
        session.scalars(
            select(StageChange).where(StageChange.episode_id == episode_id).order_by(StageChange.change_id)
        )
    )
    rows = rows_of_one(
        episode_id,
        measurements_of(session, [episode_id], day).get(episode_id, []),
        [(s.service_date, s.category) for s in services],
        [(s.change_id, s.stage) for s in stages],
        day,
    )
    reentries = list(
        session.scalars(
            select(Referral)
            .join(ReferralPathway, ReferralPathway.referral_id == Referral.referral_id)
            .where(ReferralPathway.fast_reentry_of == episode_id)
            .order_by(Referral.referral_date)
        )
    )
    links = episode_links(session, episode_id, now)
    session.commit()
    flags = flags_of(episode, rows, as_of=day, rules=rules)
    _audit(audit, actor, now, "episode", episode_id, episode.person_id, f"episode page; basis: {basis.value}")
    return EpisodeRecord(
        episode=episode,
        program=program,
        basis=basis,
        as_of=day,
        stage=episode_stage(
            end_date=episode.end_date, as_of=day, stepping_down=episode_id in rows.stepping_down
        ),
        weeks=weeks_in_care(episode.start_date, min(day, episode.end_date or day)),
        flags=flags,
        scores=score_series(rows.measurements.get(episode_id, [])),
        services=services,
        criteria=criteria,
        extensions=extensions,
        stages=stages,
        links=links,
        reentries=reentries,
        primary_staff=staff,
    )


@dataclass(frozen=True, slots=True)
class MyEpisode:
    """One episode as its person sees it."""

    episode_id: str
    program_name: str
    program_kind: str
    start_date: date
    planned_exit: date | None
    end_date: date | None
    end_reason: str | None
    stage: Stage
    weeks: int
    scores: tuple[Scores, ...]
    criteria: str | None


@dataclass(frozen=True, slots=True)
class MyProgress:
    person_id: str
    as_of: date
    episodes: list[MyEpisode]  # open ones first, then newest first

    @property
    def current(self) -> MyEpisode | None:
        """The open episode, else the most recent one (its chart and how it ended still matter)."""
        return next((e for e in self.episodes if e.stage is not Stage.ENDED), None) or (
            self.episodes[0] if self.episodes else None
        )

    @property
    def graduated(self) -> MyEpisode | None:
        return next((e for e in self.episodes if e.end_reason in {r.value for r in FAST_REENTRY_AFTER}), None)


def my_progress(*, session: Session, actor: Actor, now: datetime, audit: RecordAudit) -> MyProgress:
    """The signed-in person's own episodes with their scores and plans (their own record only)."""
    require_permission(actor, Permission.OWN_RECORD)
    if actor.person_id is None:
        raise LookupError("this account is not linked to a person")
    _, basis = require_person(session, actor, actor.person_id, now)
    day = care_day(session, now)
    found = session.execute(
        select(Episode, Program.name, Program.kind)
        .join(Program, Program.program_id == Episode.program_id)
        .where(Episode.person_id == actor.person_id, visible_episodes(actor, basis, now))
        .order_by(Episode.start_date.desc(), Episode.episode_id)
    ).all()
    ids = [e.episode_id for e, _, _ in found]
    rows = episode_rows(session, ids, day)
    criteria = {
        c.episode_id: c.text
        for c in session.scalars(
            select(GraduationCriteria).where(
                GraduationCriteria.episode_id.in_(ids), GraduationCriteria.replaced_at.is_(None)
            )
        )
    }
    session.commit()
    episodes = [
        MyEpisode(
            episode_id=e.episode_id,
            program_name=name,
            program_kind=kind,
            start_date=e.start_date,
            planned_exit=e.planned_end_date,
            end_date=e.end_date,
            end_reason=e.end_reason,
            stage=episode_stage(
                end_date=e.end_date, as_of=day, stepping_down=e.episode_id in rows.stepping_down
            ),
            weeks=weeks_in_care(e.start_date, min(day, e.end_date or day)),
            scores=score_series(rows.measurements.get(e.episode_id, [])),
            criteria=criteria.get(e.episode_id),
        )
        for e, name, kind in found
        if e.start_date <= day
    ]
    episodes.sort(key=lambda e: (e.stage is Stage.ENDED, -e.start_date.toordinal()))
    _audit(
        audit,
        actor,
        now,
        "person",
        actor.person_id,
        actor.person_id,
        f"own record: progress page, {len(episodes)} episode(s)",
    )
    return MyProgress(actor.person_id, day, episodes)
