"""The what-if page: leaders start a small simulation, follow its progress, and see labelled results."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from onward.sim.montecarlo import SUMMARY_KEYS
from onward.sim.report import SERIES_CHARTS
from onward.web.routers import whatif

Login = Callable[..., Response]


@pytest.fixture(autouse=True)
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """One worker: a tiny run needs no process pool (the pool is tested in tests/sim/test_montecarlo.py)."""
    monkeypatch.setattr(whatif, "WORKERS", 1)


def _token(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _start(client: TestClient, **fields: Any) -> Response:
    page = client.get("/whatif")
    data = {
        "csrf_token": _token(page.text),
        "people": "10000",
        "years": "1",
        "runs": "3",
        "seed": "2",
        **fields,
    }
    response: Response = client.post("/whatif", data=data, follow_redirects=False)
    return response


def _wait(client: TestClient, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status: dict[str, Any] = client.get(url).json()
        if status["status"] in ("done", "failed"):
            return status
        time.sleep(0.1)
    raise AssertionError("the simulation did not finish in 60 s")


def test_leader_runs_scenarios_and_sees_simulated_results(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("lee", "leader")
    login("lee")
    page = client.get("/whatif")
    assert (
        page.status_code == 200
        and "built-to-be-left" in page.text
        and "Share of staff hours spent on case management" in page.text
    )
    started = _start(
        client, scenarios=["status-quo", "treatment-first", "my-levers"], lever_case_management_share="0.1"
    )
    assert started.status_code == 303
    run_url = started.headers["location"]
    progress = client.get(run_url)
    assert progress.status_code == 200 and "SIMULATED" in progress.text
    status = _wait(client, f"{run_url}/status")
    assert status["status"] == "done", status
    assert status["done"] == status["total"] == 9 and status["simulated"] is True
    assert list(status["summary"]) == ["status-quo", "treatment-first", "my-levers"]
    waits = status["summary"]["status-quo"]["mean_wait_days"]
    assert waits["low"] <= waits["mean"] <= waits["high"]
    done = client.get(run_url).text
    assert done.count("<svg") == len(SUMMARY_KEYS) + len(SERIES_CHARTS)
    assert "SIMULATED: People waiting" in done and "Mean wait, referral to admission" in done
    assert "2.5th–97.5th percentile" in done
    assert "my-levers" in client.get("/whatif").text  # listed under recent simulations


def test_same_seed_gives_the_same_summary(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("ana", "analyst")
    login("ana")
    a = _wait(client, _start(client, scenarios=["fast-return"]).headers["location"] + "/status")
    b = _wait(client, _start(client, scenarios=["fast-return"]).headers["location"] + "/status")
    assert a["summary"] == b["summary"]


def test_bad_levers_and_sizes_are_reported_on_the_form(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("lee", "leader")
    login("lee")
    bad = _start(client, scenarios=["my-levers"], lever_case_management_share="2")
    assert bad.status_code == 400 and "levers.case_management_share" in bad.text
    assert _start(client, scenarios=["status-quo"], runs="500").status_code == 400
    assert _start(client).status_code == 400  # no scenario picked


@pytest.mark.parametrize("role", ["clinician", "manager", "person", "council_member"])
def test_other_roles_may_not_simulate(
    client: TestClient, make_user: Callable[..., Any], login: Login, role: str
) -> None:
    make_user("someone", role)
    login("someone")
    assert client.get("/whatif").status_code == 403


def test_runs_are_private_to_their_owner(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("lee", "leader")
    make_user("ana", "analyst")
    login("lee")
    url = _start(client, scenarios=["status-quo"]).headers["location"]
    _wait(client, f"{url}/status")
    client.post("/logout", data={"csrf_token": _token(client.get("/whatif").text)})
    login("ana")
    assert client.get(f"{url}/status").status_code == 404


def test_the_prenatal_lever_shows_perinatal_depression_with_its_interval(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("lee", "leader")
    login("lee")
    started = _start(client, scenarios=["status-quo", "skills-prenatal"], years="3", people="20000")
    status = _wait(client, f"{started.headers['location']}/status")
    assert status["status"] == "done", status
    prevented = {name: s["perinatal_cases_prevented"] for name, s in status["summary"].items()}
    assert prevented["status-quo"] == {"mean": 0.0, "low": 0.0, "high": 0.0}
    assert prevented["skills-prenatal"]["mean"] > 0
    rate = status["summary"]["skills-prenatal"]["perinatal_depression_rate"]
    assert (
        rate["low"]
        <= rate["mean"]
        <= rate["high"]
        < status["summary"]["status-quo"]["perinatal_depression_rate"]["high"] + 0.05
    )
    page = client.get(started.headers["location"]).text
    assert "Perinatal depression prevented by the prenatal course" in page
    assert "Perinatal depression within 12 months of birth (share of births)" in page
