"""SYNTHETIC voice activity for the demo county: a council, a campaign, and ideas at every stage.

`onward demo` calls `seed_voice_demo` after the skills demo. Everything here is made up and goes only
into a database that already holds synthetic data: the campaign and the council members are named
"Synthetic ...", and the audit log records one `seed` entry. The ideas walk the real services (review,
council decisions with a quorum under the site's rule, plans whose baselines come from the metrics
engine through `measure`, progress, implementation, evaluation), so the pages, the notices and the voice
report show what a year of use looks like. Nothing here is a measured result of a real change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import ValidationError
from onward.model.roles import Role
from onward.model.voice_council import CompositionRule
from onward.security.access import Actor, operator
from onward.security.audit import append_audit
from onward.security.policy import role_permissions
from onward.services import voice_council, voice_ideas, voice_lifecycle
from onward.services._guard import write_transaction
from onward.services.provenance import holds_synthetic_data
from onward.services.users import demo_username
from onward.store.tables import Episode, Service, User
from onward.store.tables_voice import VoiceCampaign

Measure = Callable[[str, date, date], float | None]
CAMPAIGN_TITLE = "Synthetic: what would make starting care easier?"
_MEMBERS = (
    ("Synthetic member Lee", "lived_experience", "co_chair"),
    ("Synthetic member Lou", "lived_experience", "member"),
    ("Synthetic member Liv", "lived_experience", "member"),
    ("Synthetic member Cal", "clinician", "co_chair"),
    ("Synthetic member Cat", "clinician", "member"),
    ("Synthetic member Ola", "other", "member"),
)
#: (title, problem, proposal, author account role, how far it goes)
_IDEAS = (
    (
        "Text reminders the day before",
        "People miss first appointments they booked weeks ago.",
        "Send a text reminder the day before every first appointment.",
        Role.PERSON,
        "evaluated",
    ),
    (
        "Evening groups for people who work",
        "Groups run only in working hours.",
        "Run two skills groups a week in the evening.",
        Role.PERSON,
        "implemented",
    ),
    (
        "One intake form, not three",
        "People fill in the same details three times at intake.",
        "Merge the three intake forms into one.",
        Role.CLINICIAN,
        "in_progress",
    ),
    (
        "Peer support on the waiting list",
        "Waiting feels like being forgotten.",
        "A peer specialist calls everyone waiting more than two weeks.",
        Role.PERSON,
        "planned",
    ),
    (
        "Same-week first appointment",
        "The first appointment is often a month away.",
        "Keep two first-appointment slots free every day.",
        Role.CLINICIAN,
        "accepted",
    ),
    (
        "Free parking at the clinic",
        "Parking costs more than the bus fare.",
        "Ask the city for free parking for people in treatment.",
        Role.PERSON,
        "declined",
    ),
    (
        "Childcare during sessions",
        "Parents skip sessions when they have no childcare.",
        "A supervised play room during group sessions.",
        Role.PERSON,
        "under_review",
    ),
    (
        "Plain-language letters",
        "Letters about appointments are hard to read.",
        "Rewrite every letter in plain language with people in services.",
        Role.PERSON,
        "submitted",
    ),
)


def _last_day(session: Session) -> date:
    days = [
        session.scalar(select(Service.service_date).order_by(Service.service_date.desc()).limit(1)),
        session.scalar(select(Episode.start_date).order_by(Episode.start_date.desc()).limit(1)),
    ]
    known = [d for d in days if d is not None]
    if not known:
        raise ValidationError("the demo county has no events to seed voice activity around")
    return max(known)


def _actor(session: Session, role: Role) -> Actor:
    user = session.scalar(select(User).where(User.username == demo_username(role)))
    if user is None:
        return operator("onward demo")
    return Actor(
        user_id=user.user_id,
        username=user.username,
        role=user.role,
        permissions=role_permissions(user.role),
        person_id=user.person_id,
    )


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


def seed_voice_demo(*, session: Session, measure: Measure, rule: CompositionRule | None = None) -> int:
    """Add the SYNTHETIC council, campaign and ideas once; returns how many ideas were added (0 on a
    second run)."""
    if not holds_synthetic_data(session):
        raise ValidationError("voice demo data goes only into a synthetic (demo) database")
    if session.scalar(select(VoiceCampaign).where(VoiceCampaign.title == CAMPAIGN_TITLE)) is not None:
        return 0
    rule = rule or CompositionRule()
    end = _last_day(session)
    start = end - timedelta(days=240)
    demo = operator("onward demo")
    # Every figure the plans and the evaluation need, measured before the first write: the metrics engine
    # keeps its copy of the event log while the database does not change.
    key = "share_treated_within_14_days"
    decided_on = [start + timedelta(days=7 * n + 14 + 3 * n) for n in range(len(_IDEAS))]
    baselines = {d: measure(key, d - timedelta(days=180), d) for d in decided_on[:4]}
    after = measure(key, decided_on[0] + timedelta(days=60), end)
    members = [
        voice_council.seat_member(
            session=session,
            actor=demo,
            name=n,
            group=g,
            seat=s,
            joined_on=start - timedelta(days=60),
            now=_at(start),
        ).member_id
        for n, g, s in _MEMBERS
    ]
    quorum = members[:2] + members[3:5]  # two with lived experience (a co-chair), two clinicians
    campaign = voice_ideas.create_campaign(
        session=session,
        actor=demo,
        title=CAMPAIGN_TITLE,
        question="What gets in the way of starting care, and what would help?",
        audience="everyone",
        opens_on=start,
        closes_on=end + timedelta(days=60),
        now=_at(start),
    )
    stages = ["submitted", "under_review", "decided", "planned", "in_progress", "implemented", "evaluated"]
    for n, (title, problem, proposal, role, goal) in enumerate(_IDEAS):
        day = start + timedelta(days=7 * n)
        idea = voice_ideas.submit_idea(
            session=session,
            actor=_actor(session, role),
            title=title,
            problem=problem,
            proposal=proposal,
            campaign_id=campaign.campaign_id,
            now=_at(day),
        )
        voice_ideas.support(
            session=session,
            actor=_actor(session, Role.CLINICIAN if role is Role.PERSON else Role.PERSON),
            idea_id=idea.idea_id,
            now=_at(day + timedelta(days=1)),
        )
        reached = stages.index("decided" if goal in ("accepted", "declined") else goal)
        if reached >= 1:
            voice_lifecycle.start_review(
                session=session, actor=demo, idea_id=idea.idea_id, now=_at(day + timedelta(days=3))
            )
        if reached >= 2:
            declined = goal == "declined"
            voice_council.decide(
                session=session,
                actor=demo,
                idea_id=idea.idea_id,
                outcome="declined" if declined else "accepted",
                reason="The city owns the car park; the council wrote to it instead."
                if declined
                else "Cheap to try and asked for by people in services and clinicians alike.",
                present=quorum,
                rule=rule,
                now=_at(day + timedelta(days=14 + 3 * n)),
            )
        decided = day + timedelta(days=14 + 3 * n)
        if reached >= 3:
            base_from, base_to = decided - timedelta(days=180), decided
            voice_lifecycle.plan(
                session=session,
                actor=demo,
                idea_id=idea.idea_id,
                owner="Synthetic outpatient manager",
                milestones=(
                    f"{decided + timedelta(days=30)} First version in use\n"
                    f"{decided + timedelta(days=90)} In every clinic"
                ),
                metric_key="share_treated_within_14_days",
                baseline_from=base_from,
                baseline_to=base_to,
                baseline=baselines[decided],
                target=0.6,
                simulated={
                    "scenario": "treatment-first",
                    "measure": "share_treated_within_14_days",
                    "value": 0.55,
                    "low": 0.49,
                    "high": 0.61,
                }
                if n == 0
                else None,
                now=_at(decided + timedelta(days=7)),
            )
        if reached >= 4:
            voice_lifecycle.report_progress(
                session=session,
                actor=demo,
                idea_id=idea.idea_id,
                progress=60,
                note="",
                now=_at(decided + timedelta(days=30)),
            )
        if reached >= 5:
            voice_lifecycle.implement(
                session=session,
                actor=demo,
                idea_id=idea.idea_id,
                note="In use in every clinic.",
                now=_at(decided + timedelta(days=60)),
            )
        if reached >= 6:
            after_from, after_to = decided + timedelta(days=60), end
            voice_lifecycle.evaluate(
                session=session,
                actor=demo,
                idea_id=idea.idea_id,
                after_from=after_from,
                after_to=after_to,
                after=after,
                note="",
                now=_at(end),
            )
    with write_transaction(session):
        append_audit(
            session=session,
            at=_at(end),
            user_id=None,
            role=demo.role,
            request_id=None,
            action="seed",
            entity="voice_demo",
            entity_id=campaign.campaign_id,
            person_id=None,
            detail=f"SYNTHETIC: {len(_MEMBERS)} council members, {len(_IDEAS)} ideas at every stage",
        )
    return len(_IDEAS)
