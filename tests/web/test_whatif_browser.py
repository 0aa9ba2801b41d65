"""Real Chromium: the what-if run page follows its simulation to the results under the app's own CSP.

The page polls the run's status from a script file (`static/whatif.js`): an inline script would be refused
by the Content-Security-Policy (script-src 'self') and, with scripting on, the <noscript> refresh does not
apply either, so the page would wait for ever. This test fails if the script is refused or missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

from onward.web.routers import whatif


@pytest.mark.browser
def test_a_leader_follows_a_run_to_its_results(
    live_server: str,
    make_user: Callable[..., Any],
    axe_check: Callable[[Any, str], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setattr(whatif, "WORKERS", 1)  # a tiny run needs no process pool
    make_user("lena", "leader")
    refused: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on(
                "console",
                lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
            )
            page.goto(f"{live_server}/login?next=/whatif")
            page.get_by_label("Username").fill("lena")
            page.get_by_label("Password").fill("a long test password 1")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{live_server}/whatif")
            page.locator("#people").select_option("10000")
            page.locator("#years").fill("1")
            page.locator("#runs").fill("2")
            page.get_by_role("button", name="Run the simulation").click()
            page.wait_for_url("**/whatif/runs/**")
            # The script polls and reloads once the run is done: the results appear without a click.
            page.get_by_role("heading", name="SIMULATED: headline figures, mean [95 % interval]").wait_for(
                timeout=90_000
            )
            assert page.locator(".whatif-charts figure.chart svg").count() > 0
            axe_check(page, "what-if results")
        finally:
            browser.close()
    assert not refused, refused
