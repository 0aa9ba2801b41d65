"""Tables of the pathways: graduation criteria, exit extensions, stage history, fast re-entries,
self-report links and questionnaire responses (docs/pathways.md).

They sit beside the event log in the same database, so a measurement, the questionnaire response it
came from, the used link and the audit row that records them commit in one transaction. The event-log
tables themselves (episodes, referrals, measurements, services) keep their contract unchanged.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onward.store.tables import ID, Base

#: Keyed SHA-256 hex of a link's token (as `onward.security.login_sessions.token_hash`).
TOKEN_HASH = String(64)


class GraduationCriteria(Base):
    """One version of an episode's written graduation criteria; the current one has no `replaced_at`.
    A change adds a version with its reason and keeps the old one, so the history is never lost."""

    __tablename__ = "graduation_criteria"
    __table_args__ = (Index("ix_graduation_criteria_episode_id_replaced_at", "episode_id", "replaced_at"),)

    criteria_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    episode_id: Mapped[str] = mapped_column(ID, ForeignKey("episodes.episode_id"))
    text: Mapped[str] = mapped_column(Text)
    basis: Mapped[str] = mapped_column(String(64))  # "default:<program kind>" or "edited"
    reason: Mapped[str | None] = mapped_column(Text)  # why it differs from the previous version or default
    written_by: Mapped[str | None] = mapped_column(String(32))  # user id; None for the command line
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ExitExtension(Base):
    """A planned exit moved later, with the reason and who moved it."""

    __tablename__ = "exit_extensions"

    extension_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    episode_id: Mapped[str] = mapped_column(ID, ForeignKey("episodes.episode_id"), index=True)
    previous_exit: Mapped[date | None] = mapped_column(Date)
    new_exit: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    extended_by: Mapped[str | None] = mapped_column(String(32))
    extended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StageChange(Base):
    """One step of a referral or an episode along the pathway (onward.model.pathways.Stage)."""

    __tablename__ = "pathway_stage_history"

    change_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    referral_id: Mapped[str | None] = mapped_column(ID, ForeignKey("referrals.referral_id"), index=True)
    episode_id: Mapped[str | None] = mapped_column(ID, ForeignKey("episodes.episode_id"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    changed_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str | None] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReferralPathway(Base):
    """Pathway facts of a referral made in Onward: its stage before admission and, for a fast
    re-entry, the episode the person graduated from. Imported referrals have no row (waiting)."""

    __tablename__ = "referral_pathways"

    referral_id: Mapped[str] = mapped_column(ID, ForeignKey("referrals.referral_id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(32))
    fast_reentry_of: Mapped[str | None] = mapped_column(ID, ForeignKey("episodes.episode_id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SelfReportLink(Base):
    """A single-use link to answer one questionnaire, without an account. Only the keyed hash of its
    token is stored; the token itself exists only in the link handed to the person."""

    __tablename__ = "self_report_links"

    token_hash: Mapped[str] = mapped_column(TOKEN_HASH, primary_key=True)
    link_id: Mapped[str] = mapped_column(String(32), unique=True)  # names the link in pages and the API
    episode_id: Mapped[str] = mapped_column(ID, ForeignKey("episodes.episode_id"), index=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    instrument: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    response_id: Mapped[str | None] = mapped_column(String(32))


class QuestionnaireResponseRecord(Base):
    """A completed questionnaire as a FHIR R4 QuestionnaireResponse (JSON, validated before it is
    stored), and the measurement scored from it."""

    __tablename__ = "questionnaire_responses"

    response_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    episode_id: Mapped[str | None] = mapped_column(ID, ForeignKey("episodes.episode_id"), index=True)
    measurement_id: Mapped[str] = mapped_column(ID, ForeignKey("measurements.measurement_id"), index=True)
    instrument: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))  # "self_report_link" or "clinician"
    authored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resource: Mapped[str] = mapped_column(Text)
