"""The pathway pages: the caseload with flags (risk first), the episode page and its actions, the
self-report link answered without an account, and the person's own progress page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from onward.store.tables import AuditEntry, Episode, Measurement, Referral
from onward.store.tables_pathways import ReferralPathway

Login = Callable[..., Response]
PHQ9_RISK = {f"item{i}": "1" for i in range(1, 9)} | {"item9": "2"}


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token in the page"
    return found.group(1)


def _no_inline_code(html: str) -> None:
    """CSP forbids inline script and style: the pathway pages use neither."""
    assert ' style="' not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", html)


def test_caseload_lists_flags_most_urgent_first_with_sparklines(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None, db: Session
) -> None:
    make_user("carla", "clinician", program_ids=["p1"], staff_id="st1")
    html = login("carla").text
    page = _text(html)
    _no_inline_code(html)
    # e1 (ana): planned exit 2024-04-10 passed; last measure 2024-06-01 below caseness after 17 (one each).
    assert "Exit passed since 2024-04-11" in page
    assert 'class="spark"' in html and 'aria-label="PHQ-9: 17, 8 (latest 2024-06-01)"' in html
    assert client.get("/caseload?flag=risk").text.count('href="/episodes/e1"') == 0
    assert client.get("/caseload?flag=exit_passed").text.count('href="/episodes/e1"') == 1
    db.expire_all()
    assert db.scalars(select(AuditEntry.entity).where(AuditEntry.action == "read")).all()[-1] == "caseload"


def test_the_episode_page_shows_charts_and_its_actions_record_care(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None, db: Session
) -> None:
    make_user("carla", "clinician", program_ids=["p1"], staff_id="st1")
    login("carla")
    html = client.get("/episodes/e1").text
    _no_inline_code(html)
    assert 'class="trend"' in html and "caseness 10" in html and "no reliable change (±5)" in html
    assert 'class="timeline"' in html and "2 treatment services" in html
    token = _token(html)
    # A measure with a positive item 9: recorded, and risk comes first on the caseload.
    done = client.post(
        "/episodes/e1/measurements", data={"csrf_token": token, "instrument": "phq9", **PHQ9_RISK}
    )
    assert done.status_code == 200 and "Measurement recorded." in done.text
    assert "Risk" in _text(client.get("/caseload").text).split("Exit passed")[0]
    # Refusals name the field and keep the page.
    refused = client.post(
        "/episodes/e1/exit", data={"csrf_token": token, "planned_exit": "2024-09-01", "reason": ""}
    )
    assert refused.status_code == 400 and "reason: a reason is required" in _text(refused.text)
    missing = client.post("/episodes/e1/measurements", data={"csrf_token": token, "instrument": "gad7"})
    assert missing.status_code == 400 and "item1" in _text(missing.text)
    ok = client.post(
        "/episodes/e1/exit", data={"csrf_token": token, "planned_exit": "2024-09-01", "reason": "new job"}
    )
    assert "Planned exit moved" in ok.text and "2024-04-10 → 2024-09-01: new job" in _text(ok.text)
    service = client.post("/episodes/e1/services", data={"csrf_token": token, "code": "90837"})
    assert "Service recorded." in service.text and "3 treatment services" in service.text
    graduated = client.post("/episodes/e1/end", data={"csrf_token": token, "end_reason": "graduated"})
    assert "The episode has ended." in graduated.text and "graduated" in _text(graduated.text)
    back = client.post("/episodes/e1/refer-back", data={"csrf_token": token, "reason": "low mood again"})
    assert "Referred back" in back.text
    db.expire_all()
    episode = db.get(Episode, "e1")
    assert episode is not None and episode.end_reason == "graduated"
    reentry = db.scalars(select(ReferralPathway).where(ReferralPathway.fast_reentry_of == "e1")).one()
    assert reentry.stage == "waiting"
    assert client.get("/episodes/e2").status_code == 404  # ben's episode is st2's


def test_the_episode_page_and_caseload_read_in_few_statements(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None
) -> None:
    """Each statement is a round trip on PostgreSQL, and under load each costs the request thread a wait
    for Python's lock (docs/benchmarks.md, "Web under load"): the busiest pages keep their count."""
    make_user("carla", "clinician", program_ids=["p1"], staff_id="st1")
    login("carla")
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN") or any(w in statement for w in ("audit_log", "audit_seal", "pg_")):
            return  # transaction control, and the audit writer's thread (its own batches), apart
        statements.append(statement)

    engine = client.app.state.engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.get("/episodes/e1")
        episode_statements = list(statements)
        statements.clear()
        caseload = client.get("/caseload")
        caseload_statements = list(statements)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert page.status_code == 200 and "Primary clinician" in page.text
    assert caseload.status_code == 200
    assert len(episode_statements) <= 11, "\n".join(s[:90] for s in episode_statements)
    assert len(caseload_statements) <= 6, "\n".join(s[:90] for s in caseload_statements)


