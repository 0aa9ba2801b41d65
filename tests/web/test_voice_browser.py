"""Real Chromium: a person in services shares an idea from a phone (similar ideas appear while typing),
the council refuses a decision without the required composition and then accepts it with a valid quorum,
plans it with a target metric, follows it to an evaluation; the author sees every step in the app and
receives every e-mail through a real SMTP server (aiosmtpd). axe-core on every page, under the real CSP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from onward.security.access import operator
from onward.services import voice_council, voice_ideas
from onward.store.tables import User

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
PASSWORD = "a long test password 1"
EMAIL = "pat@example.org"


@pytest.fixture
def voice_server(
    monkeypatch: pytest.MonkeyPatch, smtp_inbox: Any, request: pytest.FixtureRequest
) -> Iterator[str]:
    """The live app with SMTP pointing at the test's aiosmtpd server."""
    monkeypatch.setenv("ONWARD_SMTP_HOST", smtp_inbox.host)
    monkeypatch.setenv("ONWARD_SMTP_PORT", str(smtp_inbox.port))
    monkeypatch.setenv("ONWARD_SMTP_FROM", "council@onward.test")
    yield str(request.getfixturevalue("live_server"))


@pytest.fixture
def council(db: Session, county: None, make_user: Callable[..., User]) -> dict[str, str]:
    """Six seated members: three with lived experience (a co-chair among them), three clinicians; and an
    earlier idea for the similar-idea suggestion."""
    make_user("cora", "council_member")
    at = datetime.now(UTC)
    ids = {}
    for name, group, seat in (
        ("Lee Park", "lived_experience", "co_chair"),
        ("Lou Diaz", "lived_experience", "member"),
        ("Liv Moss", "lived_experience", "member"),
        ("Cal Reed", "clinician", "co_chair"),
        ("Cat Wong", "clinician", "member"),
        ("Cyd Fox", "clinician", "member"),
    ):
        row = voice_council.seat_member(
            session=db,
            actor=operator("t"),
            name=name,
            group=group,
            seat=seat,
            joined_on=date(2024, 1, 1),
            now=at,
        )
        ids[name] = row.member_id
    nina = make_user("nina", "clinician")
    voice_ideas.submit_idea(
        session=db,
        actor=voice_ideas_actor(nina),
        title="Evening appointments for people with jobs",
        problem="Appointments are only in working hours.",
        proposal="Open two evenings a week.",
        now=at,
    )
    return ids


def voice_ideas_actor(user: User) -> Any:
    from onward.security.access import Actor
    from onward.security.policy import role_permissions

    return Actor(
        user_id=user.user_id, username=user.username, role=user.role, permissions=role_permissions(user.role)
    )


