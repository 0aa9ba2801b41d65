"""Every route of the app against the one policy table, for every role: a route without a rule fails
here, and so does a route that answers a role the table does not grant (or refuses one it does)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from onward.model.roles import Role
from onward.security.policy import ROUTES, Open, role_permissions, route_allows, route_key
from onward.web.routes import route_templates
from onward.web.sessions import CSRF_HEADER

#: Calls with side effects that would end the signed-in session or start heavy work; their rule is
#: still checked for every role that may not call them.
_NOT_CALLED_WHEN_ALLOWED = {"POST /logout", "DELETE /api/v1/session", "POST /whatif"}
_SAMPLE = {"person_id": "ana", "token": "not-a-real-token", "key": "admissions"}


def _path(template: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: _SAMPLE.get(m.group(1), "zz-unknown"), template)


@pytest.fixture
def accounts(make_user: Callable[..., Any], county: None) -> dict[str, str]:
    """One account per role: the person is ana, the clinician is ana's primary clinician (st1)."""
    extra: dict[str, dict[str, Any]] = {
        "person": {"person_id": "ana"},
        "clinician": {"staff_id": "st1", "program_ids": ["p1"]},
        "manager": {"program_ids": ["p1"]},
    }
    for role in Role:
        make_user(f"as-{role.value.replace('_', '-')}", role.value, **extra.get(role.value, {}))
    return {role.value: f"as-{role.value.replace('_', '-')}" for role in Role}


def _sign_in(client: TestClient, username: str) -> str:
    client.cookies.clear()
    response = client.post(
        "/api/v1/session", json={"username": username, "password": "a long test password 1"}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


def _call(client: TestClient, method: str, path: str, csrf: str | None) -> Response:
    headers = {CSRF_HEADER: csrf} if csrf and method != "GET" else {}
    response: Response = client.request(method, path, headers=headers, follow_redirects=False)
    return response


def _routes(client: TestClient) -> list[tuple[str, str]]:
    return list(route_templates(client.app))  # type: ignore[arg-type]


def test_every_route_has_a_rule_and_every_rule_a_route(client: TestClient) -> None:
    served = {route_key(m, p) for m, p in _routes(client)}
    missing = sorted(served - set(ROUTES))
    assert not missing, f"add these routes to onward.security.policy.ROUTES: {missing}"
    stale = sorted(set(ROUTES) - served)
    assert not stale, f"these rules name no route any more: {stale}"


def test_signed_out_visitors_reach_only_public_routes(client: TestClient) -> None:
    csrf = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
    for method, template in _routes(client):
        rule = ROUTES[route_key(method, template)]
        if rule is Open.PUBLIC:
            continue
        response = _call(client, method, _path(template), csrf)
        if template.startswith("/api/"):
            assert response.status_code == 401, (method, template, response.status_code)
        else:
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), (
                method,
                template,
                response.status_code,
            )


def _cases() -> Iterator[str]:
    yield from (r.value for r in Role)


@pytest.mark.parametrize("role", list(_cases()))
def test_each_role_reaches_exactly_the_routes_the_table_grants(
    role: str, client: TestClient, accounts: dict[str, str]
) -> None:
    csrf = _sign_in(client, accounts[role])
    permissions = role_permissions(role)
    wrong: list[tuple[str, str, int]] = []
    for method, template in _routes(client):
        key = route_key(method, template)
        allowed = route_allows(ROUTES[key], permissions, signed_in=True)
        if allowed and key in _NOT_CALLED_WHEN_ALLOWED:
            continue
        response = _call(client, method, _path(template), csrf)
        if allowed == (response.status_code == 403):
            wrong.append((method, template, response.status_code))
        if response.status_code == 401:  # a call ended the session (e.g. a role change): sign in again
            csrf = _sign_in(client, accounts[role])
    assert not wrong, f"{role}: answers that disagree with the policy table: {wrong}"


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("person", {"ana"}),
        ("clinician", {"ana"}),  # primary clinician of e1; ben's episode is st2's
        ("manager", {"ana", "cy"}),  # p1's episode and p1's waiting referral
        ("leader", set()),
        ("analyst", set()),
        ("council_member", set()),
        ("admin", set()),  # administrators never see clinical records
    ],
)
def test_a_record_you_may_not_see_is_not_found(
    role: str, visible: set[str], client: TestClient, accounts: dict[str, str]
) -> None:
    _sign_in(client, accounts[role])
    may_open = route_allows(ROUTES["GET /people/{person_id}"], role_permissions(role), signed_in=True)
    for person in ("ana", "ben", "cy", "nobody"):
        page = client.get(f"/people/{person}", follow_redirects=False).status_code
        api = client.get(f"/api/v1/people/{person}").status_code
        if not may_open:
            assert page == api == 403, (role, person)
        elif person in visible:
            assert page == api == 200, (role, person)
        else:
            assert page == api == 404, (role, person)  # also for a person who does not exist
