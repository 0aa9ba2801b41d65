"""The story page: the status quo in measured figures and one click that runs the story's scenarios."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from tests.web.test_dashboards import _text, imported  # noqa: F401

from onward.web.routers.story import STORY

Login = Callable[..., Response]


def test_the_story_states_the_status_quo_and_offers_the_simulated_alternatives(
    client: TestClient,
    make_user: Callable[..., Any],
    login: Login,
    imported: str,  # noqa: F811
) -> None:
    make_user("lee", "leader")
    login("lee")
    assert 'href="/story"' in client.get("/system").text
    page = client.get("/story")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Today: people get stuck, and case management outweighs treatment" in text
    # measured: 1,200 case-management minutes per 2,580 treatment minutes in Q1 2024 (test_dashboards)
    assert "Case-management minutes per treatment minute 0.47" in text
    assert "period Q1 2024 (January-March)" in text
    assert "What would change: SIMULATED" in text and "has no lever in the simulator" in text
    for name in STORY:
        assert f'name="scenarios" value="{name}"' in page.text
    assert 'action="/whatif"' in page.text and 'name="csrf_token"' in page.text


def test_only_aggregates_readers_see_the_story(
    client: TestClient,
    make_user: Callable[..., Any],
    login: Login,
    imported: str,  # noqa: F811
) -> None:
    make_user("mo", "manager", program_ids=["op"])
    login("mo")
    assert client.get("/story").status_code == 403


def test_the_story_scenarios_run_and_are_labelled_simulated(
    client: TestClient,
    make_user: Callable[..., Any],
    login: Login,
    imported: str,  # noqa: F811
    monkeypatch: Any,
) -> None:
    from tests.web.test_whatif import _token, _wait

    from onward.web.routers import whatif

    monkeypatch.setattr(whatif, "WORKERS", 1)
    make_user("lee", "leader")
    login("lee")
    page = client.get("/story").text
    data = {
        "csrf_token": _token(page),
        "scenarios": list(STORY),
        "people": "10000",
        "years": "1",
        "runs": "1",
    }
    started = client.post("/whatif", data=data, follow_redirects=False)
    assert started.status_code == 303, started.text
    status = _wait(client, started.headers["location"] + "/status")
    assert status["status"] == "done" and status["simulated"] is True
    assert list(status["summary"]) == list(STORY)
    assert "SIMULATED" in client.get(started.headers["location"]).text
