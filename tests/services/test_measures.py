"""Measurements scored by the instrument definitions (kept also as a FHIR QuestionnaireResponse) and
services coded by the catalog; bad input is refused naming the field, and nothing is half-written."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import ValidationError
from onward.interop.questionnaire_response import answers_from_response, validated_response
from onward.model.instruments import spec
from onward.security.access import Actor
from onward.services import measures
from onward.store.tables import AuditEntry, Measurement, Service
from onward.store.tables_pathways import QuestionnaireResponseRecord

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PHQ9 = [1, 1, 2, 1, 0, 1, 1, 0, 1]


def test_a_measurement_is_scored_stored_and_kept_as_a_questionnaire_response(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        recorded = measures.record_measurement(
            session=s, actor=clinician, episode_id="e-ben", instrument="phq9", answers=PHQ9, now=NOW
        )
        assert (recorded.score.total, recorded.score.band, recorded.score.flags) == (8, "mild", ("risk",))
        row = s.get(Measurement, recorded.measurement.measurement_id)
        assert row is not None and (row.score, json.loads(row.items or "[]"), row.measured_on) == (
            8,
            PHQ9,
            NOW.date(),
        )
        response = s.scalars(select(QuestionnaireResponseRecord)).one()
        resource = json.loads(response.resource)
        assert validated_response(resource)["status"] == "completed"
        assert resource["subject"] == {"reference": "Patient/ben"}
        assert answers_from_response(spec("phq9"), resource) == tuple(PHQ9)
        assert resource["item"][-1] == {"linkId": "total", "answer": [{"valueInteger": 8}]}
        detail = s.scalar(select(AuditEntry.detail).where(AuditEntry.entity == "measurement"))
        assert detail == "episode e-ben: phq9 total 8 (mild); flags risk on 2026-06-01"


def test_reverse_scored_answers_are_turned_round_before_storing(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        answers = [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]  # DAST-10: item 3 "no" (0) scores 1
        recorded = measures.record_measurement(
            session=s, actor=clinician, episode_id="e-ben", instrument="dast10", answers=answers, now=NOW
        )
        assert recorded.score.items == (0, 1, 1, 0, 0, 0, 0, 0, 0, 0) and recorded.score.total == 2


def test_bad_answers_and_dates_are_refused_and_nothing_is_stored(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        cases: list[tuple[dict[str, object], str, str]] = [
            ({"instrument": "phq9", "answers": PHQ9[:8]}, "answers", "has 9 items, got 8"),
            ({"instrument": "phq9", "answers": [*PHQ9[:8], 4]}, "answers", "item 9: answer 4"),
            ({"instrument": "phq10", "answers": PHQ9}, "instrument", "unknown instrument"),
            (
                {"instrument": "phq9", "answers": PHQ9, "measured_on": date(2026, 6, 2)},
                "measured_on",
                "future",
            ),
            (
                {"instrument": "phq9", "answers": PHQ9, "measured_on": date(2025, 12, 31)},
                "measured_on",
                "before",
            ),
        ]
        for kwargs, field, words in cases:
            with pytest.raises(ValidationError, match=words) as error:
                measures.record_measurement(session=s, actor=clinician, episode_id="e-ben", now=NOW, **kwargs)  # type: ignore[arg-type]
            assert error.value.column == field
        assert s.scalar(select(func.count()).select_from(Measurement)) == 1  # the fixture's own
        assert s.scalar(select(func.count()).select_from(QuestionnaireResponseRecord)) == 0


def test_a_service_takes_its_category_and_minutes_from_the_catalog(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        service = measures.record_service(
            session=s, actor=clinician, episode_id="e-ben", code=" t1016 ", now=NOW
        )
        assert (service.code, service.category, service.minutes, service.staff_id) == (
            "T1016",
            "case_management",
            15,
            "st1",
        )
        therapy = measures.record_service(
            session=s,
            actor=clinician,
            episode_id="e-ben",
            code="90837",
            minutes=55,
            service_date=date(2026, 5, 20),
            now=NOW,
        )
        assert (therapy.category, therapy.minutes) == ("treatment", 55)
        for kwargs, field in (({"code": "X9999"}, "code"), ({"code": "90837", "minutes": 0}, "minutes")):
            with pytest.raises(ValidationError) as error:
                measures.record_service(session=s, actor=clinician, episode_id="e-ben", now=NOW, **kwargs)
            assert error.value.column == field
        assert s.scalar(select(func.count()).select_from(Service)) == 3
