"""Recording care on an episode: a measurement scored by its instrument's definition, and a service
coded by the service-code catalog.

A measurement is recorded from the answers given, item by item: the instrument definition
(`onward.model.instruments`) checks and scores them, and the completed form is also kept as a FHIR R4
QuestionnaireResponse (validated by `fhir.resources`), so the answers can leave Onward as they were
given. A service's category comes from its code (`onward.model.service_codes`); an unknown code is
refused, naming the field. Each write is one transaction, checked against the access policy, audited.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from onward.errors import ValidationError
from onward.interop.questionnaire_response import questionnaire_response_json
from onward.model.instruments import Score, score_answers, spec
from onward.model.service_codes import ServiceCatalog, UnknownServiceCodeError, default_catalog
from onward.security.access import Actor, require_episode
from onward.security.audit import append_audit
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.services.care_day import care_day, new_id, record_id
from onward.store.tables import Episode, Measurement, Person, Service
from onward.store.tables_pathways import QuestionnaireResponseRecord

#: One service is at most a day of someone's time (the catalog's own bound on typical minutes).
MAX_SERVICE_MINUTES = 1440


@dataclass(frozen=True, slots=True)
class RecordedMeasure:
    measurement: Measurement
    score: Score
    response_id: str


def _check_day(day: date, episode: Episode, today: date, field: str) -> None:
    if day > today:
        raise ValidationError(f"{day} is in the future", column=field)
    if day < episode.start_date:
        raise ValidationError(f"{day} is before the episode started ({episode.start_date})", column=field)
    if episode.end_date is not None and day > episode.end_date:
        raise ValidationError(f"{day} is after the episode ended ({episode.end_date})", column=field)


def score_form(instrument: str, answers: Sequence[int], sex: str | None) -> Score:
    """The instrument's score of these answers; bad answers are refused naming the item."""
    return score_answers(instrument, answers, sex=sex)


def add_measurement(
    session: Session,
    *,
    episode: Episode,
    instrument: str,
    answers: Sequence[int],
    score: Score,
    measured_on: date,
    source: str,
    now: datetime,
) -> RecordedMeasure:
    """Add the measurement and its QuestionnaireResponse inside the caller's write transaction."""
    definition = spec(instrument)
    measurement = Measurement(
        measurement_id=new_id("MEA"),
        person_id=episode.person_id,
        episode_id=episode.episode_id,
        instrument=definition.id.value,
        measured_on=measured_on,
        score=score.total,
        items=json.dumps(list(score.items)),
    )
    session.add(measurement)
    session.flush()
    response_id = record_id()
    resource = questionnaire_response_json(
        definition,
        answers,
        response_id=response_id,
        person_id=episode.person_id,
        authored=now,
        total=score.total,
    )
    session.add(
        QuestionnaireResponseRecord(
            response_id=response_id,
            person_id=episode.person_id,
            episode_id=episode.episode_id,
            measurement_id=measurement.measurement_id,
            instrument=definition.id.value,
            source=source,
            authored_at=now,
            resource=json.dumps(resource, separators=(",", ":")),
        )
    )
    return RecordedMeasure(measurement, score, response_id)


def describe(score: Score) -> str:
    flags = f"; flags {', '.join(score.flags)}" if score.flags else ""
    return f"{score.instrument} total {score.total} ({score.band}){flags}"


def record_measurement(
    *,
    session: Session,
    actor: Actor,
    episode_id: str,
    instrument: str,
    answers: Sequence[int],
    measured_on: date | None = None,
    now: datetime,
) -> RecordedMeasure:
    """Score the answers with the instrument's definition and record them on the episode."""
    require_permission(actor, Permission.RECORD_CARE)
    episode, _ = require_episode(session, actor, episode_id, now)
    person = session.get(Person, episode.person_id)
    day = measured_on or care_day(session, now)
    _check_day(day, episode, now.date(), "measured_on")
    score = score_form(instrument, answers, person.sex if person else None)
    session.commit()
    with write_transaction(session):
        episode = session.get(Episode, episode_id, populate_existing=True) or episode
        recorded = add_measurement(
            session,
            episode=episode,
            instrument=instrument,
            answers=answers,
            score=score,
            measured_on=day,
            source="clinician",
            now=now,
        )
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="create",
            entity="measurement",
            entity_id=recorded.measurement.measurement_id,
            person_id=episode.person_id,
            detail=f"episode {episode_id}: {describe(score)} on {day}",
        )
    return recorded


def record_service(
    *,
    session: Session,
    actor: Actor,
    episode_id: str,
    code: str,
    service_date: date | None = None,
    minutes: int | None = None,
    staff_id: str | None = None,
    catalog: ServiceCatalog | None = None,
    now: datetime,
) -> Service:
    """A service on the episode, its category taken from the catalog; minutes default to the code's
    typical length, the staff member to the actor's own staff record."""
    require_permission(actor, Permission.RECORD_CARE)
    episode, _ = require_episode(session, actor, episode_id, now)
    catalog = catalog or default_catalog()
    text = (code or "").strip().upper()
    try:
        entry = catalog[text]
    except UnknownServiceCodeError:
        raise ValidationError(
            f"unknown service code {code!r}",
            column="code",
            expected="a code of the service-code catalog (docs/references.md, service codes by category)",
        ) from None
    length = entry.minutes if minutes is None else minutes
    if not 1 <= length <= MAX_SERVICE_MINUTES:
        raise ValidationError(
            f"{length} minutes is out of range", column="minutes", expected=f"1..{MAX_SERVICE_MINUTES}"
        )
    day = service_date or care_day(session, now)
    _check_day(day, episode, now.date(), "service_date")
    who = staff_id or actor.staff_id
    session.commit()
    with write_transaction(session):
        service = Service(
            service_id=new_id("SVC"),
            person_id=episode.person_id,
            episode_id=episode_id,
            staff_id=who,
            service_date=day,
            code=entry.code,
            minutes=length,
            category=entry.category.value,
        )
        session.add(service)
        session.flush()
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="create",
            entity="service",
            entity_id=service.service_id,
            person_id=episode.person_id,
            detail=f"episode {episode_id}: {entry.code} ({entry.category.value}), {length} min on {day}",
        )
    return service
