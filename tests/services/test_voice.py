"""Voice services on SQLite and PostgreSQL: campaigns, ideas, similar ideas by full-text search, supports,
comments, reports and moderation, council decisions under the composition rule, and the idea's path to
an evaluation with notices to its author and supporters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from onward.metrics.voice import measure
from onward.model.voice_council import CompositionRule
from onward.security.access import Actor, operator
from onward.security.policy import role_permissions
from onward.services import voice_council, voice_ideas, voice_lifecycle, voice_moderation
from onward.store.tables import AuditEntry, User
from onward.store.tables_voice import VoiceIdea, VoiceModeration, VoiceNotification

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RULE = CompositionRule()


def actor(role: str, name: str, **kw: object) -> Actor:
    return Actor(user_id=f"u-{name}", username=name, role=role, permissions=role_permissions(role), **kw)  # type: ignore[arg-type]


PERSON = actor("person", "ana", person_id="ana")
CLINICIAN = actor("clinician", "cleo", staff_id="st1", program_ids=("op",))
COUNCIL = actor("council_member", "cora")
OTHERS = [actor("person", f"p{i}") for i in range(3)]


@pytest.fixture
def voice_db(care_db: sessionmaker[Session]) -> Iterator[Session]:
    with care_db() as session:
        for a in (PERSON, CLINICIAN, COUNCIL, *OTHERS):
            session.add(
                User(user_id=a.user_id, username=a.username, role=a.role, password_hash="x", created_at=NOW)
            )
        session.commit()
        yield session


def _seat_council(session: Session) -> dict[str, str]:
    """Six members: three with lived experience (one co-chair) and three clinicians."""
    ids = {}
    for name, group, seat in (
        ("Lee", "lived_experience", "co_chair"),
        ("Lou", "lived_experience", "member"),
        ("Liv", "lived_experience", "member"),
        ("Cal", "clinician", "co_chair"),
        ("Cat", "clinician", "member"),
        ("Cyd", "clinician", "member"),
    ):
        row = voice_council.seat_member(
            session=session,
            actor=operator("t"),
            name=name,
            group=group,
            seat=seat,
            joined_on=date(2026, 1, 1),
            now=NOW,
        )
        ids[name] = row.member_id
    return ids


def _idea(session: Session, **kw: object) -> VoiceIdea:
    values: dict[str, object] = {
        "title": "Evening groups for people who work",
        "problem": "Groups only run in the morning, so people with jobs wait for months.",
        "proposal": "Run two evening skills groups a week at the outpatient clinic.",
    }
    values.update(kw)
    return voice_ideas.submit_idea(session=session, actor=PERSON, now=NOW, **values)  # type: ignore[arg-type]


def test_campaign_audiences_decide_who_takes_part(voice_db: Session) -> None:
    people = voice_ideas.create_campaign(
        session=voice_db,
        actor=COUNCIL,
        title="Waiting",
        question="What would make waiting easier?",
        audience="people_in_services",
        opens_on=date(2026, 5, 1),
        closes_on=date(2026, 6, 30),
        now=NOW,
    )
    staff = voice_ideas.create_campaign(
        session=voice_db,
        actor=COUNCIL,
        title="Paperwork",
        question="What paperwork could go?",
        audience="clinic_staff",
        program_id="op",
        opens_on=date(2026, 5, 1),
        closes_on=date(2026, 6, 30),
        now=NOW,
    )
    idea = _idea(voice_db, campaign_id=people.campaign_id)
    assert idea.author_role == "person_in_services" and idea.author_user_id == PERSON.user_id
    with pytest.raises(PermissionDeniedError, match="asks someone else"):
        voice_ideas.submit_idea(
            session=voice_db,
            actor=CLINICIAN,
            title="t",
            problem="p",
            proposal="q",
            campaign_id=people.campaign_id,
            now=NOW,
        )
    assert (
        voice_ideas.submit_idea(
            session=voice_db,
            actor=CLINICIAN,
            title="Shorter forms",
            problem="p",
            proposal="q",
            campaign_id=staff.campaign_id,
            now=NOW,
        ).author_role
        == "clinician"
    )
    with pytest.raises(ValidationError, match="cannot write as clinician"):
        _idea(voice_db, author_role="clinician")
    with pytest.raises(ConflictError, match="takes ideas from"):
        voice_ideas.submit_idea(
            session=voice_db,
            actor=PERSON,
            title="t",
            problem="p",
            proposal="q",
            campaign_id=people.campaign_id,
            now=NOW + timedelta(days=60),
        )
    with pytest.raises(PermissionDeniedError):
        voice_ideas.create_campaign(
            session=voice_db,
            actor=PERSON,
            title="x",
            question="y",
            audience="everyone",
            opens_on=date(2026, 1, 1),
            closes_on=date(2026, 1, 2),
            now=NOW,
        )
    assert [c.title for c in voice_ideas.open_campaigns_for(voice_db, PERSON, NOW.date())] == ["Waiting"]


def test_similar_ideas_come_from_the_databases_full_text_search(voice_db: Session) -> None:
    first = _idea(voice_db)
    _idea(voice_db, title="Parking at the clinic", problem="No spaces.", proposal="Ask the council for bays.")
    found = voice_ideas.similar_ideas(voice_db, "evening group for working people")
    assert [i.idea_id for i in found] == [first.idea_id]  # stemmed: group/groups, working/work
    assert voice_ideas.similar_ideas(voice_db, "the and of") == []
    assert voice_ideas.similar_ideas(voice_db, 'quote " NEAR( * OR') == []  # odd input is only words


def test_one_support_per_account_comments_and_reports_hide_after_three(voice_db: Session) -> None:
    idea = _idea(voice_db)
    assert voice_ideas.support(session=voice_db, actor=CLINICIAN, idea_id=idea.idea_id, now=NOW)
    assert not voice_ideas.support(session=voice_db, actor=CLINICIAN, idea_id=idea.idea_id, now=NOW)
    assert voice_ideas.supports(voice_db, idea.idea_id) == 1
    voice_ideas.comment(
        session=voice_db, actor=CLINICIAN, idea_id=idea.idea_id, stance="for", body="Yes.", now=NOW
    )
    with pytest.raises(ValidationError, match="stance"):
        voice_ideas.comment(
            session=voice_db, actor=CLINICIAN, idea_id=idea.idea_id, stance="maybe", body="x", now=NOW
        )
    hidden = [
        voice_moderation.report(
            session=voice_db, actor=a, kind="idea", target_id=idea.idea_id, reason="spam", now=NOW
        )
        for a in OTHERS
    ]
    assert hidden == [False, False, True]
    with pytest.raises(NotFoundError):
        voice_ideas.get_idea(voice_db, CLINICIAN, idea.idea_id)
    assert voice_ideas.get_idea(voice_db, PERSON, idea.idea_id).hidden  # its author still sees it
    assert [r.target_id for r in voice_moderation.reported(voice_db)] == [idea.idea_id]
    with pytest.raises(PermissionDeniedError):
        voice_moderation.moderate(
            session=voice_db,
            actor=CLINICIAN,
            kind="idea",
            target_id=idea.idea_id,
            action="restore",
            reason="ok",
            now=NOW,
        )
    voice_moderation.moderate(
        session=voice_db,
        actor=COUNCIL,
        kind="idea",
        target_id=idea.idea_id,
        action="restore",
        reason="A real idea, not spam.",
        now=NOW,
    )
    assert voice_ideas.get_idea(voice_db, CLINICIAN, idea.idea_id).hidden is False
    assert [
        m.action for m in voice_db.scalars(select(VoiceModeration).order_by(VoiceModeration.entry_id))
    ] == [
        "auto_hide",
        "restore",
    ]
    assert voice_moderation.reported(voice_db) == []


def test_from_a_persons_idea_to_an_evaluation_with_notices_at_every_step(
    voice_db: Session, database_url: str
) -> None:
    members = _seat_council(voice_db)
    idea = _idea(voice_db)
    voice_ideas.support(session=voice_db, actor=CLINICIAN, idea_id=idea.idea_id, now=NOW)
    voice_lifecycle.start_review(session=voice_db, actor=COUNCIL, idea_id=idea.idea_id, now=NOW)

    mostly_clinicians = [
        members["Cal"],
        members["Cat"],
        members["Cyd"],
        members["Liv"],
    ]  # a quorum, unbalanced
    with pytest.raises(ConflictError, match="Decision refused: those present: 1 of 4 have lived experience"):
        voice_council.decide(
            session=voice_db,
            actor=COUNCIL,
            idea_id=idea.idea_id,
            outcome="accepted",
            reason="Evening groups fit people who work.",
            present=mostly_clinicians,
            rule=RULE,
            now=NOW,
        )
    assert voice_db.get(VoiceIdea, idea.idea_id).status == "under_review"  # type: ignore[union-attr]
    refused = voice_db.scalar(select(AuditEntry).where(AuditEntry.action == "decide_refused"))
    assert refused is not None and "lived experience" in (refused.detail or "")

    decision, notices = voice_council.decide(
        session=voice_db,
        actor=COUNCIL,
        idea_id=idea.idea_id,
        outcome="accepted",
        reason="Evening groups fit people who work.",
        present=[members["Lee"], members["Lou"], members["Cal"], members["Cat"]],
        rule=RULE,
        now=NOW,
    )
    assert {n.user_id for n in notices} == {PERSON.user_id, CLINICIAN.user_id}
    recorded = json.loads(decision.composition)
    assert recorded["present"] == "4 members: 2 with lived experience, 2 clinicians, 0 other"
    assert recorded["seated"] == "6 members: 3 with lived experience, 3 clinicians, 0 other"

    baseline = measure(database_url, "admissions", date(2026, 1, 1), date(2026, 5, 31))
    assert baseline == 1.0  # e-ben started on 2026-01-05
    voice_lifecycle.plan(
        session=voice_db,
        actor=COUNCIL,
        idea_id=idea.idea_id,
        owner="Outpatient manager",
        milestones="2026-07-01 First evening group\n2026-09-01 Second group",
        metric_key="admissions",
        baseline_from=date(2026, 1, 1),
        baseline_to=date(2026, 5, 31),
        baseline=baseline,
        target=3,
        simulated={
            "scenario": "treatment-first",
            "measure": "admissions",
            "value": 2.0,
            "low": 1.0,
            "high": 3.0,
        },
        now=NOW,
    )
    with pytest.raises(ValidationError, match="milestone line 1"):
        voice_lifecycle.parse_milestones("soon: first group")
    voice_lifecycle.report_progress(
        session=voice_db, actor=COUNCIL, idea_id=idea.idea_id, progress=40, note="", now=NOW
    )
    voice_lifecycle.implement(
        session=voice_db, actor=COUNCIL, idea_id=idea.idea_id, note="Both groups run.", now=NOW
    )
    voice_lifecycle.evaluate(
        session=voice_db,
        actor=COUNCIL,
        idea_id=idea.idea_id,
        after_from=date(2026, 6, 1),
        after_to=date(2026, 11, 30),
        after=2.0,
        note="",
        now=NOW,
    )
    texts = [
        n.text
        for n in voice_db.scalars(
            select(VoiceNotification)
            .where(VoiceNotification.user_id == PERSON.user_id)
            .order_by(VoiceNotification.notification_id)
        )
    ]
    assert [t.split(":")[0].split(" ")[0] for t in texts] == [
        "The",
        "The",
        "Planned",
        "In",
        "Implemented.",
        "Evaluated",
    ]
    assert "not shown to be caused" in texts[-1]
    assert voice_lifecycle.unread_count(voice_db, PERSON) == 6
    assert voice_lifecycle.mark_read(session=voice_db, actor=PERSON, now=NOW) == 6
    with pytest.raises(ConflictError, match="evaluated cannot become"):
        voice_lifecycle.implement(session=voice_db, actor=COUNCIL, idea_id=idea.idea_id, note="", now=NOW)


def test_an_unbalanced_council_cannot_decide(voice_db: Session) -> None:
    members = _seat_council(voice_db)
    for name in ("Lou", "Liv"):
        voice_council.unseat_member(
            session=voice_db, actor=operator("t"), member_id=members[name], left_on=date(2026, 2, 1), now=NOW
        )
    state = voice_council.council_state(voice_db, NOW.date(), RULE)
    assert state.problems == ["the council: 1 of 4 have lived experience; the rule asks for at least 1/3"]
    idea = _idea(voice_db)
    voice_lifecycle.start_review(session=voice_db, actor=COUNCIL, idea_id=idea.idea_id, now=NOW)
    with pytest.raises(voice_council.CouncilRuleError) as refused:
        voice_council.decide(
            session=voice_db,
            actor=COUNCIL,
            idea_id=idea.idea_id,
            outcome="declined",
            reason="Not now, the budget is spent.",
            present=list(members.values()),
            rule=RULE,
            now=NOW,
        )
    assert "the council: 1 of 4 have lived experience" in str(refused.value)
    assert "not seated on the council" in str(refused.value)


def test_email_addresses_are_opt_in_and_checked(voice_db: Session) -> None:
    assert (
        voice_lifecycle.set_email(session=voice_db, actor=PERSON, email="ana@example.org", now=NOW)
        is not None
    )
    assert voice_lifecycle.email_of(voice_db, PERSON.user_id) == "ana@example.org"
    with pytest.raises(ValidationError, match="not an e-mail address"):
        voice_lifecycle.set_email(session=voice_db, actor=PERSON, email="ana at home", now=NOW)
    voice_lifecycle.set_email(session=voice_db, actor=PERSON, email="", now=NOW)
    assert voice_lifecycle.email_of(voice_db, PERSON.user_id) is None
