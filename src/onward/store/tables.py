"""SQLAlchemy tables of the event log (docs/extracts.md) and of the security records.

Column names, order and nullability mirror `onward.model.eventlog` exactly (a test checks it), so an
extract file, an ORM row and a metric expression all mean the same thing by the same name.
Enumerated event-log columns are plain strings checked in Python (the import validates every row):
a CHECK ... IN (...) costs SQLite about 3 s per million inserted rows, so only `users.role` has one.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from onward.model.roles import Role

#: Deterministic constraint names, so migrations can name what they alter (Alembic's recommendation).
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(64)
"""Event-log ids are strings (docs/extracts.md); 64 characters fits a uuid, a hash prefix or a site code."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# --- The event log -------------------------------------------------------------------------------


class Person(Base):
    __tablename__ = "people"
    person_id: Mapped[str] = mapped_column(ID, primary_key=True)
    birth_year: Mapped[int] = mapped_column(Integer)
    sex: Mapped[str] = mapped_column(String(16))
    postcode_prefix: Mapped[str] = mapped_column(String(16))
    school_grade: Mapped[int | None] = mapped_column(Integer)
    pregnancy_due_date: Mapped[date | None] = mapped_column(Date)


class Program(Base):
    __tablename__ = "programs"
    program_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    level_of_care: Mapped[int] = mapped_column(Integer)
    capacity_slots: Mapped[int] = mapped_column(Integer)


class Staff(Base):
    __tablename__ = "staff"
    staff_id: Mapped[str] = mapped_column(ID, primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    program_id: Mapped[str] = mapped_column(ID, ForeignKey("programs.program_id"), index=True)
    hours_per_week: Mapped[int] = mapped_column(Integer)


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        # The waiting list of a program: its referrals by outcome.
        Index("ix_referrals_program_id_outcome", "program_id", "outcome"),
    )

    referral_id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    program_id: Mapped[str] = mapped_column(ID, ForeignKey("programs.program_id"), index=True)
    referral_date: Mapped[date] = mapped_column(Date, index=True)
    source: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32), default="waiting", server_default="waiting")
    outcome_date: Mapped[date | None] = mapped_column(Date)
    outcome_reason: Mapped[str | None] = mapped_column(String(200))


class Episode(Base):
    __tablename__ = "episodes"
    episode_id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    program_id: Mapped[str] = mapped_column(ID, ForeignKey("programs.program_id"), index=True)
    referral_id: Mapped[str | None] = mapped_column(ID, ForeignKey("referrals.referral_id"), index=True)
    primary_staff_id: Mapped[str | None] = mapped_column(ID, ForeignKey("staff.staff_id"), index=True)
    start_date: Mapped[date] = mapped_column(Date, index=True)
    planned_end_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, index=True)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    is_sud: Mapped[bool] = mapped_column(Boolean)


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (
        # Per-episode timelines (first treatment, IET engagement) read services by episode, then date.
        Index("ix_services_episode_id_service_date", "episode_id", "service_date"),
        # First treatment per episode (caseloads, flags) from the index alone (migration 0009).
        Index("ix_services_episode_id_category_service_date", "episode_id", "category", "service_date"),
    )

    service_id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    episode_id: Mapped[str | None] = mapped_column(ID, ForeignKey("episodes.episode_id"))
    staff_id: Mapped[str | None] = mapped_column(ID, ForeignKey("staff.staff_id"))
    service_date: Mapped[date] = mapped_column(Date, index=True)
    code: Mapped[str] = mapped_column(String(16))
    minutes: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(32))


class Measurement(Base):
    __tablename__ = "measurements"
    measurement_id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    episode_id: Mapped[str | None] = mapped_column(ID, ForeignKey("episodes.episode_id"), index=True)
    instrument: Mapped[str] = mapped_column(String(16))
    measured_on: Mapped[date] = mapped_column(Date, index=True)
    score: Mapped[int] = mapped_column(Integer)
    items: Mapped[str | None] = mapped_column(Text)  # JSON list of item answers, e.g. "[1, 0, 3]"


#: ORM class of each event-log table, in the dependency order of `eventlog.EVENT_LOG`.
EVENT_LOG_MODELS: dict[str, type[Base]] = {
    "people": Person,
    "programs": Program,
    "staff": Staff,
    "referrals": Referral,
    "episodes": Episode,
    "services": Service,
    "measurements": Measurement,
}


# --- Security and bookkeeping --------------------------------------------------------------------


def _new_user_id() -> str:
    return uuid.uuid4().hex


_ROLE_VALUES = ", ".join(f"'{r.value}'" for r in Role)


class User(Base):
    """A login account; `person_id` links a person's own account, `staff_id` a staff member's."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN ({_ROLE_VALUES})", name="role"),)

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_new_user_id)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    person_id: Mapped[str | None] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    staff_id: Mapped[str | None] = mapped_column(ID, ForeignKey("staff.staff_id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserProgram(Base):
    """The programs a manager or clinician works in (their scope of access)."""

    __tablename__ = "user_programs"

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.user_id"), primary_key=True)
    program_id: Mapped[str] = mapped_column(ID, ForeignKey("programs.program_id"), primary_key=True)


class AuditEntry(Base):
    """One line of the hash-chained audit log (the chaining itself lives in onward.security)."""

    __tablename__ = "audit_log"

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(32))
    person_id: Mapped[str | None] = mapped_column(String(64), index=True)
    """Whose record the action touched, so each person's accounting of access is one indexed query."""
    outcome: Mapped[str | None] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(32))
    scheme: Mapped[str] = mapped_column(String(16), default="hmac-sha256", server_default="sha256")
    """How `hash` was made: "sha256" (entries written before the keyed chain) or "hmac-sha256"."""


class ImportRecord(Base):
    """One finished extract import: where from, what it changed, and a hash of the files read."""

    __tablename__ = "imports"

    import_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(Text)
    tables: Mapped[str] = mapped_column(Text)  # JSON: {table: {"inserted": n, "updated": n, "unchanged": n}}
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The extract said it was synthetic (`onward synth`'s manifest): pages and reports label the data."""


# Area tables register themselves on Base.metadata when imported (one line per area).
from onward.store import tables_access as _tables_access  # noqa: E402,F401
from onward.store import tables_pathways as _tables_pathways  # noqa: E402,F401
from onward.store import tables_security as _tables_security  # noqa: E402,F401
from onward.store import tables_skills as _tables_skills  # noqa: E402,F401
from onward.store import tables_targets as _tables_targets  # noqa: E402,F401
from onward.store import tables_voice as _tables_voice  # noqa: E402,F401
