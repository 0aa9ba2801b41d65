"""A real Chromium signs in as a clinician and sees the caseload page (issue 2, item 9)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from onward.settings import Settings
from onward.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_server(db_url: str) -> Iterator[str]:
    """The app under uvicorn in a thread, on a free port; stopped after the test."""
    port = _free_port()
    app = create_app(Settings(database_url=db_url, environment="development"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.browser
def test_clinician_signs_in_and_sees_the_caseload(
    live_server: str, make_user: Callable[..., Any], county: None, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    make_user("carla", "clinician", program_ids=["p1"])
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
