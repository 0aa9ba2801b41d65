"""Self-report by secure link: a clinician sends a questionnaire; the person answers it without an account.

A link is single-use and expires. Its token (256 random bits) exists only in the link itself; the
database keeps its keyed hash (`onward.security.login_sessions.token_hash`), so a copy of the database
cannot be turned into working links. Answers are scored by the instrument's definition and become a
FHIR QuestionnaireResponse and a measurement on the episode, in one transaction with the used link and
the audit entry. A positive risk item (PHQ-9 item 9, EPDS item 10) shows as the `risk` flag on the
clinician's caseload at once, since flags are read from the measurements themselves.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import NotFoundError, ValidationError
from onward.interop.instrument_texts import definitions
from onward.model.eventlog import Instrument
from onward.model.instruments import Definition, Score
from onward.security.access import Actor, require_episode
from onward.security.audit import append_audit
from onward.security.login_sessions import aware, token_hash
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.services.care_day import care_day, record_id
from onward.services.measures import add_measurement, describe, score_form
from onward.store.tables import Episode, Person
from onward.store.tables_pathways import SelfReportLink

#: Who submits through a link, in the audit log: the person, identified by the link they hold.
LINK_ROLE = "person (self-report link)"
MAX_LINK_DAYS = 30


class LinkStatus(StrEnum):
    OPEN = "open"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SentLink:
    link_id: str
    token: str  # shown once, in the link; never stored
    expires_at: datetime
    instrument: str

    @property
    def path(self) -> str:
        return f"/answer/{self.token}"


@dataclass(frozen=True, slots=True)
class LinkView:
    """What the link's page may show: its state and the questionnaire, nothing about the person."""

    status: LinkStatus
    definition: Definition | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Submitted:
    score: Score
    measurement_id: str
    response_id: str

    @property
    def risk(self) -> bool:
        return "risk" in self.score.flags


def answerable(texts_dir: Path | None) -> dict[Instrument, Definition]:
    """Instruments a person can answer by link: those with item text (shipped, or the site's own)."""
    return {i: d for i, d in definitions(texts_dir).items() if d.has_text}


def send_link(
    *,
    session: Session,
    actor: Actor,
    episode_id: str,
    instrument: str,
    secret_key: str,
    valid_for: timedelta,
    texts_dir: Path | None = None,
    now: datetime,
) -> SentLink:
    """A single-use link to `instrument` for the person of an open episode, valid for `valid_for`."""
    require_permission(actor, Permission.RECORD_CARE)
    episode, _ = require_episode(session, actor, episode_id, now)
    if episode.end_date is not None and episode.end_date <= care_day(session, now):
        raise ValidationError("the episode has ended; send a link on an open episode", column="episode_id")
    options = answerable(texts_dir)
    try:
        definition = options[Instrument(instrument)]
    except (ValueError, KeyError):
        raise ValidationError(
            f"{instrument!r} cannot be answered by link",
            column="instrument",
            expected="an instrument with item text: " + ", ".join(i.value for i in options),
        ) from None
    if not timedelta(hours=1) <= valid_for <= timedelta(days=MAX_LINK_DAYS):
        raise ValidationError("a link lasts from an hour to 30 days", column="valid_days")
    token = secrets.token_urlsafe(32)
    session.commit()
    with write_transaction(session):
        link = SelfReportLink(
            token_hash=token_hash(secret_key, token),
            link_id=record_id(),
            episode_id=episode_id,
            person_id=episode.person_id,
            instrument=definition.id.value,
            created_by=actor.user_id,
            created_at=now,
            expires_at=now + valid_for,
        )
        session.add(link)
        append_audit(
            session=session,
            at=now,
            user_id=actor.user_id,
            role=actor.role,
            request_id=actor.request_id,
            action="send_link",
            entity="self_report_link",
            entity_id=link.link_id,
            person_id=episode.person_id,
            detail=f"episode {episode_id}: {definition.short_name} link, "
            f"expires {link.expires_at:%Y-%m-%d %H:%M} UTC",
        )
    return SentLink(link.link_id, token, link.expires_at, definition.id.value)