def _sign_in(page: Any, server: str, username: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _fits_a_phone(page: Any) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide on a 390 px phone"


@pytest.mark.browser
def test_an_idea_from_a_phone_through_the_council_to_an_evaluation(
    voice_server: str,
    make_user: Callable[..., User],
    council: dict[str, str],
    axe_check: Callable[[Any, str], None],
    smtp_inbox: Any,
) -> None:
    from playwright.sync_api import expect, sync_playwright

    make_user("pat", "person")
    server = voice_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            phone = browser.new_context(**PHONE).new_page()
            _sign_in(phone, server, "pat")
            phone.get_by_role("navigation", name="Main").get_by_role("link", name="Ideas").click()
            phone.wait_for_url(f"{server}/voice")
            axe_check(phone, "the ideas page on a phone")
            _fits_a_phone(phone)
            phone.get_by_role("link", name="Notifications").click()
            phone.get_by_label("E-mail address").fill(EMAIL)
            phone.get_by_role("button", name="Save").click()
            phone.goto(f"{server}/voice/ideas/new")
            phone.get_by_label("Your idea in a few words").fill("Evening groups")
            phone.get_by_label("What is the problem?").fill(
                "I work days and the groups are all in the morning."
            )
            # similar ideas while typing: voice.js asks the database's full-text search
            expect(phone.locator("#similar")).to_contain_text("Evening appointments for people with jobs")
            axe_check(phone, "the idea form with similar ideas")
            _fits_a_phone(phone)
            phone.get_by_label("What would work better?").fill("Run a skills group on two evenings a week.")
            phone.get_by_role("button", name="Share my idea").click()
            phone.wait_for_url(f"{server}/voice/ideas/*")
            idea_url = phone.url
            expect(phone.get_by_role("main")).to_contain_text("from a person in services")
            axe_check(phone, "the idea page on a phone")
            _fits_a_phone(phone)

            desk = browser.new_context(**DESKTOP).new_page()
            _sign_in(desk, server, "cora")
            desk.wait_for_url(f"{server}/council")
            expect(desk.get_by_role("main")).to_contain_text("The council meets the rule.")
            axe_check(desk, "the council home")
            desk.get_by_role("link", name="Evening groups", exact=True).click()
            desk.get_by_role("button", name="Take up for review").click()
            # a quorum, but three clinicians and one member with lived experience: refused, with the reason
            for name in ("Cal Reed", "Cat Wong", "Cyd Fox", "Liv Moss"):
                desk.get_by_label(name, exact=False).check()
            desk.get_by_label("Public reason").fill("Evening groups fit people who work.")
            desk.get_by_role("button", name="Record the decision").click()
            error = desk.get_by_role("alert")
            expect(error).to_contain_text(
                "Decision refused: those present: 1 of 4 have lived experience; "
                "the rule asks for at least 1/3"
            )
            axe_check(desk, "a refused decision")
            # a valid quorum: a majority, two with lived experience (a co-chair) and two clinicians
            desk.get_by_label("Cyd Fox", exact=False).uncheck()
            desk.get_by_label("Lee Park", exact=False).check()
            desk.get_by_role("button", name="Record the decision").click()
            expect(desk.get_by_role("main")).to_contain_text("The council accepted this idea")
            desk.get_by_label("Who leads it").fill("Riverside Outpatient manager")
            desk.get_by_label("Milestones, one a line").fill(
                "2025-01-15 First evening group\n2025-03-01 Second group"
            )
            desk.get_by_label("Target metric").select_option("admissions")
            desk.get_by_label("Baseline from").fill("2024-01-01")
            desk.get_by_label("Baseline to").fill("2024-06-30")
            desk.get_by_label("Target value").fill("3")
            desk.get_by_label("Scenario").fill("treatment-first")
            desk.get_by_label("Simulated value").fill("2.4")
            desk.get_by_label("Interval low").fill("1.8")
            desk.get_by_label("Interval high").fill("3.1")
            desk.get_by_role("button", name="Save the plan").click()
            plan = desk.locator(".plan")
            expect(plan).to_contain_text("target 3, baseline 1 measured 2024-01-01 to 2024-06-30")
            expect(plan).to_contain_text("SIMULATED")
            axe_check(desk, "the plan")
            desk.get_by_label("Done (%)").fill("50")
            desk.get_by_role("button", name="Record progress").click()
            desk.get_by_role("button", name="Mark implemented").click()
            desk.get_by_label("After, from").fill("2023-06-01")
            desk.get_by_label("After, to").fill("2024-06-30")
            desk.get_by_role("button", name="Record the evaluation").click()
            expect(desk.locator(".result")).to_contain_text("1 before")
            expect(desk.locator(".result")).to_contain_text("2 after")
            expect(desk.get_by_role("main")).to_contain_text("not shown to be caused")
            axe_check(desk, "the evaluated idea")

            phone.goto(f"{server}/voice/notifications")
            notices = phone.locator(".notice")
            expect(notices).to_have_count(6)
            text = phone.get_by_role("main").inner_text()
            for step in (
                "reviewing",
                "accepted this idea",
                "Planned:",
                "50 % done",
                "Implemented",
                "Evaluated:",
            ):
                assert step in text, step
            axe_check(phone, "notifications on a phone")
            _fits_a_phone(phone)
            phone.goto(idea_url)
            expect(phone.get_by_role("main")).to_contain_text("not shown to be caused")
            _fits_a_phone(phone)
            phone.goto(f"{server}/voice/results")
            expect(phone.get_by_role("main")).to_contain_text("Evening groups")
            axe_check(phone, "You said, we did")
            _fits_a_phone(phone)
        finally:
            browser.close()
    mails = smtp_inbox.to(EMAIL)
    assert len(mails) == 6
    assert all(m["From"] == "council@onward.test" for m in mails)
    bodies = [m.get_content() for m in mails]
    assert "The council accepted this idea: Evening groups fit people who work." in bodies[1]
    assert "Evaluated: admissions was 1 before and 2 after" in bodies[-1]
