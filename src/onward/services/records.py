"""Reading a person's record: checked against the access policy and audited, whoever asks.

Reads are audited through a callable the caller supplies (the web app's never-failing audit writer,
or a direct append for the command line), so this module stays free of web concerns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.security.access import Actor, Basis, require_person, visible_episodes
from onward.security.audit import AuditEvent
from onward.store.tables import Episode, Measurement, Program, Service

RecordAudit = Callable[[AuditEvent], object]


@dataclass(frozen=True, slots=True)
class EpisodeLine:
    episode_id: str
    program_id: str
    program_name: str
    start_date: date
    planned_end_date: date | None
    end_date: date | None
    end_reason: str | None
    is_sud: bool
    services: int
    latest_instrument: str | None
    latest_score: int | None
    latest_measured_on: date | None


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """What the actor may see of one person, and on what basis."""

    person_id: str
    birth_year: int
    sex: str
    basis: Basis
    episodes: list[EpisodeLine]
    """Only the episodes this actor may see: not even the number of the others is shown, since that a
    person is in a Part 2 program is itself a Part 2 record."""


def read_person(
    *, session: Session, actor: Actor, person_id: str, now: datetime, audit: RecordAudit, purpose: str
) -> PersonRecord:
    """The person's record as `actor` may see it; NotFoundError when they may not see it at all."""
    person, basis = require_person(session, actor, person_id, now)
    rows = session.execute(
        select(Episode, Program.name)
        .join(Program, Program.program_id == Episode.program_id)
        .where(Episode.person_id == person_id, visible_episodes(actor, basis, now))
        .order_by(Episode.start_date.desc(), Episode.episode_id)
    ).all()
    ids = [e.episode_id for e, _ in rows]
    services = dict(
        session.execute(
            select(Service.episode_id, func.count())
            .where(Service.episode_id.in_(ids))
            .group_by(Service.episode_id)
        ).all()
    )
    latest: dict[str, tuple[str, int, date]] = {}
    for episode_id, instrument, score, measured_on in session.execute(
        select(Measurement.episode_id, Measurement.instrument, Measurement.score, Measurement.measured_on)
        .where(Measurement.episode_id.in_(ids))
        .order_by(Measurement.episode_id, Measurement.measured_on, Measurement.measurement_id)
    ):
        latest[str(episode_id)] = (instrument, score, measured_on)
    session.commit()
    audit(
        AuditEvent(
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            action="read",
            entity="person",
            entity_id=person_id,
            person_id=person_id,
            detail=f"{purpose}; basis: {basis.value}; {len(rows)} episode(s)",
            request_id=actor.request_id,
        )
    )
    return PersonRecord(
        person_id=person.person_id,
        birth_year=person.birth_year,
        sex=person.sex,
        basis=basis,
        episodes=[
            EpisodeLine(
                episode_id=e.episode_id,
                program_id=e.program_id,
                program_name=name,
                start_date=e.start_date,
                planned_end_date=e.planned_end_date,
                end_date=e.end_date,
                end_reason=e.end_reason,
                is_sud=e.is_sud,
                services=int(services.get(e.episode_id, 0)),
                latest_instrument=latest[e.episode_id][0] if e.episode_id in latest else None,
                latest_score=latest[e.episode_id][1] if e.episode_id in latest else None,
                latest_measured_on=latest[e.episode_id][2] if e.episode_id in latest else None,
            )
            for e, name in rows
        ],
    )
