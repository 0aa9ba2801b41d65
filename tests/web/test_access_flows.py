"""Break-glass, invitations, account changes that revoke sessions, and each person's accounting,
through the real app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.web.conftest import PASSWORD, form_token

from onward.store.tables import AuditEntry, User
from onward.store.tables_security import BreakGlassGrant

Login = Callable[..., Response]


def test_break_glass_opens_an_unassigned_record_for_one_hour_with_its_reason_audited(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None, db: Session, clock: Any
) -> None:
    make_user("carla", "clinician", staff_id="st1")
    page = login("carla")
    assert client.get("/people/ben").status_code == 404  # ben's episode is another clinician's
    token = form_token(page.text)
    refused = client.post(
        "/break-glass",
        data={"csrf_token": token, "person_id": "ben", "reason": "too short", "password": PASSWORD},
    )
    assert refused.status_code == 400 and "say why" in refused.text
    wrong = client.post(
        "/break-glass",
        data={
            "csrf_token": token,
            "person_id": "ben",
            "reason": "Seen in the crisis unit tonight",
            "password": "no",
        },
    )
    assert wrong.status_code == 401
    opened = client.post(
        "/break-glass",
        data={
            "csrf_token": token,
            "person_id": "ben",
            "reason": "Seen in the crisis unit tonight",
            "password": PASSWORD,
        },
    )
    assert opened.status_code == 200 and opened.url.path == "/people/ben"
    assert "Harbor Residential" in opened.text and "break-glass" in opened.text
    db.expire_all()
    entries = list(
        db.scalars(select(AuditEntry).where(AuditEntry.person_id == "ben").order_by(AuditEntry.entry_id))
    )
    assert [(e.action, e.outcome) for e in entries] == [
        ("break_glass", "refused"),
        ("break_glass", "ok"),
        ("read", "ok"),
    ]
    assert "Seen in the crisis unit tonight" in (entries[1].detail or "")
    assert "basis: break-glass" in (entries[2].detail or "")
    clock.advance(minutes=61)
    login("carla")
    assert client.get("/people/ben").status_code == 404  # the hour is over
    assert len(list(db.scalars(select(BreakGlassGrant)))) == 1


def test_a_person_sees_who_opened_their_record(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None, clock: Any
) -> None:
    make_user("carla", "clinician", staff_id="st1")
    make_user("ana", "person", person_id="ana")
    login("carla")
    assert client.get("/people/ana").status_code == 200
    client.cookies.clear()
    login("ana")
    page = client.get("/me/accounting").text
    assert "carla (clinician)" in page and "looked at your record" in page
    assert "basis: assigned" in page


def test_an_invitation_lets_the_person_choose_their_own_password_once(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None, db: Session
) -> None:
    make_user("carla", "clinician", staff_id="st1")
    page = login("carla")
    sent = client.post("/people/ana/invitation", data={"csrf_token": form_token(page.text)})
    assert sent.status_code == 201
    link = sent.text.split('id="invite-url" type="text" readonly value="')[1].split('"')[0]
    path = link.split("://", 1)[1].split("/", 1)[1]
    client.cookies.clear()
    form = client.get(f"/{path}")
    assert form.status_code == 200 and "Choose a username and a password only you know" in form.text
    done = client.post(
        f"/{path}",
        data={"csrf_token": form_token(form.text), "username": "ana-r", "password": "my own secret"},
    )
    assert done.status_code == 200 and done.url.path == "/login"
    assert login("ana-r", "my own secret").url.path == "/me"
    client.cookies.clear()
    again = client.get(f"/{path}")
    assert again.status_code == 409 and "already been used" in again.text
    user = db.scalar(select(User).where(User.username == "ana-r"))
    assert user is not None and user.person_id == "ana" and user.role == "person"


def test_a_clinician_cannot_invite_someone_outside_their_caseload(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None
) -> None:
    make_user("carla", "clinician", staff_id="st1")
    page = login("carla")
    assert (
        client.post("/people/ben/invitation", data={"csrf_token": form_token(page.text)}).status_code == 404
    )


def test_role_changes_and_deactivation_end_sessions_at_once(
    client: TestClient, make_user: Callable[..., Any], login: Login, db_url: str, clock: Any
) -> None:
    from onward.settings import Settings
    from onward.web.app import create_app

    make_user("amir", "admin")
    lena = make_user("lena", "leader")
    other = create_app(Settings(database_url=db_url, environment="development"))
    other.state.clock = clock
    with TestClient(other) as lena_browser:
        lena_browser.post("/api/v1/session", json={"username": "lena", "password": PASSWORD})
        assert lena_browser.get("/system", follow_redirects=False).status_code == 200
        page = login("amir")
        token = form_token(page.text)
        changed = client.post(
            f"/admin/users/{lena.user_id}/role", data={"csrf_token": token, "role": "analyst"}
        )
        assert changed.status_code == 200 and "now a analyst" in changed.text
        assert lena_browser.get("/system", follow_redirects=False).status_code == 303
        lena_browser.post("/api/v1/session", json={"username": "lena", "password": PASSWORD})
        assert lena_browser.get("/api/v1/me").json()["role"] == "analyst"
        client.post(f"/admin/users/{lena.user_id}/deactivate", data={"csrf_token": token})
        assert lena_browser.get("/api/v1/me").status_code == 401
        assert (
            lena_browser.post("/api/v1/session", json={"username": "lena", "password": PASSWORD}).status_code
            == 401
        )


def test_a_reset_link_sets_a_new_password_and_signs_out_everywhere(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("amir", "admin")
    lena = make_user("lena", "leader")
    page = login("amir")
    issued = client.post(
        f"/admin/users/{lena.user_id}/reset-link", data={"csrf_token": form_token(page.text)}
    )
    link = issued.text.split('aria-label="One-time link" value="')[1].split('"')[0]
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    client.cookies.clear()
    form = client.get(path)
    client.post(path, data={"csrf_token": form_token(form.text), "password": "a brand new passphrase"})
    assert login("lena", PASSWORD).status_code == 401
    assert login("lena", "a brand new passphrase").url.path == "/system"


def test_administrators_cannot_make_a_persons_account_or_read_records(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None
) -> None:
    make_user("amir", "admin")
    page = login("amir")
    token = form_token(page.text)
    made = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "fake-ana",
            "display_name": "Ana",
            "role": "person",
            "password": "x" * 20,
        },
    )
    assert made.status_code == 400 and "invitation" in made.text
    assert client.get("/people/ana").status_code == 403
    invited = client.post("/admin/invitations", data={"csrf_token": token, "person_id": "ana"})
    assert invited.status_code == 200 and "/invite/" in invited.text
