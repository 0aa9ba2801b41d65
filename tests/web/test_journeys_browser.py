"""Each role's main journey from sign-in, in real Chromium (the clinician's, the person's and the
teacher's are in test_browser.py, test_pathways_browser.py and test_skills_browser.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

from onward.web import whatif_links

PASSWORD = "a long test password 1"


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(autouse=True)
def no_calibration(monkeypatch: pytest.MonkeyPatch) -> None:
    """The what-if page starts a calibration; here it fails at once (the fit has its own tests)."""

    def refuse(*_: Any, **__: Any) -> Any:
        raise RuntimeError("not in this test")

    monkeypatch.setattr(whatif_links, "calibrate_event_log", refuse)


def _sign_in(browser: Any, base: str, username: str, home: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{home}")
    return page


@pytest.mark.browser
def test_a_leader_goes_from_a_direction_number_to_its_programs_and_to_what_if(
    live_server: str, make_user: Callable[..., Any], county: None, browser: Any
) -> None:
    make_user("lena", "leader")
    page = _sign_in(browser, live_server, "lena", "/system")
    assert page.get_by_role("heading", name="The direction: is the system going the right way?").is_visible()
    card = page.locator("article.score-card").filter(has_text="Graduation rate")
    assert "Target" in card.inner_text() or "No target" in card.inner_text()
    card.get_by_role("link", name=re.compile("By program and month")).click()
    page.wait_for_url(re.compile(r".*/metrics/graduation_rate\?period=.*"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Graduation rate")
    assert "Riverside Outpatient" in page.content()  # the breakdown by program
    page.go_back()
    page.locator("article.score-card").filter(has_text="Graduation rate").get_by_role(
        "link", name=re.compile("What if")
    ).click()
    page.wait_for_url(re.compile(r".*/whatif\?metric=graduation_rate"))
    text = page.inner_text("main")
    assert "Graduation rate is" in text and "built-to-be-left" in text
    page.get_by_role("link", name="Targets").first.click()
    page.wait_for_url(f"{live_server}/targets")
    assert page.get_by_role("heading", name="Set a target").is_visible()


@pytest.mark.browser
def test_a_manager_sees_the_ship_and_proposes_a_target(
    live_server: str, make_user: Callable[..., Any], county: None, browser: Any
) -> None:
    make_user("mara", "manager", program_ids=["p1"])
    page = _sign_in(browser, live_server, "mara", "/programs")
    assert page.get_by_role("heading", name="Running the ship").is_visible()
    assert page.get_by_role("heading", name="Riverside Outpatient").is_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Targets").click()
    page.wait_for_url(f"{live_server}/targets")
    page.get_by_label("Metric", exact=True).select_option("graduation_rate")
    page.get_by_label("For", exact=True).select_option("p1")
    page.locator("#t-value").fill("60")
    page.get_by_label("Why", exact=True).fill("our graduates")
    page.get_by_role("button", name="Propose target").click()
    page.wait_for_url(f"{live_server}/targets")
    waiting = page.get_by_role("region", name="Proposals waiting").inner_text()
    assert "Graduation rate" in waiting and "our graduates" in waiting


@pytest.mark.browser
@pytest.mark.parametrize(
    ("role", "home", "heading"),
    [
        ("analyst", "/system", "System"),
        ("council_member", "/council", "Advisory council"),
        ("admin", "/admin/users", None),
    ],
)
def test_other_roles_land_on_their_home(
    role: str,
    home: str,
    heading: str | None,
    live_server: str,
    make_user: Callable[..., Any],
    county: None,
    browser: Any,
) -> None:
    make_user(f"user-{role}".replace("_", "-"), role)
    page = _sign_in(browser, live_server, f"user-{role}".replace("_", "-"), home)
    if heading:
        assert page.get_by_role("heading", level=1).inner_text() == heading
    if role == "analyst":
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
        page.wait_for_url(f"{live_server}/dashboard")
        assert "Period" in page.inner_text("main")
