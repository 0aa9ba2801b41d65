"""Every page of every role in real Chromium: axe-core finds no serious or critical violation; the
keyboard reaches the navigation and the content; person-facing pages fit a 390-pixel-wide phone.

The pages are read from the policy (`onward.security.policy.ROUTES`): every GET page a role may open,
its path parameters filled from the test county. Pages whose parameters need a record the county does not
hold (a one-time link, a simulation run, a cohort) are listed in UNFILLED with the test that covers them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS

from onward.model.roles import Role
from onward.security.policy import ROUTES, role_permissions, route_allows

PASSWORD = "a long test password 1"

#: Path parameters filled from the `county` fixture (and the shipped curricula).
FILLED: dict[str, str] = {
    "person_id": "ana",
    "episode_id": "e1",
    "program_id": "p1",
    "referral_id": "r2",
    "key": "recovery_rate",
    "curriculum_id": "prenatal",
    "lesson_id": "prenatal-er-1",
}
#: Pages with a parameter the county has no record for, and where their accessibility is tested.
UNFILLED = (
    "token",  # one-time links: tests/web/test_pathways_browser.py (the answer page on a phone)
    "job_id",  # what-if runs: made by a POST
    "cohort_id",  # skills cohorts: tests/web/test_skills_browser.py
    "session_id",
    "screen_id",
    "version_id",
    "target_id",
    "idea_id",
    "campaign_id",
    "plan_id",
    "member_id",
    "user_id",
    "grant_id",
)
#: Users of the test county, one per role.
USERS: dict[Role, dict[str, Any]] = {
    Role.PERSON: {"person_id": "ana"},
    Role.CLINICIAN: {"program_ids": ["p1"], "staff_id": "st1"},
    Role.MANAGER: {"program_ids": ["p1"]},
    Role.LEADER: {},
    Role.ANALYST: {},
    Role.COUNCIL_MEMBER: {},
    Role.ADMIN: {},
    Role.TEACHER: {"program_ids": ["p1"]},
}


def pages_of(role: Role) -> list[str]:
    """Every GET page the role may open, parameters filled; JSON, PDF and sign-in pages left out."""
    permissions = role_permissions(role.value)
    out = []
    for key, rule in ROUTES.items():
        method, path = key.split(" ", 1)
        if method != "GET" or path.startswith("/api/") or path.endswith((".pdf", "/status")) or path == "/":
            continue
        if not route_allows(rule, permissions, signed_in=True) or rule is not None and str(rule) == "public":
            continue
        names = re.findall(r"{(\w+)}", path)
        if any(n not in FILLED for n in names):
            assert all(n in FILLED or n in UNFILLED for n in names), f"fill or list {names} of {path}"
            continue
        out.append(re.sub(r"{(\w+)}", lambda m: FILLED[m.group(1)], path))
    return sorted(out)


def public_pages() -> list[str]:
    """Pages anyone may open without parameters (sign-in, public results)."""
    return sorted(
        key.split(" ", 1)[1]
        for key, rule in ROUTES.items()
        if key.startswith("GET /")
        and str(rule) == "public"
        and "{" not in key
        and not key.startswith("GET /api/")
        and key != "GET /"
    )


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{username} did not sign in"


@pytest.mark.browser
def test_every_page_of_every_role_passes_axe(
    live_server: str,
    make_user: Callable[..., Any],
    county: None,
    axe_check: Callable[[Any, str], None],
) -> None:
    from playwright.sync_api import sync_playwright

    for role, extra in USERS.items():
        make_user(f"a11y-{role.value}".replace("_", "-"), role.value, **extra)
    checked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            anonymous = browser.new_page()
            for path in public_pages():
                anonymous.goto(f"{live_server}{path}")
                axe_check(anonymous, f"{path} signed out")
                checked.append(f"anonymous {path}")
            for role in USERS:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                _sign_in(page, live_server, f"a11y-{role.value}".replace("_", "-"))
                for path in pages_of(role):
                    response = page.goto(f"{live_server}{path}")
                    assert response is not None and response.status < 500, (role, path, response)
                    if not response.headers.get("content-type", "").startswith("text/html"):
                        continue  # a JSON helper of a page's script, not a page
                    axe_check(page, f"{path} as {role.value} (HTTP {response.status})")
                    checked.append(f"{role.value} {path}")
                context.close()
        finally:
            browser.close()
    assert len(checked) >= 40, checked  # every role's pages, not a handful


@pytest.mark.browser
def test_the_keyboard_reaches_the_navigation_and_the_content(
    live_server: str, make_user: Callable[..., Any], county: None
) -> None:
    from playwright.sync_api import sync_playwright

    make_user("kb-leader", "leader")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _sign_in(page, live_server, "kb-leader")
            page.goto(f"{live_server}/system")
            reached: list[str] = []
            for _ in range(60):
                page.keyboard.press("Tab")
                focused = page.evaluate(
                    "() => { const e = document.activeElement; return e ? "
                    "(e.getAttribute('href') || e.tagName) + '|' + getComputedStyle(e).outlineStyle : '' }"
                )
                reached.append(focused)
            targets = [r.split("|")[0] for r in reached]
            for href in ("/dashboard", "/targets", "/whatif"):
                assert href in targets, (href, targets)
            assert any(t.startswith("/metrics/") for t in targets), targets  # a direction card's link
            # Focus is visible: no focused link has its outline switched off.
            assert all(r.split("|")[1] != "none" for r in reached if r.split("|")[0].startswith("/")), reached
            # Enter on a focused card link opens it.
            page.goto(f"{live_server}/system")
            for _ in range(60):
                page.keyboard.press("Tab")
                if str(page.evaluate("() => document.activeElement.getAttribute('href') || ''")).startswith(
                    "/metrics/"
                ):
                    break
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(r".*/metrics/.*"))
        finally:
            browser.close()


@pytest.mark.browser
def test_person_facing_pages_fit_a_phone(
    live_server: str, make_user: Callable[..., Any], county: None
) -> None:
    from playwright.sync_api import sync_playwright

    make_user("phone-person", "person", person_id="ana")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            page.goto(f"{live_server}/login")
            wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 0, "the sign-in page scrolls sideways on a phone"
            _sign_in(page, live_server, "phone-person")
            for path in [*pages_of(Role.PERSON), "/account"]:
                page.goto(f"{live_server}{path}")
                wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
                assert wide <= 0, f"{path} is {wide} px wider than a 390-px phone"
        finally:
            browser.close()


def test_the_pages_walked_cover_every_role() -> None:
    walked = {role: pages_of(role) for role in USERS}
    assert {"/system", "/dashboard", "/targets", "/whatif", "/metrics/recovery_rate"} <= set(
        walked[Role.LEADER]
    )
    assert {"/programs", "/programs/metrics", "/targets", "/programs/p1/waiting"} <= set(walked[Role.MANAGER])
    assert {"/caseload", "/episodes/e1", "/people/ana"} <= set(walked[Role.CLINICIAN])
    assert {"/me", "/me/accounting", "/account"} <= set(walked[Role.PERSON])
    assert "/council" in walked[Role.COUNCIL_MEMBER] and "/admin/users" in walked[Role.ADMIN]
    print({role.value: pages for role, pages in walked.items()})
