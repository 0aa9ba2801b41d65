"""The waiting-list pages: triage order, highlight past target, offer next slot, book the first
appointment, outcomes with reasons; scoped to the manager's own programs and audited."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.store.tables import AuditEntry, Measurement, Person, Referral
from onward.store.tables_access import FirstAppointment

Login = Callable[..., Response]


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def waiting(db: Session, county: None) -> None:
    """p1 (2 slots, 1 in care) has cy (urgent, 2024-05-20) waiting; add dora (routine, long wait),
    eli (routine, a positive PHQ-9 item 9) and fay (routine, recent)."""
    db.add_all(
        [
            Person(person_id=p, birth_year=1980, sex="female", postcode_prefix="981")
            for p in ("dora", "eli", "fay")
        ]
    )
    db.flush()
    for rid, person, day in (
        ("r3", "dora", "2024-02-01"),
        ("r4", "eli", "2024-06-20"),
        ("r5", "fay", "2024-06-25"),
    ):
        db.add(
            Referral(
                referral_id=rid,
                person_id=person,
                program_id="p1",
                referral_date=date.fromisoformat(day),
                source="self",
                priority="routine",
            )
        )
    db.add(
        Measurement(
            measurement_id="m-eli",
            person_id="eli",
            instrument="phq9",
            measured_on=date(2024, 6, 20),
            score=12,
            items="[1, 1, 2, 2, 1, 1, 2, 1, 1]",
        )
    )
    db.commit()


def _order(html: str) -> list[str]:
    return re.findall(r'<tr id="r-([^"]+)"', html)


def test_the_manager_triages_offers_and_books(
    client: TestClient, make_user: Callable[..., Any], login: Login, waiting: None, db: Session
) -> None:
    make_user("mia", "manager", program_ids=["p1"])
    login("mia")
    home = client.get("/programs").text
    assert 'href="/programs/p1/waiting"' in home
    page = client.get("/programs/p1/waiting")
    assert page.status_code == 200
    html = page.text
    assert _order(html) == ["r2", "r4", "r3", "r5"]  # urgent; risk; then longest wait
    assert re.search(r'<tr id="r-r3" class="past-target"', html)  # 150 days
    assert not re.search(r'<tr id="r-r5" class="past-target"', html)  # 5 days
    text = _text(html)
    assert (
        "4 waiting / 1 admissions in the last 90 days" not in text
    )  # e1 started in January: none in 90 days
    assert "the wait cannot be estimated" in text
    done = client.post("/programs/p1/waiting/offer-next", data={"csrf_token": _token(html)})
    assert done.status_code == 200 and "Slot offered." in done.text
    db.rollback()
    assert db.get(Referral, "r2").outcome == "offered"  # type: ignore[union-attr]
    # the only free slot is offered: offering the next one is refused, saying why
    refused = client.post("/programs/p1/waiting/offer-next", data={"csrf_token": _token(html)})
    assert refused.status_code == 409 and "no open slot" in refused.text
    detail = client.get("/referrals/r2/waiting").text
    booked = client.post(
        "/referrals/r2/appointment",
        data={"csrf_token": _token(detail), "staff_id": "st1", "day": "2024-07-02", "at_time": "10:00"},
    )
    assert booked.status_code == 200 and "First appointment booked." in booked.text
    assert "first appointment 2024-07-02 10:00 with st1" in _text(booked.text)
    bad = client.post(
        "/referrals/r2/appointment",
        data={"csrf_token": _token(detail), "staff_id": "st1", "day": "2024-01-02"},
    )
    assert bad.status_code == 400 and "in the past" in bad.text
    db.rollback()
    assert db.scalars(select(FirstAppointment.staff_id)).all() == ["st1"]
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.entity == "referral")).all()
    assert "offer" in actions and "book" in actions and "read" in actions


def test_outcomes_and_attempts_from_the_referral_page(
    client: TestClient, make_user: Callable[..., Any], login: Login, waiting: None, db: Session
) -> None:
    make_user("mia", "manager", program_ids=["p1"])
    login("mia")
    html = client.get("/referrals/r3/waiting").text
    token = _token(html)
    missing = client.post(
        "/referrals/r3/close", data={"csrf_token": token, "outcome": "withdrawn", "reason": ""}
    )
    assert missing.status_code == 400 and "reason" in missing.text
    early = client.post(
        "/referrals/r3/close", data={"csrf_token": token, "outcome": "not_reached", "reason": "no answer"}
    )
    assert early.status_code == 409 and "0 unanswered attempt(s)" in early.text
    for _ in range(3):
        client.post(
            "/referrals/r3/contacts", data={"csrf_token": token, "method": "phone", "note": "voicemail"}
        )
    closed = client.post(
        "/referrals/r3/close",
        data={"csrf_token": token, "outcome": "not_reached", "reason": "three calls unanswered"},
    )
    assert closed.status_code == 200 and "Referral closed." in closed.text
    assert "r-r3" not in _order(closed.text) and "three calls unanswered" in closed.text
    gone = client.get("/referrals/r3/waiting").text
    assert "no longer on the waiting list" in gone


def test_scope_and_roles(
    client: TestClient, make_user: Callable[..., Any], login: Login, waiting: None
) -> None:
    make_user("max", "manager", program_ids=["p2"])
    make_user("carla", "clinician", program_ids=["p1"], staff_id="st1")
    make_user("lee", "leader")
    login("max")
    assert client.get("/programs/p1/waiting").status_code == 404
    assert client.get("/referrals/r3/waiting").status_code == 404
    client.post("/logout", data={"csrf_token": _token(client.get("/programs").text)})
    login("carla")
    assert client.get("/programs/p1/waiting").status_code == 200  # the program's own clinicians
    client.post("/logout", data={"csrf_token": _token(client.get("/caseload").text)})
    login("lee")
    assert client.get("/programs/p1/waiting").status_code == 403


def test_the_admin_page_lists_codes_imports_did_not_match(
    client: TestClient, make_user: Callable[..., Any], login: Login, db_url: str, tmp_path: Any
) -> None:
    from pathlib import Path

    from onward.interop.encounters import import_encounters

    example = Path(__file__).parents[2] / "examples" / "encounters"
    import_encounters(example / "claims.csv", example / "mapping.toml", db_url, progress=False)
    import_encounters(example / "claims.csv", example / "mapping.toml", db_url, progress=False)
    make_user("ada", "admin")
    make_user("mia", "manager", program_ids=["FAC-N"])
    login("ada")
    assert 'href="/admin/service-codes"' in client.get("/admin/users").text
    text = _text(client.get("/admin/service-codes").text)
    assert "S9484 not in the catalogue other — 1 2" in text and "CL-1010" in text  # 1 row, 2 imports
    client.post("/logout", data={"csrf_token": _token(client.get("/admin/users").text)})
    login("mia")
    assert client.get("/admin/service-codes").status_code == 403


def test_the_actions_over_json(
    client: TestClient, make_user: Callable[..., Any], waiting: None, db: Session
) -> None:
    from onward.web.sessions import CSRF_HEADER

    make_user("mia", "manager", program_ids=["p1"])
    signed = client.post("/api/v1/session", json={"username": "mia", "password": "a long test password 1"})
    csrf = {CSRF_HEADER: signed.json()["csrf_token"]}
    offered = client.post("/api/v1/referrals/r4/offer", json={}, headers=csrf)
    assert offered.status_code == 200 and offered.json()["outcome"] == "offered"
    assert client.post("/api/v1/referrals/r5/offer", json={}, headers=csrf).status_code == 409  # no slot left
    booked = client.post(
        "/api/v1/referrals/r4/appointment", json={"staff_id": "st1", "day": "2024-07-03"}, headers=csrf
    )
    assert booked.status_code == 201 and booked.json()["outcome"] == "offered"
    for n in range(3):
        tried = client.post(
            "/api/v1/referrals/r3/contacts", json={"method": "letter", "reached": False}, headers=csrf
        )
        assert tried.status_code == 201 and tried.json()["unanswered_attempts"] == n + 1
    closed = client.post(
        "/api/v1/referrals/r3/outcome",
        json={"outcome": "not_reached", "reason": "three letters"},
        headers=csrf,
    )
    assert closed.status_code == 200 and closed.json()["outcome_date"] == "2024-06-30"
    refused = client.post(
        "/api/v1/referrals/r5/outcome",
        json={"outcome": "declined", "reason": "does not want it"},
        headers=csrf,
    )
    assert refused.status_code == 409 and "no slot offered" in refused.text
    unknown = client.post(
        "/api/v1/referrals/r5/outcome", json={"outcome": "lost", "reason": "x y z"}, headers=csrf
    )
    assert unknown.status_code == 422 and "not_reached" in unknown.text