def test_a_self_report_link_is_answered_on_a_phone_once_and_a_risk_answer_gets_help(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None, db: Session
) -> None:
    make_user("carla", "clinician", program_ids=["p1"], staff_id="st1")
    login("carla")
    token = _token(client.get("/episodes/e1").text)
    sent = client.post(
        "/episodes/e1/links", data={"csrf_token": token, "instrument": "phq9", "valid_days": "3"}
    )
    url = re.search(r'value="(http://testserver/answer/[^"]+)"', sent.text)
    assert url is not None
    path = url.group(1).removeprefix("http://testserver")
    client.post("/logout", data={"csrf_token": token})
    client.cookies.clear()
    form = client.get(path)
    assert form.status_code == 200 and "Little interest or pleasure in doing things" in form.text
    _no_inline_code(form.text)
    anonymous = _token(form.text)
    incomplete = client.post(path, data={"csrf_token": anonymous, "item1": "1"})
    assert incomplete.status_code == 400 and "Please answer questions 2, 3" in incomplete.text
    answered = client.post(path, data={"csrf_token": anonymous, **PHQ9_RISK})
    assert answered.status_code == 200 and "Please get support now" in answered.text
    assert "988" in answered.text and "988lifeline.org" in answered.text
    again = client.get(path)
    assert again.status_code == 410 and "This link has already been used" in again.text
    assert client.get("/answer/not-a-link").status_code == 404
    db.expire_all()
    latest = db.scalars(select(Measurement).order_by(Measurement.measured_on.desc())).first()
    assert latest is not None and latest.score == 10 and latest.items == "[1, 1, 1, 1, 1, 1, 1, 1, 2]"


def test_the_person_sees_progress_plan_and_the_way_back(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None
) -> None:
    make_user("ana", "person", person_id="ana")
    html = login("ana").text
    _no_inline_code(html)
    page = _text(html)
    assert "Your PHQ-9 answers over time" in html and "below this line is the healthy range" in html
    assert "Your planned exit is 2024-04-10" in page
    assert "What graduating means" in page and "How to come back" in page
    assert "full intake" in page


def test_a_manager_starts_an_episode_from_the_waiting_list(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: None, db: Session
) -> None:
    make_user("mara", "manager", program_ids=["p1"])
    login("mara")
    page = client.get("/referrals/r2/start")
    assert page.status_code == 200 and "PHQ-9 below 10 and GAD-7 below 8" in page.text
    token = _token(page.text)
    refused = client.post(
        "/referrals/r2/start", data={"csrf_token": token, "primary_staff_id": "", "criteria": "x"}
    )
    assert refused.status_code == 400 and "primary staff id" in _text(refused.text)
    form = {
        "csrf_token": token,
        "primary_staff_id": "st1",
        "planned_exit": "2024-10-20",
        "criteria": re.search(r'name="criteria" rows="7" required>([^<]+)</textarea>', page.text).group(1),  # type: ignore[union-attr]
    }
    started = client.post("/referrals/r2/start", data=form, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"].startswith("/episodes/EPI-")
    db.expire_all()
    assert db.get(Referral, "r2").outcome == "admitted"  # type: ignore[union-attr]
