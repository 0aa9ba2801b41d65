"""Real Chromium: a teacher goes from a grade's lesson to logging it and sees coverage move, on a tablet
and a phone; every page passes axe-core with no serious or critical violation."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

from onward.store.tables import Program

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "a long test password 1"
TABLET: Any = {"width": 820, "height": 1180}
PHONE: Any = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core from npm (package.json at the repository root), installed on first use."""
    if not AXE.is_file():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True, timeout=300)
    return AXE


def check_page(page: Any, axe: Path) -> None:
    """No serious or critical axe-core violation, and nothing wider than the screen."""
    page.add_script_tag(path=str(axe))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary)}))"
    )
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert not serious, f"{page.url}: {serious}"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the screen"


def sign_in(page: Any, server: str, username: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def school(db: Session, county: None) -> Iterator[str]:
    db.add(
        Program(
            program_id="sch1", name="Lincoln Elementary", kind="school", level_of_care=0, capacity_slots=0
        )
    )
    db.commit()
    yield "sch1"


@pytest.mark.browser
def test_teacher_from_lesson_to_logged_delivery_and_coverage(
    live_server: str,
    make_user: Callable[..., Any],
    school: str,
    axe_script: Path,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    make_user("tess", "teacher", program_ids=[school])
    today = date.today()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=TABLET, bypass_csp=True)  # CSP would block injected axe
            page = context.new_page()
            sign_in(page, live_server, "tess")
            page.wait_for_url(f"{live_server}/skills")
            check_page(page, axe_script)
            page.get_by_role("link", name="New class or parent").click()
            check_page(page, axe_script)
            page.get_by_label("Class name").fill("Room 4B")
            page.get_by_label("Grade").select_option("4")
            page.get_by_label("Term starts").fill((today - timedelta(days=40)).isoformat())
            page.get_by_label("Term ends").fill((today + timedelta(days=60)).isoformat())
            page.get_by_label("Students").fill("Ada L.\nBo M.\nCam N.\nDee O.\nEli P.\nFay Q.")
            page.get_by_role("button", name="Create class and schedule").click()
            page.wait_for_url(f"{live_server}/skills/cohorts/*")
            cohort_url = page.url
            check_page(page, axe_script)
            before = page.locator("#coverage-value").inner_text()
            assert before == "0 %"
            # From the grade's first lesson (emotion regulation) to its log page.
            page.get_by_role("link", name="Thoughts change feelings", exact=True).click()
            assert page.get_by_role("heading", level=1).inner_text() == "Thoughts change feelings"
            check_page(page, axe_script)
            started = time.monotonic()
            page.get_by_role("link", name="Log this lesson").click()
            check_page(page, axe_script)
            boxes = page.get_by_role("checkbox")
            assert boxes.count() == 6 and all(boxes.nth(i).is_checked() for i in range(6))
            page.get_by_label("Cam N.").uncheck()
            page.get_by_role("button", name="Save: lesson taught").click()
            page.wait_for_url(f"{cohort_url}?logged=*")
            seconds = time.monotonic() - started
            assert seconds < 60, f"logging took {seconds:.1f} s"
            assert page.get_by_role("status").inner_text().startswith("Lesson logged")
            after = page.locator("#coverage-value").inner_text()
            assert after != before and after.endswith("%") and int(after.split()[0]) > 0
            page.screenshot(path=str(tmp_path / "cohort-tablet.png"), full_page=True)
            page.get_by_role("link", name="Skills coverage").click()
            check_page(page, axe_script)
            assert page.get_by_role("row", name="Grade 4").is_visible()
            page.set_viewport_size(PHONE)
            for url in (
                cohort_url,
                f"{live_server}/skills/lessons/grade-4-er-1",
                f"{live_server}/skills/coverage",
            ):
                page.goto(url)
                check_page(page, axe_script)
            page.goto(f"{live_server}/skills/packets/grade-4")
            check_page(page, axe_script)
        finally:
            browser.close()
