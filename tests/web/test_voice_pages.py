"""Voice pages through the app: campaigns and formal requests with their export, similar ideas as JSON and
by the no-script button, reports and moderation, seats, the public page, and the leaders' voice metrics."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.web.conftest import form_token

from onward.security.access import Actor
from onward.security.policy import role_permissions
from onward.services import voice_ideas, voice_moderation
from onward.store.tables import User
from onward.store.tables_voice import CouncilMember, VoiceCampaign, VoiceIdea

Login = Callable[..., Any]


def _actor(user: User) -> Actor:
    return Actor(
        user_id=user.user_id, username=user.username, role=user.role, permissions=role_permissions(user.role)
    )


def _idea(db: Session, user: User, title: str = "Evening groups", **kw: Any) -> VoiceIdea:
    return voice_ideas.submit_idea(
        session=db,
        actor=_actor(user),
        title=title,
        problem=kw.pop("problem", "Groups are in the morning only."),
        proposal=kw.pop("proposal", "Run evening groups."),
        now=kw.pop("now", datetime(2024, 6, 1, tzinfo=UTC)),
        **kw,
    )


def test_a_formal_request_is_answered_and_exported_in_the_columns_it_asked_for(
    client: TestClient, make_user: Callable[..., User], login: Login, db: Session
) -> None:
    make_user("cora", "council_member")
    pat = make_user("pat", "person")
    page = login("cora").text
    response = client.post(
        "/voice/campaigns",
        data={
            "csrf_token": form_token(page),
            "title": "Request for information: access to behavioral health",
            "question": "What keeps people from getting care in time?",
            "audience": "everyone",
            "opens_on": "2024-06-01",
            "closes_on": "2024-07-31",
            "requester": "State Medicaid agency",
            "reference": "RFI-2024-07",
            "export_fields": ["submitted_on", "author_role", "proposal", "supports"],
        },
    )
    assert response.status_code == 200 and "RFI-2024-07" in response.text
    campaign = db.scalar(select(VoiceCampaign))
    assert campaign is not None and campaign.kind == "formal_request"
    _idea(db, pat, campaign_id=campaign.campaign_id, now=datetime(2024, 6, 15, tzinfo=UTC))
    export = client.get(f"/voice/campaigns/{campaign.campaign_id}/export.csv")
    assert export.headers["content-disposition"] == 'attachment; filename="RFI-2024-07.csv"'
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows == [
        ["Submitted", "Author role", "Proposal", "Supports"],
        ["2024-06-15", "person_in_services", "Run evening groups.", "0"],
    ]
    assert "pat" not in export.text  # the author's account never leaves the app


def test_a_person_shares_an_idea_and_sees_similar_ones_without_script(
    client: TestClient, make_user: Callable[..., User], login: Login, db: Session
) -> None:
    nina = make_user("nina", "clinician")
    _idea(db, nina, title="Evening appointments for people with jobs")
    make_user("pat", "person")
    page = login("pat").text
    token = form_token(client.get("/voice/ideas/new").text)
    checked = client.post(
        "/voice/ideas", data={"csrf_token": token, "title": "evening group", "problem": "", "check": "1"}
    )
    assert "Similar ideas already shared" in checked.text and "Evening appointments" in checked.text
    assert (
        client.get("/voice/similar", params={"q": "appointment jobs"})
        .json()[0]["title"]
        .startswith("Evening")
    )
    empty = client.post(
        "/voice/ideas", data={"csrf_token": token, "title": "", "problem": "x", "proposal": "y"}
    )
    assert empty.status_code == 400 and "title is required" in empty.text
    made = client.post(
        "/voice/ideas",
        data={
            "csrf_token": token,
            "title": "Evening groups",
            "problem": "Mornings only.",
            "proposal": "Evenings.",
        },
    )
    assert made.status_code == 200 and "from a person in services" in made.text
    assert page  # signed in


def test_reports_hide_an_idea_until_a_moderator_restores_it(
    client: TestClient, make_user: Callable[..., User], login: Login, db: Session
) -> None:
    author = make_user("pat", "person")
    idea = _idea(db, author)
    for name in ("r1", "r2", "r3"):
        voice_moderation.report(
            session=db,
            actor=_actor(make_user(name, "person")),
            kind="idea",
            target_id=idea.idea_id,
            reason="off topic",
            now=datetime.now(UTC),
        )
    make_user("nina", "clinician")
    login("nina")
    assert client.get(f"/voice/ideas/{idea.idea_id}").status_code == 404
    client.post("/logout", data={"csrf_token": form_token(client.get("/voice").text)})
    make_user("cora", "council_member")
    login("cora")
    page = client.get(f"/voice/ideas/{idea.idea_id}").text
    assert "Moderators only: written by account <strong>pat</strong>" in page
    moderation = client.get("/voice/moderation").text
    assert "3 reports" in moderation and "auto hide" in moderation
    client.post(
        "/voice/moderation",
        data={
            "csrf_token": form_token(moderation),
            "kind": "idea",
            "target_id": idea.idea_id,
            "action": "restore",
            "reason": "It is a real idea.",
        },
    )
    assert "restore" in client.get("/voice/moderation").text
    client.post("/logout", data={"csrf_token": form_token(client.get("/voice").text)})
    login("nina")
    assert client.get(f"/voice/ideas/{idea.idea_id}").status_code == 200


def test_admins_seat_members_and_council_members_see_the_rule(
    client: TestClient, make_user: Callable[..., User], login: Login, db: Session
) -> None:
    make_user("amir", "admin")
    page = login("amir").text
    for name, group, seat in (("Lee", "lived_experience", "co_chair"), ("Cal", "clinician", "member")):
        client.post(
            "/council/members",
            data={
                "csrf_token": form_token(page),
                "name": name,
                "group": group,
                "seat": seat,
                "joined_on": "2024-01-01",
            },
        )
    members = client.get("/council/members").text
    assert (
        "2 members: 1 with lived experience, 1 clinicians, 0 other" in members
        and "Meets the rule." in members
    )
    assert len(list(db.scalars(select(CouncilMember)))) == 2
    assert client.get("/voice/moderation").status_code == 403


def test_the_public_page_names_no_author_and_leaders_see_voice_metrics(
    client: TestClient, make_user: Callable[..., User], login: Login, db: Session, county: None
) -> None:
    pat = make_user("pat", "person")
    idea = _idea(db, pat)
    idea.status, idea.decided_on, idea.decision_reason = (
        "accepted",
        date(2024, 6, 20),
        "Evenings fit people who work.",
    )
    db.commit()
    public = client.get("/voice/results")
    assert (
        public.status_code == 200
        and "Evenings fit people who work." in public.text
        and "pat" not in public.text
    )
    make_user("lena", "leader")
    login("lena")
    metrics = client.get("/voice/metrics", params={"from": "2024-01-01", "to": "2024-06-30"}).text
    assert "Ideas received" in metrics and "Share of ideas from people in services" in metrics
    assert "Person in services: ≤10" in metrics
    home = client.get("/system").text  # the leader's home carries the same section
    assert "Voice: ideas and what came of them" in home and "Share of accepted ideas implemented" in home
