"""Skills pages: a teacher creates a class, logs a lesson and sees coverage move; a site's edit is
reviewed by a curriculum lead (never its author), with a diff, a readability check and an audit entry."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.web.conftest import form_token

from onward.security.access import operator
from onward.services.accounts import grant
from onward.store.tables import AuditEntry, Program, User
from onward.store.tables_skills import LessonVersion, SkillsAttendance, SkillsSession

Client = Any


@pytest.fixture
def school(db: Session, county: None) -> str:
    db.add(
        Program(
            program_id="sch1", name="Lincoln Elementary", kind="school", level_of_care=0, capacity_slots=0
        )
    )
    db.commit()
    return "sch1"


def _new_class(client: Client, school: str) -> str:
    page = client.get("/skills/cohorts/new")
    assert page.status_code == 200 and "Lincoln Elementary" in page.text
    response = client.post(
        "/skills/cohorts",
        data={
            "csrf_token": form_token(page.text),
            "kind": "class",
            "program_id": school,
            "name": "Room 12",
            "grade": "3",
            "starts": "2024-06-03",
            "ends": "2024-08-30",
            "weekdays": "tue, thu",
            "days_off": "2024-07-04",
            "roster": "Ada\nBo\nCam\nDee\n",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    return location.rsplit("/", 1)[1]


def test_a_teacher_logs_a_lesson_in_one_submit_and_coverage_moves(
    client: Client, login: Callable[..., Any], make_user: Callable[..., User], school: str, db: Session
) -> None:
    make_user("tess", "teacher", program_ids=[school])
    login("tess")
    home = client.get("/skills")
    assert home.status_code == 200 and "Curricula" in home.text
    cohort_id = _new_class(client, school)
    page = client.get(f"/skills/cohorts/{cohort_id}")
    assert "0 of 2 lessons due" in page.text  # the clock is 2024-06-30: two of five lessons are due
    first = db.scalars(select(SkillsSession).where(SkillsSession.cohort_id == cohort_id)).first()
    assert first is not None and first.lesson_id == "grade-3-er-1"
    lesson = client.get(f"/skills/lessons/{first.lesson_id}?session={first.session_id}")
    assert f"/skills/sessions/{first.session_id}/log" in lesson.text
    form = client.get(f"/skills/sessions/{first.session_id}/log")
    ticked = re.findall(r'name="present" value="([^"]+)" checked', form.text)
    assert len(ticked) == 4  # everyone starts present
    saved = client.post(
        f"/skills/sessions/{first.session_id}/log",
        data={"csrf_token": form_token(form.text), "present": ticked[:3], "delivered_on": "2024-06-04"},
    )
    assert saved.status_code == 200 and "Lesson logged" in saved.text
    assert "1 of 2 lessons due" in saved.text and "50 %" in saved.text
    db.rollback()  # end the test's read snapshot
    present = db.scalars(
        select(SkillsAttendance.present).where(SkillsAttendance.session_id == first.session_id)
    )
    assert sorted(present) == [False, True, True, True]
    coverage = client.get("/skills/coverage")
    assert "Grade 3" in coverage.text and "1/2 (50 %)" in coverage.text
    again = client.post(
        f"/skills/sessions/{first.session_id}/log",
        data={"csrf_token": form_token(form.text), "present": ticked, "delivered_on": "2024-06-04"},
    )
    assert again.status_code == 409
    db.rollback()
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.entity == "skills_session"))
    assert list(actions) == ["log"]


def test_a_class_outside_ones_programs_is_not_found_and_bad_terms_are_named(
    client: Client, login: Callable[..., Any], make_user: Callable[..., User], school: str
) -> None:
    make_user("tess", "teacher", program_ids=[school])
    make_user("other", "teacher")
    login("tess")
    cohort_id = _new_class(client, school)
    page = client.get("/skills/cohorts/new")
    bad = client.post(
        "/skills/cohorts",
        data={
            "csrf_token": form_token(page.text),
            "kind": "class",
            "program_id": school,
            "name": "R",
            "grade": "3",
            "starts": "2024-06-03",
            "ends": "2024-06-05",
            "weekdays": "tue",
            "roster": "Ada",
        },
    )
    assert bad.status_code == 400 and "1 teaching days for 5 lessons" in bad.text
    client.cookies.clear()
    login("other")
    assert client.get(f"/skills/cohorts/{cohort_id}").status_code == 404


def test_a_site_edit_is_approved_by_another_curriculum_lead_with_diff_and_audit(
    client: Client, login: Callable[..., Any], make_user: Callable[..., User], school: str, db: Session
) -> None:
    make_user("tess", "teacher", program_ids=[school])
    lead = make_user("lee", "manager", program_ids=[school])
    grant(
        session=db,
        actor=operator("test"),
        user_id=lead.user_id,
        permission="curriculum_lead",
        reason="school's social-emotional learning lead",
        now=datetime.now(UTC),
    )
    login("tess")
    form = client.get("/skills/lessons/grade-3-er-1/edit")
    fields = dict(
        re.findall(r'<input type="(?:text|number)" id="(\w+)" name="\w+" value="([^"]*)"', form.text)
    )
    areas = dict(re.findall(r'<textarea[^>]* name="(\w+)"[^>]*>([^<]*)</textarea>', form.text))
    data = {**areas, **fields, "title": "My calm-down plan (Room 12)", "csrf_token": form_token(form.text)}
    saved = client.post(
        "/skills/lessons/grade-3-er-1/edit", data={k: v.replace("&#39;", "'") for k, v in data.items()}
    )
    assert saved.status_code == 200 and "The readability check passes" in saved.text
    assert "added: </span>Title: My calm-down plan (Room 12)" in saved.text
    assert "Approve version" not in saved.text  # the author cannot approve
    db.rollback()
    version_id = db.scalar(select(LessonVersion.version_id))
    client.cookies.clear()
    login("lee")
    review = client.get("/skills/review")
    assert f"/skills/versions/{version_id}" in review.text
    page = client.get(f"/skills/versions/{version_id}")
    decided = client.post(
        f"/skills/versions/{version_id}/decision",
        data={"csrf_token": form_token(page.text), "decision": "approve", "note": "ok"},
    )
    assert decided.status_code == 200 and "approved" in decided.text
    lesson = client.get("/skills/lessons/grade-3-er-1")
    assert "My calm-down plan (Room 12)" in lesson.text and "approved version 1" in lesson.text
    db.rollback()
    audit = db.execute(
        select(AuditEntry.action, AuditEntry.detail).where(AuditEntry.entity == "lesson_version")
    )
    assert [a for a, _ in audit] == ["draft", "approve"]


def test_an_edit_that_fails_readability_is_saved_but_cannot_be_approved(
    client: Client, login: Callable[..., Any], make_user: Callable[..., User], school: str, db: Session
) -> None:
    make_user("tess", "teacher", program_ids=[school])
    login("tess")
    form = client.get("/skills/lessons/grade-3-er-1/edit")
    fields = dict(
        re.findall(r'<input type="(?:text|number)" id="(\w+)" name="\w+" value="([^"]*)"', form.text)
    )
    areas = dict(re.findall(r'<textarea[^>]* name="(\w+)"[^>]*>([^<]*)</textarea>', form.text))
    hard = (
        "Notwithstanding considerable institutional heterogeneity, comprehensive emotional "
        "self-regulation necessitates deliberate metacognitive intervention. "
    ) * 12
    data = {**areas, **fields, "text": hard, "words_taught": "", "csrf_token": form_token(form.text)}
    saved = client.post(
        "/skills/lessons/grade-3-er-1/edit", data={k: v.replace("&#39;", "'") for k, v in data.items()}
    )
    assert saved.status_code == 200 and "The readability check fails" in saved.text
    db.rollback()
    row = db.scalar(select(LessonVersion))
    assert row is not None and row.status == "draft"


def test_leaders_see_programs_and_grades_only_with_small_counts_suppressed(
    client: Client, login: Callable[..., Any], make_user: Callable[..., User], school: str
) -> None:
    make_user("tess", "teacher", program_ids=[school])
    make_user("lena", "leader")
    login("tess")
    _new_class(client, school)
    client.cookies.clear()
    login("lena")
    page = client.get("/skills/coverage")
    assert page.status_code == 200 and "Grade 3" in page.text
    assert "Room 12" not in page.text  # no single cohort for leaders
    assert "Published figures, 2024" in page.text and "suppressed" in page.text
    assert ">2<" not in page.text.split("Published figures")[1]  # 2 lessons due: a small cell, hidden


@pytest.mark.browser
def test_a_packet_prints_to_pdf_from_the_same_page(
    client: Client,
    login: Callable[..., Any],
    make_user: Callable[..., User],
    school: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from onward.services import skills_packets
    from onward.web.routers import skills as skills_router

    make_user("tess", "teacher", program_ids=[school])
    login("tess")
    page = client.get("/skills/packets/grade-2")
    assert page.status_code == 200 and page.text.count('class="packet-lesson"') == 5
    printed: list[bytes] = []

    def spy(html: bytes, **kwargs: Any) -> bytes:
        printed.append(html)
        return skills_packets.html_to_pdf(html, **kwargs)

    monkeypatch.setattr(skills_router, "html_to_pdf", spy)
    pdf = client.get("/skills/packets/grade-2.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    token = re.compile(rb'value="[^"]+"')  # the CSRF token differs between two renders
    assert token.sub(b"", printed[0]) == token.sub(b"", page.content)  # the same HTML
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.content))
    assert pages >= 5  # the print stylesheet starts each lesson on a new page
    assert client.get("/skills/packets/grade-13.pdf").status_code == 404


def test_the_what_if_takes_skills_coverage_from_the_delivery_logs(
    client: Client, login: Callable[..., Any], make_user: Callable[..., User], school: str, db: Session
) -> None:
    from onward.store.tables import Person

    db.add_all(
        [
            Person(person_id=f"kid{n}", birth_year=2015, sex="female", postcode_prefix="981", school_grade=3)
            for n in range(8)
        ]
    )
    db.commit()
    make_user("tess", "teacher", program_ids=[school])
    make_user("lena", "leader")
    login("lena")
    assert "schools 0% of 8 school-age residents" in client.get("/whatif?coverage=logs").text
    client.cookies.clear()
    login("tess")
    cohort_id = _new_class(client, school)
    first = db.scalars(select(SkillsSession).where(SkillsSession.cohort_id == cohort_id)).first()
    assert first is not None
    form = client.get(f"/skills/sessions/{first.session_id}/log")
    ticked = re.findall(r'name="present" value="([^"]+)" checked', form.text)
    client.post(
        f"/skills/sessions/{first.session_id}/log",
        data={"csrf_token": form_token(form.text), "present": ticked[:2], "delivered_on": "2024-06-04"},
    )
    client.cookies.clear()
    login("lena")
    page = client.get("/whatif?coverage=logs").text
    assert "schools 25% of 8 school-age residents" in page  # 2 students present, 8 residents in school
    assert 'name="lever_school_coverage" value="0.25"' in page


@pytest.fixture
def clinic(db: Session, county: None) -> str:
    """A perinatal program with a nurse (st9) whose client dee is expecting."""
    from onward.store.tables import Episode, Person, Staff

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
    return "per1"


def test_a_nurse_plans_a_parents_lessons_from_the_due_date_and_a_clinic_group(
    client: Client, login: Callable[..., Any], make_user: Callable[..., User], clinic: str, db: Session
) -> None:
    make_user("nina", "clinician", program_ids=[clinic], staff_id="st9")
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
    )
    assert made.status_code == 200 and "due 2024-11-20" in made.text
    assert "2024-05-08" in made.text  # week 12 of a pregnancy due on 20 November: 28 weeks before
    refused = client.post(
        "/skills/cohorts",
        data={
            "csrf_token": form_token(page.text),
            "kind": "parent",
            "person_id": "ana",
            "due_date": "2024-11-20",
        },
    )
    assert refused.status_code == 404  # ana is not in this nurse's care
    group = client.post(
        "/skills/cohorts",
        data={
            "csrf_token": form_token(page.text),
            "kind": "clinic_group",
            "program_id": clinic,
            "name": "Wednesday group",
            "track": "prenatal",
            "starts": "2024-06-03",
            "ends": "2024-10-31",
            "weekdays": "wed",
            "person_ids": "dee",
        },
    )
    assert group.status_code == 200 and "Wednesday group" in group.text and "1 on the list" in group.text
