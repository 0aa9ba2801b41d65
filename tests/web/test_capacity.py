"""The capacity page: hours split by recorded services (or role), caseload against its target, and the
M/M/c estimate of the wait as hours move from case management to treatment, linked to the what-if."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from onward.model.queueing import mmc_wait_days
from onward.security.access import Actor
from onward.security.policy import role_permissions
from onward.services.capacity import program_capacity
from onward.store.tables import Episode, Person, Program, Referral, Service, Staff

Login = Callable[..., Response]
NOW = datetime(2024, 6, 30, 9, 0, tzinfo=UTC)  # the web tests' clock


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def busy(db: Session, county: None) -> None:
    """p1 (2 slots): st1 (clinician, 40 h) treats ana; cm1 (case manager, 20 h) records case management
    and some treatment; 9 more referrals in the last 90 days (10 with cy's); one episode of 100 days
    ended in the year."""
    db.add(Staff(staff_id="cm1", role="case_manager", program_id="p1", hours_per_week=20))
    program = db.get(Program, "p1")
    assert program is not None
    program.capacity_slots = 45  # enough for the hours to be what binds, until a move of 10 hours
    db.add_all(
        [Person(person_id=f"q{i}", birth_year=1990, sex="male", postcode_prefix="981") for i in range(9)]
    )
    db.flush()
    for i in range(9):
        db.add(
            Referral(
                referral_id=f"rq{i}",
                person_id=f"q{i}",
                program_id="p1",
                referral_date=date(2024, 4, 10) + timedelta(days=i),
                source="self",
                priority="routine",
            )
        )
    db.add(
        Episode(
            episode_id="e-old",
            person_id="q0",
            program_id="p1",
            start_date=date(2023, 12, 1),
            end_date=date(2024, 3, 10),
            end_reason="graduated",
            is_sud=False,
        )
    )
    rows = (
        [("st1", "treatment", 60)] * 12
        + [("cm1", "case_management", 60)] * 9
        + [("cm1", "treatment", 60)] * 3
    )
    for n, (staff, category, minutes) in enumerate(rows):
        db.add(
            Service(
                service_id=f"sv{n}",
                person_id="ana",
                episode_id="e1",
                staff_id=staff,
                service_date=date(2024, 6, 1) + timedelta(days=n),
                code="90837" if category == "treatment" else "T1016",
                minutes=minutes,
                category=category,
            )
        )
    db.commit()


def test_hours_caseloads_and_the_estimate(db: Session, busy: None) -> None:
    manager = Actor(
        permissions=role_permissions("manager"),
        user_id="u",
        username="m",
        role="manager",
        program_ids=("p1",),
    )
    c = program_capacity(session=db, actor=manager, program_id="p1", now=NOW)
    staff = {s.staff_id: s for s in c.staff}
    assert (staff["st1"].treatment, staff["st1"].case_management, staff["st1"].basis) == (
        40,
        0,
        "recorded services",
    )
    assert staff["cm1"].treatment == pytest.approx(5) and staff["cm1"].case_management == pytest.approx(15)
    # targets: 45 slots shared by 60 clinical hours; st1 (40 h) holds ana's episode: 1 against 30
    assert staff["st1"].caseload == 1 and staff["st1"].caseload_target == pytest.approx(45 * 40 / 60)
    assert (c.slots, c.census, c.free_slots, c.referrals) == (45, 1, 44, 10)  # 9 new referrals and cy's
    assert c.episode_days == 100
    # 15 treatment hours of e1's services over 90 days (12.86 weeks) for 1 person in care
    per_place = 15 / (90 / 7)
    assert c.hours_per_place == pytest.approx(per_place)
    now = c.estimate(0.0)
    assert now is not None and now.servers == int(45 // per_place)
    assert now.wait_days == pytest.approx(mmc_wait_days(10 / 90, 100, now.servers))
    more = program_capacity(session=db, actor=manager, program_id="p1", now=NOW, moved=10)
    assert more.moved == 10 and more.estimate(10).servers == 45  # type: ignore[union-attr]  # the slots bind
    capped = program_capacity(session=db, actor=manager, program_id="p1", now=NOW, moved=500)
    assert capped.moved == pytest.approx(15)  # no more than the case-management hours there are
    assert capped.cm_share_after == pytest.approx(0.0)


def test_the_page_for_managers_and_leaders(
    client: TestClient, make_user: Callable[..., Any], login: Login, busy: None
) -> None:
    make_user("mia", "manager", program_ids=["p1"])
    make_user("max", "manager", program_ids=["p2"])
    make_user("lee", "leader")
    login("mia")
    page = client.get("/programs/p1/capacity?move=10")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Estimate (M/M/c queue), not a forecast." in text and "After the move" in text
    assert "/whatif?" not in page.text  # a manager may not run the what-if
    assert client.get("/programs/p1/capacity?move=lots").status_code == 400
    assert 'href="/programs/p1/capacity"' in client.get("/programs/p1/waiting").text
    client.post(
        "/logout", data={"csrf_token": re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]}
    )
    login("max")
    assert client.get("/programs/p1/capacity").status_code == 404
    client.post(
        "/logout",
        data={
            "csrf_token": re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/programs").text)[0]
        },
    )
    login("lee")
    leader = client.get("/programs/p1/capacity?move=10")
    assert leader.status_code == 200
    link = re.search(r'href="(/whatif\?[^"]+)"', leader.text)
    assert link, "a leader gets the link to the what-if"
    url = link.group(1).replace("&amp;", "&")
    assert "lever_case_management_share=0.08" in url  # (15 - 10) / 60 hours of treatment plus CM
    form = client.get(url).text
    assert 'name="lever_case_management_share" value="0.08"' in form