def _status(link: SelfReportLink | None, now: datetime) -> LinkStatus:
    if link is None:
        return LinkStatus.UNKNOWN
    if link.used_at is not None:
        return LinkStatus.USED
    if aware(link.expires_at) <= now:
        return LinkStatus.EXPIRED
    return LinkStatus.OPEN


def open_link(
    *, session: Session, secret_key: str, token: str, texts_dir: Path | None = None, now: datetime
) -> LinkView:
    """The state of a link and, while it is open, its questionnaire."""
    link = session.get(SelfReportLink, token_hash(secret_key, token))
    status = _status(link, now)
    session.commit()
    if link is None or status is not LinkStatus.OPEN:
        return LinkView(status, None, link.expires_at if link else None)
    definition = answerable(texts_dir).get(Instrument(link.instrument))
    if definition is None:  # the site removed the text the link was sent with
        return LinkView(LinkStatus.UNKNOWN, None, None)
    return LinkView(status, definition, link.expires_at)


def submit_link(
    *,
    session: Session,
    secret_key: str,
    token: str,
    answers: Sequence[int],
    texts_dir: Path | None = None,
    request_id: str | None = None,
    now: datetime,
) -> Submitted:
    """Record the answers of an open link: a QuestionnaireResponse and a measurement on the episode,
    the link marked used, all in one transaction; a used or expired link is refused and stores nothing."""
    view = open_link(session=session, secret_key=secret_key, token=token, texts_dir=texts_dir, now=now)
    if view.status is not LinkStatus.OPEN or view.definition is None:
        raise LinkClosedError(view.status)
    key = token_hash(secret_key, token)
    link = session.get(SelfReportLink, key)
    person = session.get(Person, link.person_id) if link else None
    score = score_form(view.definition.id.value, answers, person.sex if person else None)
    day = care_day(session, now)
    session.commit()
    with write_transaction(session):
        link = session.scalar(
            select(SelfReportLink).where(SelfReportLink.token_hash == key).with_for_update()
        )
        if link is None or _status(link, now) is not LinkStatus.OPEN:
            raise LinkClosedError(_status(link, now))
        episode = session.get(Episode, link.episode_id)
        if episode is None:
            raise NotFoundError("this link no longer leads anywhere")
        measured_on = min(max(day, episode.start_date), episode.end_date or day)
        recorded = add_measurement(
            session,
            episode=episode,
            instrument=link.instrument,
            answers=answers,
            score=score,
            measured_on=measured_on,
            source="self_report_link",
            now=now,
        )
        link.used_at = now
        link.response_id = recorded.response_id
        append_audit(
            session=session,
            at=now,
            user_id=None,
            role=LINK_ROLE,
            request_id=request_id,
            action="submit",
            entity="self_report_link",
            entity_id=link.link_id,
            person_id=link.person_id,
            detail=f"episode {episode.episode_id}: {describe(score)}",
        )
    return Submitted(score, recorded.measurement.measurement_id, recorded.response_id)


class LinkClosedError(ValidationError):
    """The link was used, has expired or never existed: the page says which, plainly."""

    http_status = 410

    def __init__(self, status: LinkStatus) -> None:
        self.status = status
        super().__init__(
            {
                LinkStatus.USED: "this link has already been used",
                LinkStatus.EXPIRED: "this link has expired",
            }.get(status, "this link is not valid")
        )


@dataclass(frozen=True, slots=True)
class LinkLine:
    link_id: str
    instrument: str
    created_at: datetime
    expires_at: datetime
    status: LinkStatus


def episode_links(session: Session, episode_id: str, now: datetime) -> list[LinkLine]:
    """The links sent for an episode, newest first (the caller has checked access to the episode)."""
    rows = session.scalars(
        select(SelfReportLink)
        .where(SelfReportLink.episode_id == episode_id)
        .order_by(SelfReportLink.created_at.desc())
        .limit(20)
    )
    return [
        LinkLine(r.link_id, r.instrument, aware(r.created_at), aware(r.expires_at), _status(r, now))
        for r in rows
    ]
