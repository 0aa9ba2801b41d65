"""The direction numbers published on their own pages on the leader's home, the targets page and the API:
prevention coverage and ideas implemented with their target, status in words, 12-month trend and links."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from tests.own_page_seed import seed_lessons_and_ideas
from tests.web.conftest import form_token
from tests.web.test_dashboards import _text, imported  # noqa: F401

from onward.web import direction_extras

Login = Callable[..., Response]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    direction_extras._CACHE.clear()
    yield
    direction_extras._CACHE.clear()


@pytest.fixture
def seeded(imported: str) -> str:  # noqa: F811
    seed_lessons_and_ideas(imported, "op")
    return imported


def _set(client: TestClient, metric: str, value: str, program: str = "system") -> Response:
    token = form_token(client.get("/targets").text)
    posted: Response = client.post(
        "/targets",
        data={"csrf_token": token, "metric": metric, "program": program, "value": value, "reason": "why"},
        follow_redirects=False,
    )
    return posted


def _card(text: str, title: str) -> str:
    return text.split("published on their own pages")[1].split(title)[1].split("Months of")[0]


def test_the_leader_sets_targets_and_the_home_shows_target_status_and_trend(
    client: TestClient, make_user: Callable[..., Any], login: Login, seeded: str
) -> None:
    make_user("lee", "leader")
    login("lee")
    before = _text(client.get("/system").text)
    assert "Prevention coverage (skills lessons) 70.7 %" in before
    assert "No target – no status" in _card(before, "Prevention coverage (skills lessons)")
    assert "no target register" not in before

    assert _set(client, "skills_coverage", "75").status_code == 303  # percent on the form
    assert _set(client, "voice_share_implemented", "40").status_code == 303
    refused = _set(client, "skills_coverage", "75", program="op")
    assert refused.status_code == 400 and "whole system only" in _text(refused.text)

    page = client.get("/system")
    assert page.status_code == 200
    text = _text(page.text)
    skills = _card(text, "Prevention coverage (skills lessons)")
    assert "70.7 % lessons delivered of lessons due, 2024 to 2024-03-31 (75 due)" in skills
    assert "Target at least 75.0 % ! at risk" in skills and "the target is inside the 95 % interval" in skills
    assert "Monthly trend: 2023-04 no data" in skills and "2024-02 50.0 %; 2024-03 suppressed" in skills
    ideas = _card(text, "Ideas implemented")
    assert "64.1 % accepted ideas decided in Q1 2024 (January-March), implemented by 2024-03-31" in ideas
    assert "Target at least 40.0 % ✓ on track" in ideas and "2024-02 50.0 %; 2024-03 suppressed" in ideas
    extras = page.text.split("published on their own pages")[1]
    assert extras.count('class="trend-target"') == 2  # each trend draws its target as a dashed line
    assert extras.count('class="trend-line"') >= 2
    assert 'href="/skills/coverage"' in extras
    assert 'href="/voice/metrics?from=2024-01-01&amp;to=2024-03-31"' in extras

    targets_page = _text(client.get("/targets").text)
    assert "Prevention coverage (skills lessons) The direction the system at least 75.0 %" in targets_page


def test_the_api_states_figure_period_target_and_status(
    client: TestClient, make_user: Callable[..., Any], login: Login, seeded: str
) -> None:
    make_user("lee", "leader")
    make_user("mo", "manager", program_ids=["op"])
    login("lee")
    assert _set(client, "skills_coverage", "90").status_code == 303
    answer = client.get("/api/v1/targets").json()
    assert {t["metric"] for t in answer["targets"]}.isdisjoint({"skills_coverage", "voice_share_implemented"})
    own = {t["metric"]: t for t in answer["own_page"]}
    skills, ideas = own["skills_coverage"], own["voice_share_implemented"]
    assert skills["status"] == "off_track" and skills["status_words"] == "off track"
    assert (
        skills["value"] == 53 / 75
        and skills["target"]["value"] == 0.9
        and skills["target"]["origin"] == "set"
    )
    assert skills["period"]["from"] == "2024-01-01" and skills["period"]["to"] == "2024-03-31"
    assert ideas["target"] is None and ideas["status"] == "none" and ideas["period"]["from"] == "2024-01-01"
    march = client.get("/api/v1/targets", params={"period": "2024-03"}).json()
    ideas_march = next(t for t in march["own_page"] if t["metric"] == "voice_share_implemented")
    assert ideas_march["suppressed"] is True and ideas_march["value"] is None  # 1 of 3 accepted in March

    client.post("/logout")
    login("mo")
    manager = client.get("/api/v1/targets").json()
    assert manager["own_page"] == []  # system figures, not a program's
    assert "skills_coverage" not in {t["metric"] for t in manager["targets"]}
