"""Sign-in, throttling, CSRF, server-side sessions (renewal, timeouts, revocation), through the real app."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from onward.store.tables import User
from onward.web.sessions import CSRF_COOKIE, SESSION_COOKIE

Login = Callable[..., Response]


def test_anonymous_visitors_are_sent_to_the_login_form(client: TestClient) -> None:
    response = client.get("/caseload", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/caseload"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_login_lands_on_the_role_home_and_sets_a_safe_cookie(
    client: TestClient, make_user: Callable[..., Any], county: None
) -> None:
    make_user("carla", "clinician", program_ids=["p1"])
    token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post(
        "/login",
        data={"username": "Carla", "password": "a long test password 1", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/caseload"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # development mode serves plain http on localhost
    assert client.get("/").headers.get("location") is None  # followed to the home page
    assert client.get("/", follow_redirects=False).headers["location"] == "/caseload"


def test_a_new_session_is_issued_at_every_login(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("amir", "admin")
    before = client.get("/login")
    assert client.cookies.get(SESSION_COOKIE) is None  # signed out: no session, only a CSRF cookie
    assert client.cookies.get(CSRF_COOKIE)
    anonymous_token = before.text.split('name="csrf_token" value="')[1].split('"')[0]
    login("amir")
    first = client.cookies.get(SESSION_COOKIE)
    page = client.get("/admin/users").text
    assert anonymous_token not in page  # the CSRF token is the session's own
    client.cookies.delete(SESSION_COOKIE)
    login("amir")
    assert client.cookies.get(SESSION_COOKIE) not in (None, first)


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("lena", "leader")
    wrong_password = login("lena", "not the password at all")
    no_such_user = login("nobody", "not the password at all")
    assert wrong_password.status_code == no_such_user.status_code == 401
    assert "incorrect" in wrong_password.text
    assert wrong_password.text.count("alert error") == 1
    assert client.get("/system", follow_redirects=False).status_code == 303


def test_repeated_failures_pause_the_account_and_it_opens_again_later(
    client: TestClient, make_user: Callable[..., Any], login: Login, clock: Any
) -> None:
    make_user("mara", "manager")
    for _ in range(5):
        assert login("mara", "wrong password here").status_code == 401
    assert login("mara").status_code == 401  # the right password does not open a paused account
    clock.advance(minutes=2, seconds=1)  # the refused attempt doubled the pause to two minutes
    response = login("mara")
    assert response.status_code == 200 and response.url.path == "/programs"


def test_too_many_failures_from_one_address_are_throttled(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("anna", "analyst")
    for n in range(30):
        assert login(f"x{n}", "whatever password").status_code == 401
    refused = login("anna")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0


def test_colleagues_behind_one_address_all_sign_in(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    for n in range(25):
        make_user(f"colleague{n}", "leader")
    for n in range(25):
        client.cookies.clear()
        assert login(f"colleague{n}").url.path == "/system"


def test_a_form_post_without_the_csrf_token_is_refused(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("amir", "admin")
    login("amir")
    data = {
        "username": "newbie",
        "display_name": "New",
        "role": "leader",
        "password": "another long password",
    }
    assert client.post("/admin/users", data=data).status_code == 403
    assert client.post("/admin/users", data={**data, "csrf_token": "forged"}).status_code == 403
    assert "newbie" not in client.get("/admin/users").text
    login_without_token = client.post(
        "/login", data={"username": "amir", "password": "a long test password 1"}
    )
    assert login_without_token.status_code == 403


def test_an_idle_session_ends(
    client: TestClient, make_user: Callable[..., Any], login: Login, clock: Any
) -> None:
    make_user("lena", "leader")
    login("lena")
    idle = client.app.state.settings.session_idle_minutes  # type: ignore[attr-defined]
    clock.advance(minutes=idle - 1)
    assert client.get("/system", follow_redirects=False).status_code == 200  # activity resets the idle clock
    clock.advance(minutes=idle - 1)
    assert client.get("/system", follow_redirects=False).status_code == 200
    clock.advance(minutes=idle + 1)
    assert client.get("/system", follow_redirects=False).status_code == 303


def test_a_session_ends_after_twelve_hours_even_when_active(
    client: TestClient, make_user: Callable[..., Any], login: Login, clock: Any
) -> None:
    make_user("lena", "leader")
    login("lena")
    for _ in range(12 * 4):  # a request every 15 minutes for 12 hours
        clock.advance(minutes=15)
        if client.get("/system", follow_redirects=False).status_code != 200:
            break
    assert clock.now.hour == 21  # 09:00 + 12 h: it lasted all day
    clock.advance(minutes=15)
    assert client.get("/system", follow_redirects=False).status_code == 303


def test_logout_ends_the_session_on_the_server(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("lena", "leader")
    page = login("lena")
    copied = client.cookies.get(SESSION_COOKIE)
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/system", follow_redirects=False).status_code == 303
    client.cookies.set(SESSION_COOKIE, copied or "")  # a copy of the old cookie is worthless now
    assert client.get("/system", follow_redirects=False).status_code == 303


def test_users_see_and_end_their_own_sessions(
    client: TestClient, make_user: Callable[..., Any], login: Login, db_url: str, clock: Any
) -> None:
    from onward.settings import Settings
    from onward.web.app import create_app

    make_user("lena", "leader")
    login("lena")
    other_app = create_app(Settings(database_url=db_url, environment="development"))
    other_app.state.clock = clock
    with TestClient(other_app) as laptop:
        token = laptop.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        laptop.post(
            "/login", data={"username": "lena", "password": "a long test password 1", "csrf_token": token}
        )
        assert laptop.get("/system", follow_redirects=False).status_code == 200
        listed = client.get("/api/v1/me/sessions")
        sessions = listed.json()
        assert listed.status_code == 200, listed.text
        assert len(sessions) == 2 and sum(s["current"] for s in sessions) == 1
        other = next(s for s in sessions if not s["current"])
        page = client.get("/account")
        assert other["session_id"] in page.text
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post(f"/account/sessions/{other['session_id']}/end", data={"csrf_token": csrf})
        assert laptop.get("/system", follow_redirects=False).status_code == 303  # ended at once
        assert client.get("/system", follow_redirects=False).status_code == 200


def test_login_only_returns_to_local_pages(client: TestClient, make_user: Callable[..., Any]) -> None:
    make_user("lena", "leader")
    for target, expected in (
        ("/system", "/system"),
        ("https://evil.example/", "/system"),
        ("//evil", "/system"),
    ):
        client.cookies.clear()
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post(
            "/login",
            data={
                "username": "lena",
                "password": "a long test password 1",
                "csrf_token": token,
                "next": target,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == expected


def test_a_deactivated_account_loses_its_session_at_once(
    client: TestClient, make_user: Callable[..., Any], login: Login, db: Session
) -> None:
    user = make_user("lena", "leader")
    login("lena")
    db.get(User, user.user_id).is_active = False  # type: ignore[union-attr]
    db.commit()
    assert client.get("/system", follow_redirects=False).status_code == 303


def test_production_cookies_are_secure(db_url: str, make_user: Callable[..., Any]) -> None:
    from onward.settings import Settings
    from onward.web.app import create_app

    make_user("lena", "leader")
    settings = Settings(database_url=db_url, environment="production", secret_key=secrets.token_hex(32))
    with TestClient(create_app(settings), base_url="https://testserver") as secure_client:
        response = secure_client.post(
            "/api/v1/session", json={"username": "lena", "password": "a long test password 1"}
        )
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("__host-onward_session=") and "; secure" in cookie and "; path=/" in cookie


def test_every_response_has_a_strict_content_security_policy_and_a_request_id(client: TestClient) -> None:
    response = client.get("/login")
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "script-src 'self'" in policy and "style-src 'self'" in policy
    assert len(response.headers["x-request-id"]) == 16
    assert "<script>" not in response.text and " style=" not in response.text
