"""What-if one click away from a direction number: the form pre-filled for the metric, a background
calibration on this county cached per data version, plain-language levers with sources, and the
simulated figure beside the target on the results."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from tests.web.test_dashboards import _text, imported  # noqa: F401
from tests.web.test_whatif import _token, _wait

from onward.sim.calibrate import Calibration, FittedParameter
from onward.web import whatif_links
from onward.web.routers import whatif

Login = Callable[..., Response]


@pytest.fixture(autouse=True)
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whatif, "WORKERS", 1)


@pytest.fixture
def fake_fit(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The calibration's fit stands in for `onward calibrate` (tested in tests/sim/test_calibrate.py): a
    doubled dropout, returned when a gate opens, so the page is seen while it runs and after."""
    calls: list[int] = []
    gate = threading.Event()

    def fit(log: Any, **_: Any) -> Calibration:
        calls.append(1)
        gate.wait(10)
        return Calibration(
            parameters=[FittedParameter("dropout", 0.2, 0.1, 0.01, 0.5, "NHS Talking Therapies 2023/24")],
            targets=[],
            iterations=1,
            people=50_000,
            years=1.0,
            seed=1,
            evaluations=2,
            overrides={"dropout": 0.2},
        )

    fit.gate = gate  # type: ignore[attr-defined]
    monkeypatch.setattr(whatif_links, "calibrate_event_log", fit)
    return calls


def test_a_direction_number_opens_a_calibrated_what_if_and_results_sit_beside_the_target(
    client: TestClient,
    make_user: Callable[..., Any],
    login: Login,
    imported: str,  # noqa: F811
    fake_fit: list[int],
) -> None:
    make_user("lee", "leader")
    login("lee")
    home = client.get("/system").text
    assert 'href="/whatif?metric=graduation_rate"' in home
    page = client.get("/whatif", params={"metric": "graduation_rate"})
    assert page.status_code == 200
    text = _text(page.text)
    assert "Graduation rate is" in text and "Q1 2024 (January-March)" in text
    assert "Calibrating the simulator on this county's own data in the background" in text
    assert "Graduate people after this many stable recovered months" in text  # plain words
    assert "Source: Lever (docs/simulation.md: discharge policy)" in text  # with the lever's source
    for name in ("status-quo", "built-to-be-left", "treatment-first"):
        assert f'value="{name}" checked' in page.text
    whatif_links.calibrate_event_log.gate.set()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while "Calibrated on this county's data" not in client.get("/whatif?metric=graduation_rate").text:
        assert time.monotonic() < deadline, "the calibration did not finish"
        time.sleep(0.05)
    assert fake_fit == [1]  # once per data version: the second visit reuses it
    ready = client.get("/whatif", params={"metric": "graduation_rate"}).text
    assert 'name="calibrated" value="1" checked' in ready and "dropout" in ready
    started = client.post(
        "/whatif",
        data={
            "csrf_token": _token(ready),
            "people": "10000",
            "years": "1",
            "runs": "2",
            "seed": "2",
            "scenarios": ["status-quo", "built-to-be-left"],
            "metric": "graduation_rate",
            "calibrated": "1",
        },
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    run_url = started.headers["location"]
    status = _wait(client, f"{run_url}/status")
    assert status["status"] == "done", status
    assert list(status["summary"]) == ["status-quo (calibrated)", "built-to-be-left (calibrated)"]
    done = _text(client.get(run_url).text)
    assert "Beside the target Measured: Graduation rate is" in done
    assert "status-quo (calibrated):" in done and "SIMULATED" in done


def test_prevention_coverage_opens_the_skills_scenarios_beside_its_own_figure(
    client: TestClient,
    make_user: Callable[..., Any],
    login: Login,
    imported: str,  # noqa: F811
    fake_fit: list[int],
) -> None:
    """A number published on its own page opens the what-if too when the simulator has levers for it;
    ideas implemented has none, so it offers no what-if link."""
    make_user("lee", "leader")
    login("lee")
    home = client.get("/system").text
    assert 'href="/whatif?metric=skills_coverage"' in home
    assert 'href="/whatif?metric=voice_share_implemented"' not in home
    page = client.get("/whatif", params={"metric": "skills_coverage"})
    assert page.status_code == 200
    text = _text(page.text)
    assert "Prevention coverage (skills lessons) is" in text and "no target is set" in text
    for name in ("status-quo", "skills-schools", "skills-prenatal"):
        assert f'value="{name}" checked' in page.text
    whatif_links.calibrate_event_log.gate.set()  # type: ignore[attr-defined]


def test_an_unknown_metric_opens_the_plain_form(
    client: TestClient,
    make_user: Callable[..., Any],
    login: Login,
    imported: str,  # noqa: F811
) -> None:
    make_user("lee", "leader")
    login("lee")
    page = client.get("/whatif", params={"metric": "admissions"})
    assert page.status_code == 200 and "Beside the target" not in page.text and "is <strong>" not in page.text
