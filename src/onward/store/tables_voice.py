"""Tables of voice: campaigns, ideas with their supports, comments and reports, the moderation log, the
council and its decisions, plans with their target metric and evaluation, each idea's history and the
notifications sent about it (docs/voice.md).

An idea's author is kept (`author_user_id`) so moderators can hold it to account; pages for everyone
else show only the author's role. Date columns (`submitted_on`, `decided_on`, ...) repeat the day of
each step so the metrics engine reads plain dates on every backend.

Similar-idea search uses the database's own full-text search: on SQLite an FTS5 table
`voice_ideas_fts` kept by triggers, on PostgreSQL a GIN index over `to_tsvector` of the same text; both
are made by migration 0007_voice and are not ORM tables (`SEARCH_OBJECTS`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onward.store.tables import ID, Base

USER_ID = String(32)
VOICE_ID = String(32)

#: Full-text search objects made by the migration outside the ORM (names start with these).
SEARCH_OBJECTS = ("voice_ideas_fts", "ix_voice_ideas_fts")


class VoiceCampaign(Base):
    """A question opened for ideas for a time window and an audience; or a regulator's or payer's formal
    request for comments, whose answers are exported in the shape it asked for (`export_fields`)."""

    __tablename__ = "voice_campaigns"

    campaign_id: Mapped[str] = mapped_column(VOICE_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # campaign, formal_request
    title: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(24))  # clinic_staff, people_in_services, everyone
    program_id: Mapped[str | None] = mapped_column(ID, ForeignKey("programs.program_id"))
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    requester: Mapped[str | None] = mapped_column(String(200))  # e.g. "State Medicaid agency"
    reference: Mapped[str | None] = mapped_column(String(120))  # the request's own number
    export_fields: Mapped[str | None] = mapped_column(Text)  # JSON list: the columns asked for, in order
    created_by: Mapped[str | None] = mapped_column(USER_ID)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VoiceIdea(Base):
    __tablename__ = "voice_ideas"

    idea_id: Mapped[str] = mapped_column(VOICE_ID, primary_key=True)
    campaign_id: Mapped[str | None] = mapped_column(
        VOICE_ID, ForeignKey("voice_campaigns.campaign_id"), index=True
    )
    title: Mapped[str] = mapped_column(String(140))
    problem: Mapped[str] = mapped_column(Text)
    proposal: Mapped[str] = mapped_column(Text)
    author_role: Mapped[str] = mapped_column(String(24))
    author_user_id: Mapped[str | None] = mapped_column(USER_ID, ForeignKey("users.user_id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)  # by reports pending review, or a moderator
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_on: Mapped[date] = mapped_column(Date, index=True)
    decided_on: Mapped[date | None] = mapped_column(Date)
    implemented_on: Mapped[date | None] = mapped_column(Date)
    evaluated_on: Mapped[date | None] = mapped_column(Date)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int | None] = mapped_column(Integer)


class VoiceSupport(Base):
    """One support per account per idea."""

    __tablename__ = "voice_supports"

    idea_id: Mapped[str] = mapped_column(VOICE_ID, ForeignKey("voice_ideas.idea_id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(USER_ID, ForeignKey("users.user_id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VoiceComment(Base):
    __tablename__ = "voice_comments"

    comment_id: Mapped[str] = mapped_column(VOICE_ID, primary_key=True)
    idea_id: Mapped[str] = mapped_column(VOICE_ID, ForeignKey("voice_ideas.idea_id"), index=True)
    user_id: Mapped[str | None] = mapped_column(USER_ID, ForeignKey("users.user_id"))
    author_role: Mapped[str] = mapped_column(String(24))
    stance: Mapped[str] = mapped_column(String(8))  # for, against, neutral
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)


class VoiceReport(Base):
    """Someone reports an idea or a comment; three reports pending review hide it."""

    __tablename__ = "voice_reports"
    __table_args__ = (UniqueConstraint("target_kind", "target_id", "user_id"),)

    report_id: Mapped[str] = mapped_column(VOICE_ID, primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(8))  # idea, comment
    target_id: Mapped[str] = mapped_column(VOICE_ID, index=True)
    user_id: Mapped[str | None] = mapped_column(USER_ID, ForeignKey("users.user_id"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12))  # pending, upheld, dismissed


class VoiceModeration(Base):
    """The moderation log: every hide, restore and review, by whom and why."""

    __tablename__ = "voice_moderation"

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    moderator_user_id: Mapped[str | None] = mapped_column(USER_ID)
    action: Mapped[str] = mapped_column(String(16))  # auto_hide, hide, restore, dismiss
    target_kind: Mapped[str] = mapped_column(String(8))
    target_id: Mapped[str] = mapped_column(VOICE_ID)
    reason: Mapped[str] = mapped_column(Text)


class CouncilMember(Base):
    """A seat on the council from `joined_on` until `left_on` (open while seated)."""

    __tablename__ = "council_members"

    member_id: Mapped[str] = mapped_column(VOICE_ID, primary_key=True)
    user_id: Mapped[str | None] = mapped_column(USER_ID, ForeignKey("users.user_id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    member_group: Mapped[str] = mapped_column(String(20))  # lived_experience, clinician, other
    seat: Mapped[str] = mapped_column(String(12))  # co_chair, member
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)


class CouncilDecision(Base):
    """A council decision on an idea: the outcome, the public reason, who was present and the composition
    that was checked."""

    __tablename__ = "council_decisions"

    decision_id: Mapped[str] = mapped_column(VOICE_ID, primary_key=True)
    idea_id: Mapped[str] = mapped_column(VOICE_ID, ForeignKey("voice_ideas.idea_id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # accepted, declined
    reason: Mapped[str] = mapped_column(Text)
    decided_on: Mapped[date] = mapped_column(Date)
    present: Mapped[str] = mapped_column(Text)  # JSON list of member ids
    composition: Mapped[str] = mapped_column(Text)  # JSON: seated and present counts, and the rule
    recorded_by: Mapped[str | None] = mapped_column(USER_ID)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VoicePlan(Base):
    """What an accepted idea becomes: an owner, milestones, a target metric with its baseline (from the
    metrics engine) and target, optionally a simulated impact, progress, and at the end the evaluation
    (before/after on the target metric, measured, not causal)."""

    __tablename__ = "voice_plans"

    idea_id: Mapped[str] = mapped_column(VOICE_ID, ForeignKey("voice_ideas.idea_id"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    milestones: Mapped[str] = mapped_column(Text)  # JSON list of {"title", "due"}
    metric_key: Mapped[str] = mapped_column(String(64))
    baseline_from: Mapped[date] = mapped_column(Date)
    baseline_to: Mapped[date] = mapped_column(Date)
    baseline: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    simulated: Mapped[str | None] = mapped_column(Text)  # JSON: scenario, measure, value, low, high
    after_from: Mapped[date | None] = mapped_column(Date)
    after_to: Mapped[date | None] = mapped_column(Date)
    after: Mapped[float | None] = mapped_column(Float)
    evaluation_note: Mapped[str | None] = mapped_column(Text)
    planned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VoiceEvent(Base):
    """One step of an idea's history, shown on its page and sent to its author and supporters."""

    __tablename__ = "voice_events"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idea_id: Mapped[str] = mapped_column(VOICE_ID, ForeignKey("voice_ideas.idea_id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    by_user_id: Mapped[str | None] = mapped_column(USER_ID)


class VoiceNotification(Base):
    """In-app notice to one account about a step of an idea it wrote or supports."""

    __tablename__ = "voice_notifications"

    notification_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(USER_ID, ForeignKey("users.user_id"), index=True)
    idea_id: Mapped[str] = mapped_column(VOICE_ID, ForeignKey("voice_ideas.idea_id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    text: Mapped[str] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class VoiceEmail(Base):
    """An address an account gave to be emailed about its ideas (opt-in; removable)."""

    __tablename__ = "voice_emails"

    user_id: Mapped[str] = mapped_column(USER_ID, ForeignKey("users.user_id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
