"""Fixtures for the web tests: a migrated SQLite file, a small county, an app with a movable clock."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from argon2 import PasswordHasher
from httpx import Response
from sqlalchemy.orm import Session
from starlette.exceptions import StarletteDeprecationWarning

from onward.security import passwords
from onward.security.access import operator
from onward.services.accounts import accept_invitation, invite_person
from onward.services.users import create_user
from onward.settings import PLACEHOLDER_SECRET, Settings
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import Episode, Measurement, Person, Program, Referral, Service, Staff, User
from onward.web.app import create_app

# Starlette 1.x warns that its TestClient wants the `httpx2` package; plain httpx still works.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PASSWORD = "a long test password 1"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2id parameters: these tests are about accounts; test_passwords checks the real cost."""
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


class Clock:
    """The app's clock in tests: starts at a fixed moment and moves only when told."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    upgrade_database(sqlite_url)
    return sqlite_url


@pytest.fixture
def db(db_url: str) -> Iterator[Session]:
    engine = create_db_engine(db_url)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def county(db: Session) -> None:
    """Two programs, three people: an open episode with services and measures, an ended one, one waiting."""
    db.add_all(
        [
            Program(
                program_id="p1",
                name="Riverside Outpatient",
                kind="outpatient",
                level_of_care=1,
                capacity_slots=2,
            ),
            Program(
                program_id="p2",
                name="Harbor Residential",
                kind="residential",
                level_of_care=4,
                capacity_slots=10,
            ),
            Person(person_id="ana", birth_year=1985, sex="female", postcode_prefix="981"),
            Person(person_id="ben", birth_year=1990, sex="male", postcode_prefix="981"),
            Person(person_id="cy", birth_year=2001, sex="other", postcode_prefix="982"),
        ]
    )
    db.flush()
    db.add_all(
        [
            Staff(staff_id="st1", role="clinician", program_id="p1", hours_per_week=40),
            Staff(staff_id="st2", role="clinician", program_id="p2", hours_per_week=40),
        ]
    )
    db.flush()
    db.add_all(
        [
            Referral(
                referral_id="r1",
                person_id="ana",
                program_id="p1",
                referral_date=date(2024, 1, 2),
                source="primary_care",
                priority="routine",
            ),
            Referral(
                referral_id="r2",
                person_id="cy",
                program_id="p1",
                referral_date=date(2024, 5, 20),
                source="self",
                priority="urgent",
            ),
        ]
    )
    db.flush()
    db.add_all(
        [
            Episode(
                episode_id="e1",
                person_id="ana",
                program_id="p1",
                referral_id="r1",
                start_date=date(2024, 1, 10),
                planned_end_date=date(2024, 4, 10),
                is_sud=False,
                primary_staff_id="st1",
            ),
            Episode(
                episode_id="e2",
                person_id="ben",
                program_id="p2",
                start_date=date(2023, 6, 1),
                end_date=date(2023, 12, 1),
                end_reason="graduated",
                is_sud=True,
                primary_staff_id="st2",
            ),
        ]
    )
    db.flush()
    db.add_all(
        [
            Service(
                service_id="s1",
                person_id="ana",
                episode_id="e1",
                service_date=date(2024, 1, 17),
                code="90834",
                minutes=45,
                category="treatment",
            ),
            Service(
                service_id="s2",
                person_id="ana",
                episode_id="e1",
                service_date=date(2024, 2, 1),
                code="90834",
                minutes=45,
                category="treatment",
            ),
            Measurement(
                measurement_id="m1",
                person_id="ana",
                episode_id="e1",
                instrument="phq9",
                measured_on=date(2024, 1, 10),
                score=17,
                items="[2, 2, 2, 2, 2, 2, 2, 2, 1]",
            ),
            Measurement(
                measurement_id="m2",
                person_id="ana",
                episode_id="e1",
                instrument="phq9",
                measured_on=date(2024, 6, 1),
                score=8,
                items="[1, 1, 1, 1, 1, 1, 1, 1, 0]",
            ),
        ]
    )
    db.commit()


@pytest.fixture
def make_user(db: Session) -> Callable[..., User]:
    """Create an account with the test password; keyword arguments go to create_user.

    A person's account is made the only way one can be: an invitation for `person_id`, accepted by
    the person with their own username and password."""

    def make(username: str, role: str, **kwargs: object) -> User:
        if role == "person":
            if "person_id" not in kwargs:  # a person of their own, for tests about roles only
                kwargs["person_id"] = f"p-{username}"
                db.add(
                    Person(person_id=f"p-{username}", birth_year=1990, sex="unknown", postcode_prefix="000")
                )
                db.commit()
            link = invite_person(
                session=db,
                actor=operator("test"),
                secret_key=PLACEHOLDER_SECRET,
                person_id=str(kwargs["person_id"]),
                now=datetime.now(UTC),
            )
            return accept_invitation(
                session=db,
                secret_key=PLACEHOLDER_SECRET,
                token=link.token,
                username=username,
                password=PASSWORD,
                now=datetime.now(UTC),
            )
        return create_user(
            session=db,
            username=username,
            role=role,
            password=PASSWORD,
            display_name=username.title(),
            **kwargs,  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 6, 30, 9, 0, tzinfo=UTC))


@pytest.fixture
def client(db_url: str, clock: Clock) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db_url, environment="development"))
    app.state.clock = clock
    with TestClient(app) as test_client:
        yield test_client


def form_token(html: str) -> str:
    """The CSRF token a rendered form carries."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


@pytest.fixture
def login(client: TestClient) -> Callable[..., Response]:
    """Sign in through the login form like a browser; returns the final response."""

    def sign_in(username: str, password: str = PASSWORD) -> Response:
        token = form_token(client.get("/login").text)
        response: Response = client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        return response

    return sign_in


# --- Real Chromium (Playwright) and axe-core ---------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = Path(__file__).parent / "axe" / "axe.min.js"
#: axe-core impacts that fail a page (the issue's bar: no serious or critical violation).
AXE_FAILING = ("serious", "critical")


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


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations of impact serious or critical on the page as it stands (WCAG 2.x A/AA and
    best-practice rules), each with its rule id, impact, help text and the failing elements."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern, so the
        # pages are tested under their real policy (no inline script is added to them).
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in AXE_FAILING
    ]


@pytest.fixture
def axe_check() -> Callable[[Any, str], None]:
    """`axe_check(page, "what")`: fail when axe-core finds a serious or critical violation on a
    Playwright page (in real Chromium, under the page's own content-security policy)."""

    def check(page: Any, what: str) -> None:
        found = axe_violations(page)
        assert not found, f"axe-core on {what} ({page.url}):\n" + json.dumps(found, indent=2)

    return check
