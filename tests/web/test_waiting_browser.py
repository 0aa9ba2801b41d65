"""Done when (issue 10): in real Chromium, a manager triages the waiting list, offers a slot and books
the first appointment; the pages pass axe-core (no serious or critical violation)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from onward.store.tables import Measurement, Person, Referral
from onward.store.tables_access import FirstAppointment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PASSWORD = "a long test password 1"


@pytest.fixture
def waiting_people(db: Session, county: None) -> None:
    """Beside cy (urgent, 2024): dora waiting long (routine) and eli (routine, PHQ-9 item 9 positive),
    both referred before today (the live server's care day is today)."""
    today = datetime.now(UTC).date()
    db.add_all(
        [Person(person_id=p, birth_year=1980, sex="female", postcode_prefix="981") for p in ("dora", "eli")]
    )
    db.flush()
    for rid, person, days_ago in (("r3", "dora", 60), ("r4", "eli", 3)):
        db.add(
            Referral(
                referral_id=rid,
                person_id=person,
                program_id="p1",
                referral_date=today - timedelta(days=days_ago),
                source="primary_care",
                priority="routine",
            )
        )
    db.add(
        Measurement(
            measurement_id="m-eli",
            person_id="eli",
            instrument="phq9",
            measured_on=today - timedelta(days=3),
            score=14,
            items="[2, 2, 2, 2, 1, 1, 2, 1, 1]",
        )
    )
    db.commit()


@pytest.mark.browser
def test_a_manager_triages_offers_a_slot_and_books_the_first_appointment(
    live_server: str,
    make_user: Callable[..., Any],
    waiting_people: None,
    axe_check: Callable[[Any, str], None],
    db: Session,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    make_user("mia", "manager", program_ids=["p1"])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(**DESKTOP).new_page()
            refused: list[str] = []
            page.on(
                "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
            )
            page.goto(f"{live_server}/login")
            page.get_by_label("Username").fill("mia")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state()
            page.get_by_role("link", name="waiting list").click()
            page.wait_for_url(f"{live_server}/programs/p1/waiting")
            rows = page.locator("table.waiting tbody tr")
            # triage: the urgent referral first, then the risk item, then the longest routine wait
            assert [rows.nth(i).locator("th a").inner_text() for i in range(3)] == ["cy", "eli", "dora"]
            assert "past-target" in (rows.nth(0).get_attribute("class") or "")  # urgent, waiting since 2024
            assert "risk item" in rows.nth(1).inner_text()
            assert "Expected wait" in page.locator(".access-summary").inner_text()
            axe_check(page, "the waiting list")
            page.get_by_role("button", name="Offer next slot").click()
            page.wait_for_load_state()
            assert page.get_by_role("status").inner_text() == "Slot offered."
            assert "offered" in page.locator("#r-r2").inner_text()
            page.get_by_role("link", name="Book first appointment for cy").click()
            page.wait_for_url(f"{live_server}/referrals/r2/waiting#book")
            axe_check(page, "the referral's actions")
            day = date.today() + timedelta(days=2)
            page.get_by_label("Clinician").select_option("st1")
            page.get_by_label("Date").fill(day.isoformat())
            page.get_by_label("Time").fill("09:30")
            page.get_by_role("button", name="Book first appointment").click()
            page.wait_for_url(f"{live_server}/programs/p1/waiting?done=booked#r-r2")
            assert f"first appointment {day.isoformat()} 09:30 with st1" in page.locator("#r-r2").inner_text()
            page.screenshot(path=str(tmp_path / "waiting-list.png"), full_page=True)

            phone = browser.new_context(**PHONE).new_page()
            phone.goto(page.url)  # same cookies are not shared across contexts: sign in again
            phone.get_by_label("Username").fill("mia")
            phone.get_by_label("Password").fill(PASSWORD)
            phone.get_by_role("button", name="Sign in").click()
            phone.goto(f"{live_server}/programs/p1/waiting")
            axe_check(phone, "the waiting list on a phone")
            assert not refused, refused
        finally:
            browser.close()
    db.rollback()
    booked = db.query(FirstAppointment).one()
    assert (booked.referral_id, booked.staff_id, booked.at_time) == ("r2", "st1", "09:30")


@pytest.mark.browser
def test_capacity_and_the_access_dashboard_pass_axe(
    live_server: str,
    make_user: Callable[..., Any],
    waiting_people: None,
    axe_check: Callable[[Any, str], None],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    make_user("mia", "manager", program_ids=["p1"])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for context in (DESKTOP, PHONE):
                page = browser.new_context(**context).new_page()
                page.goto(f"{live_server}/login")
                page.get_by_label("Username").fill("mia")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_load_state()
                page.goto(f"{live_server}/programs/p1/capacity")
                page.get_by_label("Hours a week moved from case management to treatment").fill("5")
                page.get_by_role("button", name="Show the estimate").click()
                page.wait_for_load_state()
                assert "move=5" in page.url
                axe_check(page, "the capacity page")
                page.goto(f"{live_server}/programs/access")
                assert page.get_by_role("heading", name="Access to treatment").is_visible()
                axe_check(page, "the access dashboard")
                page.screenshot(
                    path=str(tmp_path / f"access-{context['viewport']['width']}.png"), full_page=True
                )
                page.goto(f"{live_server}/referrals/r3/waiting")
                axe_check(page, "a referral's actions")
        finally:
            browser.close()
