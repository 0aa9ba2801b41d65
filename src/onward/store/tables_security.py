"""Tables of the access-control and privacy records: sessions, sign-in failures, invitations, care
teams, break-glass and access grants, 42 CFR Part 2 consents and disclosures, and the audit-log seal.

They live beside the event log in the same database, so a consent, a disclosure and the audit row
that records it commit in one transaction.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onward.store.tables import ID, Base

TOKEN_HASH = String(64)
"""SHA-256 hex of a secret token: the database never holds a usable session id or invitation link."""


class LoginSession(Base):
    """A signed-in browser or API client. The cookie holds a random token; this row holds its hash."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(TOKEN_HASH, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.user_id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reauthenticated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    csrf_token: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(Base):
    """One failed sign-in, counted per account name and per client address (successes are not counted)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_scope_key_at", "scope", "key", "at"),)

    failure_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16))  # "account" or "address"
    key: Mapped[str] = mapped_column(String(160))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Invitation(Base):
    """A one-time link: a person's account invitation or a password reset. Only its hash is stored."""

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(TOKEN_HASH, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))  # "person_account" or "password_reset"
    person_id: Mapped[str | None] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    user_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("users.user_id"), index=True)
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CareTeamMember(Base):
    """A staff member on an episode's care team besides its primary clinician."""

    __tablename__ = "care_team_members"

    episode_id: Mapped[str] = mapped_column(ID, ForeignKey("episodes.episode_id"), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ID, ForeignKey("staff.staff_id"), primary_key=True, index=True)
    team_role: Mapped[str] = mapped_column(String(32))
    added_on: Mapped[date] = mapped_column(Date)
    removed_on: Mapped[date | None] = mapped_column(Date)


class BreakGlassGrant(Base):
    """Emergency access of a clinician to a person outside their caseload: a reason, one hour, audited."""

    __tablename__ = "break_glass_grants"

    grant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.user_id"), index=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccessGrant(Base):
    """An extra permission given to one account by an administrator (e.g. identified records for an
    analyst's approved project), with a reason, until revoked."""

    __tablename__ = "access_grants"

    grant_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.user_id"), index=True)
    permission: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str | None] = mapped_column(String(32))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Consent(Base):
    """A written 42 CFR Part 2 consent with the elements of §2.31."""

    __tablename__ = "consents"

    consent_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    discloser: Mapped[str] = mapped_column(String(200))
    information: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(64))
    expires_on: Mapped[date | None] = mapped_column(Date)
    expiry_event: Mapped[str | None] = mapped_column(Text)
    signed_by: Mapped[str] = mapped_column(String(200))
    signed_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revocation_note: Mapped[str | None] = mapped_column(Text)


class Disclosure(Base):
    """One disclosure of a person's records to a recipient: what, to whom, why, under which consent."""

    __tablename__ = "disclosures"

    disclosure_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    consent_id: Mapped[str | None] = mapped_column(String(32), ForeignKey("consents.consent_id"))
    recipient: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    part2: Mapped[bool] = mapped_column()
    disclosed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    disclosed_by: Mapped[str | None] = mapped_column(String(32))


class AuditSeal(Base):
    """One row: the newest audit entry and a keyed MAC over it, so a cut-off tail of the log is detected."""

    __tablename__ = "audit_seal"

    seal_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_entry_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    mac: Mapped[str] = mapped_column(String(64))
