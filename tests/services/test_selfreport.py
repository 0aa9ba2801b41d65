"""Self-report links: single use, expiring, stored only as a keyed hash; answers become a measurement
and a QuestionnaireResponse, and a positive risk item shows as the risk flag at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import ValidationError
from onward.model.flags import FlagRules
from onward.security.access import Actor
from onward.security.audit import AuditEvent
from onward.security.login_sessions import token_hash
from onward.services import selfreport
from onward.services.caseload import caseload
from onward.services.selfreport import LinkClosedError, LinkStatus
from onward.store.tables import AuditEntry, Measurement
from onward.store.tables_pathways import QuestionnaireResponseRecord, SelfReportLink

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEY = "a test secret key with enough randomness 0123456789abcdef"
ITEM9_POSITIVE = [1, 1, 1, 1, 0, 0, 0, 0, 2]


def _send(s: Session, actor: Actor, **kw: object) -> selfreport.SentLink:
    values: dict[str, object] = {"instrument": "phq9", "valid_for": timedelta(days=7)}
    values.update(kw)
    return selfreport.send_link(session=s, actor=actor, episode_id="e-ben", secret_key=KEY, now=NOW, **values)  # type: ignore[arg-type]


def test_only_the_keyed_hash_of_a_link_is_stored(care_db: sessionmaker[Session], clinician: Actor) -> None:
    with care_db() as s:
        sent = _send(s, clinician)
        row = s.scalars(select(SelfReportLink)).one()
        assert row.token_hash == token_hash(KEY, sent.token) != sent.token
        assert sent.token not in (row.link_id, row.token_hash) and len(sent.token) >= 43
        assert sent.path == f"/answer/{sent.token}" and row.expires_at.replace(tzinfo=UTC) == NOW + timedelta(
            days=7
        )
        assert (
            s.scalar(select(AuditEntry.action).where(AuditEntry.entity == "self_report_link")) == "send_link"
        )


def test_a_link_is_answered_once_and_a_risk_answer_flags_the_caseload_at_once(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        sent = _send(s, clinician)
        before = caseload(session=s, actor=clinician, now=NOW, rules=FlagRules(), audit=lambda e: None)
        assert "risk" not in [f.flag for f in before.lines[0].flags]  # remembered until the rows change
        view = selfreport.open_link(session=s, secret_key=KEY, token=sent.token, now=NOW)
        assert (
            view.status is LinkStatus.OPEN
            and view.definition is not None
            and view.definition.id.value == "phq9"
        )
        later = NOW + timedelta(hours=2)
        done = selfreport.submit_link(
            session=s, secret_key=KEY, token=sent.token, answers=ITEM9_POSITIVE, now=later
        )
        assert done.risk and done.score.total == 6
        measurement = s.get(Measurement, done.measurement_id)
        assert (
            measurement is not None
            and measurement.episode_id == "e-ben"
            and measurement.measured_on == later.date()
        )
        assert s.get(QuestionnaireResponseRecord, done.response_id).source == "self_report_link"  # type: ignore[union-attr]
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "submit")).one()
        assert (entry.user_id, entry.role, entry.person_id) == (None, selfreport.LINK_ROLE, "ben")
        assert (
            selfreport.open_link(session=s, secret_key=KEY, token=sent.token, now=later).status
            is LinkStatus.USED
        )
        with pytest.raises(LinkClosedError, match="already been used"):
            selfreport.submit_link(session=s, secret_key=KEY, token=sent.token, answers=[0] * 9, now=later)
        seen: list[AuditEvent] = []
        result = caseload(session=s, actor=clinician, now=later, rules=FlagRules(), audit=seen.append)
        assert result.lines[0].episode_id == "e-ben" and result.lines[0].flags[0].flag == "risk"
        assert "PHQ-9 item 9 scored 2 on 2026-06-01" in result.lines[0].flags[0].reason
        assert seen and seen[0].entity == "caseload"


def test_expired_unknown_and_bad_answers(care_db: sessionmaker[Session], clinician: Actor) -> None:
    with care_db() as s:
        sent = _send(s, clinician, valid_for=timedelta(hours=1))
        with pytest.raises(ValidationError, match="questions|item 9") as error:
            selfreport.submit_link(
                session=s, secret_key=KEY, token=sent.token, answers=[0] * 8 + [7], now=NOW
            )
        assert error.value.column == "answers"
        late = NOW + timedelta(hours=1)
        assert (
            selfreport.open_link(session=s, secret_key=KEY, token=sent.token, now=late).status
            is LinkStatus.EXPIRED
        )
        with pytest.raises(LinkClosedError, match="expired"):
            selfreport.submit_link(session=s, secret_key=KEY, token=sent.token, answers=[0] * 9, now=late)
        assert (
            selfreport.open_link(session=s, secret_key=KEY, token="made-up", now=NOW).status
            is LinkStatus.UNKNOWN
        )
        # The same token under another key is not a link: the hash is keyed.
        assert (
            selfreport.open_link(session=s, secret_key=KEY + "x", token=sent.token, now=NOW).status
            is LinkStatus.UNKNOWN
        )
        assert s.scalar(select(func.count()).select_from(Measurement)) == 1


def test_links_need_item_text_an_open_episode_and_a_sensible_lifetime(
    care_db: sessionmaker[Session], clinician: Actor, role_actor: Callable[..., Actor]
) -> None:
    with care_db() as s:
        with pytest.raises(ValidationError, match="'epds' cannot be answered by link") as error:
            _send(s, clinician, instrument="epds")  # the EPDS ships without its item text
        assert error.value.column == "instrument" and "phq9" in str(error.value)
        with pytest.raises(ValidationError, match="an hour to 30 days"):
            _send(s, clinician, valid_for=timedelta(days=31))
        from onward.services.episodes import graduate

        graduate(session=s, actor=clinician, episode_id="e-ben", now=NOW)
        with pytest.raises(ValidationError, match="has ended"):
            _send(s, clinician)
