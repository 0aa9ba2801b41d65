"""Screenshots of each role's main pages on the demo county, taken in real Chromium (docs/screenshots.md).

    python scripts/screenshots.py [--out docs/screenshots] [--people 5000]

Builds the SYNTHETIC demo county in a temporary folder (`onward demo --no-serve`), adds one account per
role with a password known to this script (people through an invitation they accept, as in the app),
serves the app on a free loopback port, signs in as each role through the sign-in form and saves the
role's main pages as PNG. Everything shown is simulated data; the pages carry their synthetic banner.
"""

from __future__ import annotations

import argparse
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]
PASSWORD = "screenshot password " + secrets.token_urlsafe(8)
DESKTOP: Any = {"width": 1280, "height": 900}
PHONE: Any = {"width": 390, "height": 844}


def build_county(folder: Path, people: int) -> str:
    url = f"sqlite:///{(folder / 'onward.sqlite').as_posix()}"
    subprocess.run(
        [sys.executable, "-m", "onward", "demo", "--no-serve", "--people", str(people), "--db", url],
        check=True,
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return url


def add_accounts(url: str) -> dict[str, dict[str, str]]:
    """One account per role; returns role -> {username, and the records its pages open}."""
    from sqlalchemy import func, select

    from onward.security.access import operator
    from onward.services.accounts import accept_invitation, invite_person
    from onward.services.users import create_user
    from onward.store.engine import create_db_engine, session_factory
    from onward.store.tables import Episode, Measurement, Program, Staff, User

    engine = create_db_engine(url)
    actor, secret, now = operator("screenshots"), secrets.token_urlsafe(32), datetime.now(UTC)
    out: dict[str, dict[str, str]] = {}
    try:
        with session_factory(engine)() as s:
            open_by_program = func.count(Episode.episode_id)
            programs = list(
                s.scalars(
                    select(Program.program_id)
                    .join(Episode, (Episode.program_id == Program.program_id) & Episode.end_date.is_(None))
                    .group_by(Program.program_id)
                    .order_by(open_by_program.desc())
                    .limit(2)
                )
            )
            staff_id, staff_program = s.execute(
                select(Staff.staff_id, Staff.program_id)
                .join(Episode, (Episode.primary_staff_id == Staff.staff_id) & Episode.end_date.is_(None))
                .where(Staff.staff_id.not_in(select(User.staff_id).where(User.staff_id.is_not(None))))
                .group_by(Staff.staff_id, Staff.program_id)
                .order_by(func.count(Episode.episode_id).desc())
                .limit(1)
            ).one()
            episode = s.scalar(
                select(Episode.episode_id)
                .join(Measurement, Measurement.episode_id == Episode.episode_id)
                .where(Episode.primary_staff_id == staff_id, Episode.end_date.is_(None))
                .group_by(Episode.episode_id)
                .order_by(func.count(Measurement.measurement_id).desc())
                .limit(1)
            )
            person = s.scalar(select(Episode.person_id).where(Episode.episode_id == episode))
            for role, kwargs in (
                ("leader", {}),
                ("manager", {"program_ids": programs}),
                ("clinician", {"program_ids": [staff_program], "staff_id": staff_id}),
                ("council_member", {}),
                ("admin", {}),
                ("teacher", {"program_ids": [staff_program]}),
            ):
                username = f"shot-{role.replace('_', '-')}"
                create_user(
                    session=s,
                    username=username,
                    role=role,
                    password=PASSWORD,
                    display_name=username,
                    actor=actor,
                    **kwargs,
                )
                out[role] = {"username": username}
            link = invite_person(session=s, actor=actor, secret_key=secret, person_id=str(person), now=now)
            accept_invitation(
                session=s,
                secret_key=secret,
                token=link.token,
                username="shot-person",
                password=PASSWORD,
                now=now,
            )
            out["person"] = {"username": "shot-person"}
            out["manager"]["program"] = programs[0]
            out["clinician"]["episode"] = str(episode)
    finally:
        engine.dispose()
    return out


@contextmanager
def serve(url: str) -> Iterator[str]:
    import uvicorn

    from onward.settings import Settings
    from onward.web.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(Settings(database_url=url, environment="development"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def pages(accounts: dict[str, dict[str, str]]) -> dict[str, list[tuple[str, str, Any]]]:
    """role -> (file name, path, viewport) of its main pages."""
    program = accounts["manager"]["program"]
    episode = accounts["clinician"]["episode"]
    return {
        "leader": [
            ("leader-home", "/system", DESKTOP),
            ("leader-dashboard", "/dashboard", DESKTOP),
            ("leader-metric", "/metrics/recovery_rate", DESKTOP),
            ("leader-targets", "/targets", DESKTOP),
            ("leader-whatif", "/whatif", DESKTOP),
        ],
        "manager": [
            ("manager-home", "/programs", DESKTOP),
            ("manager-waiting", f"/programs/{program}/waiting", DESKTOP),
            ("manager-program-metrics", "/programs/metrics", DESKTOP),
        ],
        "clinician": [
            ("clinician-caseload", "/caseload", DESKTOP),
            ("clinician-episode", f"/episodes/{episode}", DESKTOP),
        ],
        "person": [("person-me", "/me", PHONE)],
        "council_member": [("council-home", "/council", DESKTOP)],
        "admin": [("admin-users", "/admin/users", DESKTOP)],
        "teacher": [
            ("teacher-skills", "/skills", DESKTOP),
            ("teacher-coverage", "/skills/coverage", DESKTOP),
        ],
    }


def shoot(base: str, accounts: dict[str, dict[str, str]], out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for role, shots in pages(accounts).items():
                phone = all(viewport is PHONE for _, _, viewport in shots)
                context = browser.new_context(
                    viewport=PHONE if phone else DESKTOP, is_mobile=phone, has_touch=phone
                )
                page = context.new_page()
                page.goto(f"{base}/login")
                page.get_by_label("Username").fill(accounts[role]["username"])
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_load_state()
                for name, path, viewport in shots:
                    page.set_viewport_size(viewport)
                    response = page.goto(f"{base}{path}")
                    if response is None or response.status != 200:
                        raise RuntimeError(
                            f"{path} as {role}: {response.status if response else 'no answer'}"
                        )
                    target = out / f"{name}.png"
                    page.screenshot(path=str(target), full_page=False)
                    written.append(target)
                context.close()
        finally:
            browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--people", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onward-screenshots-") as tmp:
        url = build_county(Path(tmp), args.people)
        accounts = add_accounts(url)
        with serve(url) as base:
            for path in shoot(base, accounts, args.out):
                print(path)


if __name__ == "__main__":
    main()
