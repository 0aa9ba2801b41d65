"""Each role's home page shows that role's real data, and nothing it may not see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.model.roles import HOME_PATHS, NAVIGATION, Role
from onward.security.audit import verify_audit_chain
from onward.store.tables import AuditEntry

Login = Callable[..., Response]


def _text(html: str) -> str:
    """Page text with tags removed and whitespace squeezed, for readable assertions."""
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_person_sees_own_episodes_and_the_read_is_audited(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None, db: Session
) -> None:
    make_user("ana", "person", person_id="ana")
    page = _text(login("ana").text)
    assert "Riverside Outpatient" in page and "2024-01-10" in page
    assert "PHQ-9: first 17, latest 8 (on 2024-06-01)" in page  # the latest measure, not only the first
    assert "Harbor Residential" not in page  # ben's episode
    reads = select(AuditEntry).where(AuditEntry.action == "read")
    assert [(e.entity, e.entity_id) for e in db.scalars(reads)] == [("person", "ana")]
    client.get("/me")
    db.rollback()  # end the test session's read snapshot to see the app's new commit
    assert db.scalar(select(func.count()).select_from(reads.subquery())) == 2
    assert verify_audit_chain(session=db).intact


def test_person_without_episodes_is_told_so(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None
) -> None:
    make_user("cy", "person", person_id="cy")
    assert "No episodes recorded for you yet." in login("cy").text


def test_clinician_sees_the_episodes_they_are_assigned_to(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None
) -> None:
    make_user("carla", "clinician", program_ids=["p1"], staff_id="st1")
    page = _text(login("carla").text)
    assert "ana" in page and "Riverside Outpatient" in page
    assert "ben" not in page  # p2, and ended
    assert "1 open episode, most urgent first." in page
    assert "Exit passed since 2024-04-11" in page  # planned 2024-04-10, page as of 2024-06-30


def test_a_clinician_without_a_staff_record_has_no_caseload(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None
) -> None:
    """Working in a program is not being assigned: the program's episodes stay closed to them."""
    make_user("carla", "clinician", program_ids=["p1"])
    page = _text(login("carla").text)
    assert "not linked to a staff record" in page and "ana" not in page


def test_manager_sees_capacity_census_and_waiting_referrals(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None
) -> None:
    make_user("mara", "manager", program_ids=["p1"])
    html = login("mara").text
    row = _text(html.split("Riverside Outpatient")[1].split("</tr>")[0])
    # as of the data's end (2024-06-01): capacity 2, census 1 (ana), occupancy 50 %,
    # one waiting referral (cy, since 2024-05-20, so 12 days)
    assert row.split()[-6:] == ["2", "1", "50", "%", "1", "12"]
    assert "Harbor Residential" not in html


@pytest.mark.parametrize("role", ["leader", "analyst"])
def test_leaders_and_analysts_see_suppressed_totals(
    role: str, client: TestClient, make_user: Callable[..., Any], login: Login, county: None
) -> None:
    make_user("lee", role)
    page = _text(login("lee").text)
    assert "People on record ≤10" in page
    assert "Open episodes ≤10" in page
    assert "Riverside" not in page and "<table" not in page  # no identified rows, no program lists


def test_council_sees_its_role_text_and_accounts_per_role(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("cora", "council_member")
    page = _text(login("cora").text)
    assert "lived experience" in page
    assert "council member Advisory council member (clinician or person with lived experience)" in page
    assert "lived experience): ideas, plans. ≤10" in page
    assert "admin Administrator: users and settings. 0" in page


def test_admin_sees_users_and_can_add_one(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("amir", "admin")
    page = login("amir").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "newlead",
            "display_name": "New Lead",
            "role": "leader",
            "password": "twelve chars at least",
        },
    )
    assert response.status_code == 201 and "Created user" in response.text and "newlead" in response.text
    refused = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "weak",
            "display_name": "W",
            "role": "leader",
            "password": "short",
        },
    )
    assert refused.status_code == 400 and "at least 12 characters" in refused.text


PAGES = sorted(set(HOME_PATHS.values()))


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_default_deny_every_other_home_is_forbidden(
    role: str, client: TestClient, make_user: Callable[..., Any], login: Login, county: None
) -> None:
    make_user("someone", role, **({"person_id": "cy"} if role == "person" else {}))
    login("someone")
    own = HOME_PATHS[Role(role)]
    for path in PAGES:
        status = client.get(path, follow_redirects=False).status_code
        shared = any(item.path == path for item in NAVIGATION[Role(role)])  # e.g. /skills for clinicians
        assert status == (200 if path == own or shared else 403), (role, path, status)


def test_clinician_cannot_open_the_admin_page(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("carla", "clinician")
    login("carla")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Not allowed" in response.text


def test_navigation_follows_the_role(client: TestClient, make_user: Callable[..., Any], login: Login) -> None:
    make_user("amir", "admin")
    nav = login("amir").text.split('aria-label="Main"')[1].split("</nav>")[0]
    assert 'href="/admin/users"' in nav and 'href="/api/v1/docs"' in nav
    assert 'href="/caseload"' not in nav


def test_navigation_hides_pages_this_app_does_not_serve(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    from onward.web.templating import serves

    make_user("lena", "leader")
    nav = login("lena").text.split('aria-label="Main"')[1].split("</nav>")[0]
    assert 'href="/system"' in nav
    assert ('href="/whatif"' in nav) == serves(client.app, "/whatif")  # type: ignore[arg-type]


def test_synthetic_banner_shows_only_for_a_demo_database(
    client: TestClient, make_user: Callable[..., Any], login: Login, db: Session
) -> None:
    from onward.services.users import ensure_demo_users

    assert "Synthetic data" not in client.get("/login").text
    ensure_demo_users(session=db)
    client.app.state.synthetic_cache = None  # type: ignore[attr-defined]
    assert "Synthetic data" in client.get("/login").text


def test_unknown_pages_get_an_html_404(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "Not found" in response.text
