"""A real Chromium: a clinician signs in and sees the caseload; is refused an unassigned person (404) and
let in through break-glass, with the reason in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.browser
def test_clinician_signs_in_and_sees_the_caseload(
    live_server: str, make_user: Callable[..., Any], county: None, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    make_user("carla", "clinician", program_ids=["p1"], staff_id="st1")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{live_server}/caseload")
            assert page.url.endswith("/login?next=/caseload")
            page.get_by_label("Username").fill("carla")
            page.get_by_label("Password").fill("a long test password 1")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{live_server}/caseload")
            assert page.get_by_role("heading", level=1).inner_text() == "Caseload"
            assert page.get_by_role("cell", name="Riverside Outpatient").is_visible()
            assert (
                page.get_by_role("navigation", name="Main").get_by_role("link", name="Caseload").is_visible()
            )
            # The stylesheet is served locally and applied: the header bar has the brand colour.
            header = page.locator("header.site-header")
            assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 85, 99)"
            page.screenshot(path=str(tmp_path / "caseload.png"), full_page=True)
        finally:
            browser.close()


@pytest.mark.browser
def test_break_glass_in_chromium(
    live_server: str, make_user: Callable[..., Any], county: None, db: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select

    from onward.store.tables import AuditEntry

    make_user("carla", "clinician", program_ids=["p1"], staff_id="st1")
    reason = "Ben arrived at the crisis unit tonight; need his medication history"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{live_server}/login")
            page.get_by_label("Username").fill("carla")
            page.get_by_label("Password").fill("a long test password 1")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{live_server}/caseload")
            refused = page.goto(f"{live_server}/people/ben")
            assert refused is not None and refused.status == 404
            assert "Harbor Residential" not in page.content()
            page.goto(f"{live_server}/caseload")
            page.get_by_role("link", name="Emergency access to someone else's record").click()
            page.get_by_label("Person id").fill("ben")
            page.get_by_label("Reason (required)").fill(reason)
            page.get_by_label("Your password, again").fill("a long test password 1")
            page.get_by_role("button", name="Open the record").click()
            page.wait_for_url(f"{live_server}/people/ben")
            assert page.get_by_role("cell", name="Harbor Residential").is_visible()
            assert "Emergency access" in page.get_by_role("note").inner_text()
            page.screenshot(path=str(tmp_path / "break-glass.png"), full_page=True)
        finally:
            browser.close()
    db.expire_all()
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "break_glass")).one()
    assert entry.person_id == "ben" and entry.outcome == "ok" and reason in (entry.detail or "")
