"""Done when (issue 8): in real Chromium, a clinician sends a PHQ-9 link, the person answers it on a
phone-sized page with a positive item 9, and the clinician's caseload then shows the risk flag first.
Every pathway page passes axe-core with no serious or critical violation, at desktop and phone width."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from onward.store.tables import Episode, Person

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
PASSWORD = "a long test password 1"


@pytest.fixture
def second_episode(db: Session, county: None) -> None:
    """dee, also on st1's caseload, whose exit passed before ana's: first on the list until a risk answer."""
    db.add(Person(person_id="dee", birth_year=1979, sex="female", postcode_prefix="981"))
    db.flush()
    db.add(
        Episode(
            episode_id="e3",
            person_id="dee",
            program_id="p1",
            primary_staff_id="st1",
            start_date=date(2023, 11, 1),
            planned_end_date=date(2024, 2, 1),
            is_sud=False,
        )
    )
    db.commit()


def _no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways on a phone ({width} px)"


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.mark.browser
def test_a_phq9_link_answered_on_a_phone_puts_risk_first_on_the_caseload(
    live_server: str,
    make_user: Callable[..., Any],
    second_episode: None,
    axe_check: Callable[[Any, str], None],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    make_user("carla", "clinician", program_ids=["p1"], staff_id="st1")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            clinician = browser.new_context(**DESKTOP).new_page()
            refused: list[str] = []
            clinician.on(
                "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
            )
            _sign_in(clinician, live_server, "carla")
            clinician.goto(f"{live_server}/caseload")
            rows = clinician.locator("table.caseload tbody tr")
            assert rows.nth(0).get_by_role("link").inner_text() == "dee"  # exit passed first, before any risk
            axe_check(clinician, "the caseload")
            clinician.get_by_role("link", name="ana").click()
            clinician.wait_for_url(f"{live_server}/episodes/e1")
            assert clinician.locator("svg.trend").count() == 1
            axe_check(clinician, "the episode page")
            clinician.get_by_text("Send a questionnaire link").click()
            clinician.get_by_label("Questionnaire").select_option("phq9")
            clinician.get_by_role("button", name="Create link").click()
            link = clinician.get_by_label("Link").input_value()
            assert "/answer/" in link
            axe_check(clinician, "the link page")

            phone = browser.new_context(**PHONE).new_page()
            phone.goto(link)
            assert phone.get_by_role("heading", level=1).inner_text() == "Patient Health Questionnaire-9"
            _no_horizontal_scroll(phone)
            axe_check(phone, "the questionnaire on a phone")
            questions = phone.locator("fieldset.question")
            assert questions.count() == 9
            for i in range(8):
                questions.nth(i).get_by_label("Several days").check()
            questions.nth(8).get_by_label("More than half the days").check()
            phone.screenshot(path=str(tmp_path / "phq9-phone.png"), full_page=True)
            phone.get_by_role("button", name="Send my answers").tap()
            alert = phone.get_by_role("alert")
            assert "988" in alert.inner_text() and "Please get support now" in alert.inner_text()
            _no_horizontal_scroll(phone)
            axe_check(phone, "the thank-you page after a risk answer")
            phone.goto(link)
            assert phone.get_by_role("heading", level=1).inner_text() == "This link has already been used"
            axe_check(phone, "a used link")

            clinician.goto(f"{live_server}/caseload")
            first = rows.nth(0)
            assert first.get_by_role("link").inner_text() == "ana"
            assert first.locator("li.flag").nth(0).locator(".flag-name").inner_text() == "Risk"
            clinician.screenshot(path=str(tmp_path / "caseload-risk.png"), full_page=True)
            assert not refused, refused
        finally:
            browser.close()


@pytest.mark.browser
def test_pathway_pages_pass_axe_at_phone_width(
    live_server: str,
    make_user: Callable[..., Any],
    second_episode: None,
    axe_check: Callable[[Any, str], None],
) -> None:
    from playwright.sync_api import sync_playwright

    make_user("carla", "clinician", program_ids=["p1"], staff_id="st1")
    make_user("mara", "manager", program_ids=["p1"])
    make_user("ana", "person", person_id="ana")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for username, paths in (
                ("carla", ["/caseload", "/caseload?flag=exit_passed", "/episodes/e1"]),
                ("mara", ["/referrals/r2/start", "/episodes/e1"]),
                ("ana", ["/me"]),
            ):
                page = browser.new_context(**PHONE).new_page()
                _sign_in(page, live_server, username)
                for path in paths:
                    page.goto(f"{live_server}{path}")
                    _no_horizontal_scroll(page)
                    axe_check(page, f"{path} as {username}")
            page = browser.new_context(**PHONE).new_page()
            page.goto(f"{live_server}/answer/not-a-link")
            axe_check(page, "an unknown link")
        finally:
            browser.close()


@pytest.mark.browser
def test_the_axe_helper_fails_a_page_with_a_serious_violation(axe_check: Callable[[Any, str], None]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content('<html lang="en"><title>t</title><main><img src="x.png"><p>ok</p></main></html>')
            with pytest.raises(AssertionError, match='"rule": "image-alt"'):
                axe_check(page, "a page with an image without text")
            page.set_content(
                '<html lang="en"><title>t</title><main><img src="x.png" alt="A chart"></main></html>'
            )
            axe_check(page, "the same page, fixed")
        finally:
            browser.close()
