"""The JSON API: health, sign-in, /me, program scopes per role, admin-only users, the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from onward.store.migrate import head_revision

PASSWORD = "a long test password 1"


def _sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/api/v1/session", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_health_reports_the_schema_revision_without_sign_in(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "revision": head_revision(),
        "head": head_revision(),
    }


def test_health_fails_when_the_schema_is_behind(client: TestClient, db: Session) -> None:
    db.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    db.commit()
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.json()["revision"] == "old" and "onward init" in response.json()["database"]


def test_openapi_lists_the_api_and_not_the_pages(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "Onward"
    assert set(spec["paths"]) >= {
        "/api/v1/health",
        "/api/v1/session",
        "/api/v1/me",
        "/api/v1/programs",
        "/api/v1/users",
    }
    assert not any(not path.startswith("/api/v1/") for path in spec["paths"])
    assert spec["paths"]["/api/v1/programs"]["get"]["tags"] == ["programs"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and "/api/v1/me" in docs.text and "cdn" not in docs.text.lower()


def test_me_needs_a_session_and_then_describes_the_user(
    client: TestClient, make_user: Callable[..., Any]
) -> None:
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").json()["error"] == "LoginRequired"
    make_user("carla", "clinician")
    body = _sign_in(client, "carla")
    assert body["user"]["role"] == "clinician" and body["csrf_token"]
    me = client.get("/api/v1/me").json()
    assert me["username"] == "carla" and me["home"] == "/caseload" and me["program_ids"] == []


def test_json_login_failure_is_a_401_json_error(client: TestClient, make_user: Callable[..., Any]) -> None:
    make_user("carla", "clinician")
    response = client.post("/api/v1/session", json={"username": "carla", "password": "wrong password"})
    assert response.status_code == 401
    assert response.json()["error"] == "AuthenticationError"


def test_programs_are_scoped_by_role(client: TestClient, make_user: Callable[..., Any], county: None) -> None:
    make_user("mara", "manager", program_ids=["p2"])
    make_user("lena", "leader")
    make_user("carla", "clinician", program_ids=["p1"])
    _sign_in(client, "mara")
    assert [p["program_id"] for p in client.get("/api/v1/programs").json()] == ["p2"]
    _sign_in(client, "lena")
    assert [p["program_id"] for p in client.get("/api/v1/programs").json()] == ["p1", "p2"]
    _sign_in(client, "carla")
    assert client.get("/api/v1/programs").status_code == 403


def test_users_are_for_admins_only(client: TestClient, make_user: Callable[..., Any]) -> None:
    make_user("amir", "admin")
    make_user("lena", "leader")
    _sign_in(client, "lena")
    denied = client.get("/api/v1/users")
    assert denied.status_code == 403 and denied.json()["error"] == "PermissionDeniedError"
    _sign_in(client, "amir")
    users = client.get("/api/v1/users").json()
    assert [u["username"] for u in users] == ["amir", "lena"]
    assert all("password_hash" not in u for u in users)


def test_sign_out_needs_the_csrf_header(client: TestClient, make_user: Callable[..., Any]) -> None:
    make_user("lena", "leader")
    token = _sign_in(client, "lena")["csrf_token"]
    assert client.delete("/api/v1/session").status_code == 403
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_responses_carry_security_headers(client: TestClient) -> None:
    headers = client.get("/login").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
