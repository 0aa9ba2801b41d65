"""Tables of access (issue 10): attempts to reach a waiting person, first appointments booked from the
waiting list, and the service codes an import could not match to the catalogue (docs/extracts.md).

They sit beside the event log; the referral's outcome itself is the event log's `referrals.outcome`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onward.store.tables import ID, Base


class ReferralContact(Base):
    """One attempt to reach a person on the waiting list (a call, a text, a letter), reached or not."""

    __tablename__ = "referral_contacts"

    contact_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ID, ForeignKey("referrals.referral_id"), index=True)
    attempted_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(16))
    reached: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FirstAppointment(Base):
    """The first appointment booked for a referral on the waiting list, with whom and when; a later
    booking for the same referral replaces it (`replaced_at` set on the old one)."""

    __tablename__ = "first_appointments"

    appointment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    referral_id: Mapped[str] = mapped_column(ID, ForeignKey("referrals.referral_id"), index=True)
    staff_id: Mapped[str] = mapped_column(ID, ForeignKey("staff.staff_id"))
    appointment_on: Mapped[date] = mapped_column(Date)
    at_time: Mapped[str | None] = mapped_column(String(5))  # "HH:MM", local time
    booked_by: Mapped[str | None] = mapped_column(String(32))
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ServiceCodeIssue(Base):
    """A service code an import met that the catalogue does not know, or whose category disagreed with
    the catalogue's: counted per import, never dropped (the rows themselves are imported as given)."""

    __tablename__ = "service_code_issues"

    issue_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[int] = mapped_column(Integer, ForeignKey("imports.import_id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # "unknown" or "category"
    given_category: Mapped[str | None] = mapped_column(String(32))
    catalogue_category: Mapped[str | None] = mapped_column(String(32))
    rows: Mapped[int] = mapped_column(Integer)
    first_service_id: Mapped[str] = mapped_column(ID)
