"""EPDS screens: scoring, the risk flag, and a referral made only with the parent's consent."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.web.conftest import form_token

from onward.store.tables import Episode, Measurement, Person, Program, Referral, Staff, User
from onward.store.tables_skills import Cohort, PerinatalScreen

Client = Any
LOW = {f"item{n}": v for n, v in zip(range(1, 11), (0, 0, 3, 0, 3, 3, 3, 3, 3, 3), strict=True)}  # total 0
PROBABLE = {**LOW, "item1": "3", "item2": "3", "item4": "3", "item3": "0", "item5": "2"}  # 3+3+3+3+1 = 13


@pytest.fixture
def parent(
    client: Client, login: Callable[..., Any], make_user: Callable[..., User], db: Session, county: None
) -> str:
    db.add(
        Program(
            program_id="per1", name="Mothers' Clinic", kind="perinatal", level_of_care=1, capacity_slots=0
        )
    )
    db.add(Person(person_id="dee", birth_year=1996, sex="female", postcode_prefix="981"))
    db.flush()
    db.add(Staff(staff_id="st9", role="clinician", program_id="per1", hours_per_week=40))
    db.flush()
    db.add(
        Episode(
            episode_id="e9",
            person_id="dee",
            program_id="per1",
            start_date=date(2024, 3, 1),
            is_sud=False,
            primary_staff_id="st9",
        )
    )
    db.commit()
    make_user("nina", "clinician", program_ids=["per1"], staff_id="st9")
    login("nina")
    page = client.get("/skills/cohorts/new")
    made = client.post(
        "/skills/cohorts",
        data={
            "csrf_token": form_token(page.text),
            "kind": "parent",
            "person_id": "dee",
            "due_date": "2024-11-20",
        },
        follow_redirects=False,
    )
    cohort_id: str = made.headers["location"].rsplit("/", 1)[1]
    return cohort_id


def _screen(client: Client, cohort_id: str, answers: dict[str, Any]) -> Any:
    form = client.get(f"/skills/cohorts/{cohort_id}/screen")
    assert "has not loaded licensed EPDS wording" in form.text  # metadata only: no item text shipped
    data = {
        "csrf_token": form_token(form.text),
        "screened_on": "2024-06-28",
        **{k: str(v) for k, v in answers.items()},
    }
    return client.post(f"/skills/cohorts/{cohort_id}/screen", data=data)


def test_a_screen_below_the_cut_off_offers_no_referral(client: Client, parent: str, db: Session) -> None:
    result = _screen(client, parent, LOW)
    assert (
        result.status_code == 200
        and "Below the cut-off" in result.text
        and "Make the referral" not in result.text
    )
    screen_id = re.search(r"/skills/screens/([\w-]+)", str(result.url))
    assert screen_id
    refused = client.post(
        f"/skills/screens/{screen_id.group(1)}/referral",
        data={
            "csrf_token": form_token(result.text),
            "answer": "agreed",
            "consent": "agreed",
            "program_id": "p1",
        },
    )
    assert refused.status_code == 409
    db.rollback()
    measurement = db.scalar(select(Measurement).where(Measurement.person_id == "dee"))
    assert measurement is not None and measurement.instrument == "epds" and measurement.episode_id == "e9"
    assert measurement.score == 0


def test_a_missing_answer_is_named(client: Client, parent: str) -> None:
    answers = {k: v for k, v in LOW.items() if k != "item7"}
    assert "item 7 has no answer" in _screen(client, parent, answers).text


def test_probable_depression_is_referred_only_once_the_parent_agrees(
    client: Client, parent: str, db: Session
) -> None:
    result = _screen(client, parent, PROBABLE)
    assert "Probable depression" in result.text and "(routine)" in result.text
    url = str(result.url)
    screen_id = url.rsplit("/", 1)[1]
    token = form_token(result.text)
    unticked = client.post(
        f"/skills/screens/{screen_id}/referral",
        data={"csrf_token": token, "answer": "agreed", "program_id": "p1"},
    )
    assert unticked.status_code == 400 and "tick that the parent agrees" in unticked.text
    declined = client.post(
        f"/skills/screens/{screen_id}/referral", data={"csrf_token": token, "answer": "declined"}
    )
    assert "declined a referral" in declined.text
    db.rollback()
    assert db.scalar(select(Referral).where(Referral.person_id == "dee")) is None
    agreed = client.post(
        f"/skills/screens/{screen_id}/referral",
        data={"csrf_token": token, "answer": "agreed", "consent": "agreed", "program_id": "p1"},
    )
    assert "was made as routine" in agreed.text
    db.rollback()
    referral = db.scalar(select(Referral).where(Referral.person_id == "dee"))
    assert referral is not None and referral.priority == "routine" and referral.program_id == "p1"
    screen = db.get(PerinatalScreen, screen_id)
    assert screen is not None and screen.consent == "agreed" and screen.referral_id == referral.referral_id
    assert screen.lesson_id == "prenatal-er-1"  # the set point: week 12 was 2024-05-08


def test_a_teacher_cannot_open_a_parents_screens(
    client: Client, parent: str, make_user: Callable[..., User], login: Callable[..., Any], db: Session
) -> None:
    make_user("tess", "teacher", program_ids=["per1"])
    client.cookies.clear()
    login("tess")
    assert client.get(f"/skills/cohorts/{parent}/screen").status_code == 404  # dee is not in her care
    assert db.get(Cohort, parent) is not None
