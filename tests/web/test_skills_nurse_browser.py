"""Real Chromium: a perinatal nurse goes from a visit's lesson to an EPDS screen with a positive item 10,
sees the risk flag, and makes a referral the parent agreed to; axe-core on every page, on a tablet."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.test_skills_browser import TABLET, axe_script, check_page, sign_in  # noqa: F401

from onward.store.tables import AuditEntry, Episode, Person, Program, Referral, Staff


@pytest.fixture
def clinic(db: Session, county: None) -> str:
    db.add(
        Program(
            program_id="per1", name="Mothers' Clinic", kind="perinatal", level_of_care=1, capacity_slots=0
        )
    )
    db.add(Person(person_id="dee", birth_year=1996, sex="female", postcode_prefix="981"))
    db.flush()
    db.add(Staff(staff_id="st9", role="clinician", program_id="per1", hours_per_week=40))
    db.flush()
    db.add(
        Episode(
            episode_id="e9",
            person_id="dee",
            program_id="per1",
            start_date=date.today() - timedelta(days=30),
            is_sud=False,
            primary_staff_id="st9",
        )
    )
    db.commit()
    return "per1"


@pytest.mark.browser
def test_nurse_from_a_visits_lesson_to_a_positive_item_10_and_a_consented_referral(
    live_server: str,
    make_user: Callable[..., Any],
    clinic: str,
    axe_script: Path,  # noqa: F811
    db: Session,
) -> None:
    from playwright.sync_api import sync_playwright

    make_user("nina", "clinician", program_ids=[clinic], staff_id="st9")
    due = date.today() + timedelta(weeks=28)  # week 12 today: the first prenatal visit
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=TABLET, bypass_csp=True).new_page()
            sign_in(page, live_server, "nina")
            page.wait_for_url(f"{live_server}/caseload")
            page.get_by_role("navigation", name="Main").get_by_role("link", name="Skills").click()
            page.get_by_role("link", name="New class or parent").click()
            page.get_by_role("textbox", name="Person id a parent").fill("dee")
            page.get_by_label("Due date").fill(due.isoformat())
            page.get_by_role("button", name="Plan the prenatal lessons").click()
            page.wait_for_url(f"{live_server}/skills/cohorts/*")
            cohort_url = page.url
            check_page(page, axe_script)
            page.get_by_role("link", name="Your mood matters too", exact=True).click()
            assert "EPDS screen" in page.get_by_role("main").inner_text()
            check_page(page, axe_script)
            page.get_by_role("link", name="Log this lesson").click()
            check_page(page, axe_script)
            page.get_by_role("button", name="Save: lesson taught").click()
            page.wait_for_url(f"{cohort_url}?logged=*")
            page.get_by_role("link", name="Screen with the EPDS").click()
            check_page(page, axe_script)
            # Boxes from the top: a low total, but item 10 (self-harm) answered "hardly ever".
            for item, box in zip(range(1, 11), (1, 1, 4, 1, 4, 4, 4, 4, 4, 3), strict=True):
                page.get_by_role("group", name=re.compile(rf"^Item {item}\b")).get_by_label(
                    f"box {box} (from the top)"
                ).check()
            page.get_by_role("button", name="Score and save").click()
            page.wait_for_url(f"{live_server}/skills/screens/*")
            alert = page.get_by_role("alert").inner_text()
            assert "Item 10 is positive: the risk flag is raised" in alert
            check_page(page, axe_script)
            page.get_by_label("Program").select_option("p1")
            page.get_by_label("The parent agrees to this referral").check()
            page.get_by_role("button", name="Make the referral").click()
            page.wait_for_url(f"{live_server}/skills/screens/*")
            assert "was made as urgent" in page.get_by_role("main").inner_text()
            check_page(page, axe_script)
            page.goto(f"{live_server}/caseload")
            row = page.get_by_role("row", name=re.compile(r"^dee"))
            assert "EPDS item 10 scored 1" in row.inner_text()  # the risk flag, at once
        finally:
            browser.close()
    db.rollback()
    referral = db.scalar(select(Referral).where(Referral.person_id == "dee"))
    assert referral is not None and referral.priority == "urgent" and referral.source == "perinatal"
    actions = list(db.scalars(select(AuditEntry.action).where(AuditEntry.entity == "perinatal_screen")))
    assert actions[:1] == ["create"] and "consent" in actions
