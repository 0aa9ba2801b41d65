"""Printable packets: every lesson of a grade or track as this site teaches it, and the same page as PDF.

The packet is one HTML page with a print stylesheet (`web/static/skills.css`, `@media print`): a
teacher can print it from the browser. The PDF is that very HTML printed by headless Chromium through
Playwright, the engine the page is tested in, so the PDF and the browser's print preview agree. No
request leaves the process: Chromium is handed the rendered HTML and the stylesheets from the package's
static folder, and every other request is refused. docs/skills.md ("Printable packets") says why
Chromium rather than WeasyPrint or vl-convert.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from onward.errors import ConfigurationError, NotFoundError
from onward.model.curricula import load_curricula
from onward.model.perinatal_screening import SCREEN_POINTS
from onward.services.skills_review import lesson_in_use

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "chromium", "chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_ORIGIN = "http://onward.packet"


def packet(session: Session, curriculum_id: str) -> dict[str, Any]:
    """The packet's page context: the curriculum and its lessons in the versions taught here."""
    curricula = load_curricula()
    chosen = next((c for c in curricula.curricula if c.id == curriculum_id), None)
    if chosen is None:
        raise NotFoundError(f"no curriculum {curriculum_id!r}")
    lessons = [lesson_in_use(session, lesson.id) for lesson in chosen.lessons]
    return {"curriculum": chosen, "lessons": lessons, "screen_points": SCREEN_POINTS}


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise ConfigurationError("printing to PDF needs Chromium (e.g. apt-get install chromium)")


def html_to_pdf(html: bytes, *, static_dir: Path, path: str) -> bytes:
    """Print one rendered page to PDF (Letter, margins from the print stylesheet) without any network:
    the page and `/static/...` files are served from memory and disk; anything else is aborted."""
    try:
        from playwright.sync_api import Route, sync_playwright
    except ImportError:  # pragma: no cover - depends on the installation
        raise ConfigurationError("printing to PDF needs Playwright: pip install 'onward[pdf]'") from None
    executable = chromium_path()
    root = static_dir.resolve()

    def serve(route: Route) -> None:
        url = urlsplit(route.request.url)
        if route.request.url == _ORIGIN + path:
            route.fulfill(status=200, body=html, content_type="text/html; charset=utf-8")
            return
        if url.path.startswith("/static/"):  # the page links its stylesheets with the app's own origin
            file = (root / url.path.removeprefix("/static/")).resolve()
            if file.is_file() and file.is_relative_to(root):
                kind = "text/css" if file.suffix == ".css" else "application/octet-stream"
                route.fulfill(status=200, body=file.read_bytes(), content_type=kind)
                return
        route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", serve)
            page.goto(_ORIGIN + path, wait_until="load")
            page.emulate_media(media="print")
            pdf: bytes = page.pdf(format="Letter", print_background=True, prefer_css_page_size=True)
        finally:
            browser.close()
    return pdf
