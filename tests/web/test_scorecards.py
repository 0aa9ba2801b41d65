"""The role homes: the leader's direction numbers for the system, the manager's ship numbers for their
programs, each with period, target, status in words, trend and drill-down links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from tests.web.test_dashboards import _text, imported  # noqa: F401

from onward.metrics.registry import METRICS
from onward.web.scorecards import DIRECTION_KEYS, SHIP_KEYS, trend_svg

Login = Callable[..., Response]


def test_every_metric_is_on_one_home() -> None:
    assert set(DIRECTION_KEYS) | set(SHIP_KEYS) == set(METRICS)
    assert not set(DIRECTION_KEYS) & set(SHIP_KEYS)
    assert "recovery_rate" in DIRECTION_KEYS and "days_to_first_treatment_median" in SHIP_KEYS


def test_the_leader_home_shows_the_direction_with_period_target_and_status(
    client: TestClient,
    make_user: Callable[..., Any],
    login: Login,
    imported: str,  # noqa: F811
) -> None:
    make_user("lee", "leader")
    login("lee")
    page = client.get("/system")
    assert page.status_code == 200
    text = _text(page.text)
    assert "The direction: is the system going the right way?" in text
    assert "Period Q1 2024 (January-March) (2024-01-01 to 2024-03-31) · figures as of 2024-03-31" in text
    # Recovery: nobody measured twice, so no figure and no status; its default target is shown.
    assert "Recovery rate no data Target at least 50.0 % (public standard) – no status" in text
    assert 'href="/metrics/recovery_rate?period=2024-Q1"' in page.text  # drill-down to program and month
    assert 'href="/metrics/recovery_rate?period=2024-03"' in page.text
    assert 'href="/whatif?metric=recovery_rate"' in page.text
    assert "Running the ship" not in text  # the leader's home is the direction only
    # prevention coverage and ideas implemented, published on their own pages (no lessons or ideas here)
    assert "Prevention coverage (skills lessons) no data lessons delivered of lessons due, 2024" in text
    assert "Ideas implemented no data accepted ideas decided in Q1 2024 (January-March)" in text


def test_the_manager_home_shows_the_ship_of_their_programs_only(
    client: TestClient,
    make_user: Callable[..., Any],
    login: Login,
    imported: str,  # noqa: F811
) -> None:
    make_user("mo", "manager", program_ids=["op"])
    login("mo")
    page = client.get("/programs")
    assert page.status_code == 200
    text = _text(page.text)
    ship = text.split("Running the ship")[1]
    assert "North Outpatient" in ship and "Harbor Inpatient" not in ship
    assert "Period Q1 2024 (January-March)" in ship
    # op's waits are shown or suppressed, never compared when hidden; the default 14-day target is listed
    wait_row = ship.split("Days to first treatment (median)")[1].split("Days to first treatment (90th")[0]
    assert "at most 14 days" in wait_row
    assert ("✓ on track" in wait_row) or ("suppressed" in wait_row and "– no status" in wait_row)
    assert 'href="/programs/metrics?period=2024-03"' in page.text
    assert "The direction" not in text


def test_a_trend_line_breaks_at_a_hidden_month_and_draws_the_target() -> None:
    definition = METRICS["recovery_rate"]
    rows: list[dict[str, Any]] = [
        {"month": "2024-01", "recovery_rate": 0.4, "suppressed": []},
        {"month": "2024-02", "recovery_rate": None, "suppressed": ["recovery_rate"]},
        {"month": "2024-03", "recovery_rate": 0.5, "suppressed": []},
        {"month": "2024-04", "recovery_rate": 0.6, "suppressed": []},
    ]
    svg = str(trend_svg(definition, rows, 0.5))
    assert svg.count('class="trend-line"') == 2  # a gap at the hidden month
    assert 'class="trend-target"' in svg and svg.count("<circle") == 3
    assert str(trend_svg(definition, rows[:2], 0.5)) == ""  # one month: nothing to draw
