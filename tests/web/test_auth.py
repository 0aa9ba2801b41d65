"""Sign-in, lockout, throttling, CSRF, session renewal and idle timeout, through the real app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.services.users import LOCKOUT, MAX_FAILED_LOGINS
from onward.store.tables import User
from onward.web.app import SESSION_COOKIE
from onward.web.throttle import LoginThrottle

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


def test_a_new_session_is_issued_at_login(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("amir", "admin")
    before = client.get("/login")
    anonymous_cookie = client.cookies.get(SESSION_COOKIE)
    anonymous_token = before.text.split('name="csrf_token" value="')[1].split('"')[0]
    login("amir")
    assert client.cookies.get(SESSION_COOKIE) != anonymous_cookie
    page = client.get("/admin/users").text
    assert anonymous_token not in page  # the CSRF token was renewed too


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


def test_account_locks_after_repeated_failures_and_unlocks_later(
    client: TestClient, make_user: Callable[..., Any], login: Login, db: Session, clock: Any
) -> None:
    make_user("mara", "manager")
    for _ in range(MAX_FAILED_LOGINS):
        assert login("mara", "wrong password here").status_code == 401
    assert login("mara").status_code == 401  # the right password does not open a locked account
    db.expire_all()
    user = db.scalar(select(User).where(User.username == "mara"))
    assert user is not None and user.locked_until is not None
    clock.advance(seconds=LOCKOUT.total_seconds() + 1)
    response = login("mara")
    assert response.status_code == 200 and response.url.path == "/programs"


def test_too_many_attempts_from_one_client_are_throttled(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    client.app.state.login_throttle = LoginThrottle(max_attempts=3)  # type: ignore[attr-defined]
    make_user("anna", "analyst")
    for name in ("x1", "x2", "x3"):
        assert login(name, "whatever password").status_code == 401
    refused = login("anna")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0


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


def test_logout_ends_the_session(client: TestClient, make_user: Callable[..., Any], login: Login) -> None:
    make_user("lena", "leader")
    page = login("lena")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/system", follow_redirects=False).status_code == 303


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


def test_a_deactivated_account_loses_its_session(
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
    settings = Settings(database_url=db_url, environment="production", secret_key="k" * 48)
    with TestClient(create_app(settings), base_url="https://testserver") as secure_client:
        response = secure_client.post(
            "/api/v1/session", json={"username": "lena", "password": "a long test password 1"}
        )
    assert response.status_code == 200
    assert "; secure" in response.headers["set-cookie"].lower()
