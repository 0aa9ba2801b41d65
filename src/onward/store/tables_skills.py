"""Tables of the skills area: a site's lesson versions, cohorts and their members, planned and
delivered lessons with attendance, and perinatal EPDS screens (docs/skills.md).

Lessons themselves ship as package data (`onward.model.curricula`); only a site's own versions of
them live here. Lesson ids are the shipped ids, which never change meaning (docs/skills.md, "Lesson
ids"), so a delivery logged today still names the lesson it was years from now.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onward.store.tables import ID, Base

LESSON_ID = String(40)


class LessonVersion(Base):
    """A site's version of one lesson: its content, who wrote it, the readability result, and who
    approved it. The newest approved version of a lesson is the one delivered; until then, the
    shipped lesson is."""

    __tablename__ = "lesson_versions"
    __table_args__ = (UniqueConstraint("lesson_id", "number"),)

    version_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    lesson_id: Mapped[str] = mapped_column(LESSON_ID, index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per lesson (the shipped lesson is 0)
    based_on: Mapped[int] = mapped_column(Integer)  # the version number it was edited from
    content: Mapped[str] = mapped_column(Text)  # JSON of the editable fields
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # draft, approved, rejected, superseded
    readability: Mapped[str] = mapped_column(Text)  # JSON: band, measures, problems
    edited_by: Mapped[str | None] = mapped_column(String(32))
    edited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)


class Cohort(Base):
    """Who a set of lessons is delivered to: a class, a clinic group, or one expectant parent."""

    __tablename__ = "cohorts"

    cohort_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # class, clinic_group, parent
    track: Mapped[str] = mapped_column(String(16))  # school, prenatal, postpartum, perinatal (both)
    grade: Mapped[str | None] = mapped_column(String(2))  # "K", "1" ... "12" for a class
    program_id: Mapped[str] = mapped_column(ID, ForeignKey("programs.program_id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    staff_id: Mapped[str | None] = mapped_column(ID, ForeignKey("staff.staff_id"))
    person_id: Mapped[str | None] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    episode_id: Mapped[str | None] = mapped_column(ID)
    due_date: Mapped[date | None] = mapped_column(Date)
    birth_date: Mapped[date | None] = mapped_column(Date)
    calendar: Mapped[str | None] = mapped_column(Text)  # JSON: a class's term, weekdays and days off
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_on: Mapped[date | None] = mapped_column(Date)


class CohortMember(Base):
    """One student of a class or one parent of a group. Students are listed by name (a school roster,
    not a clinical record); a parent may be linked to their person record."""

    __tablename__ = "cohort_members"

    member_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cohort_id: Mapped[str] = mapped_column(String(32), ForeignKey("cohorts.cohort_id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    person_id: Mapped[str | None] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)


class SkillsSession(Base):
    """One lesson planned for a cohort on a day, and, once logged, when and how it was delivered."""

    __tablename__ = "skills_sessions"
    __table_args__ = (Index("ix_skills_sessions_cohort_planned", "cohort_id", "planned_on"),)

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    cohort_id: Mapped[str] = mapped_column(String(32), ForeignKey("cohorts.cohort_id"))
    lesson_id: Mapped[str] = mapped_column(LESSON_ID)
    skill: Mapped[str] = mapped_column(String(32))
    planned_on: Mapped[date] = mapped_column(Date)
    delivered_on: Mapped[date | None] = mapped_column(Date)
    lesson_version: Mapped[int | None] = mapped_column(Integer)  # 0 = as shipped
    minutes: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    logged_by: Mapped[str | None] = mapped_column(String(32))
    logged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SkillsAttendance(Base):
    """Whether one member was present at one delivered lesson."""

    __tablename__ = "skills_attendance"

    session_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("skills_sessions.session_id"), primary_key=True
    )
    member_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("cohort_members.member_id"), primary_key=True
    )
    present: Mapped[bool] = mapped_column(Boolean)


class PerinatalScreen(Base):
    """An EPDS screen at a set point of a perinatal track, the referral offered, and the answer given."""

    __tablename__ = "perinatal_screens"

    screen_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("people.person_id"), index=True)
    cohort_id: Mapped[str] = mapped_column(String(32), ForeignKey("cohorts.cohort_id"), index=True)
    lesson_id: Mapped[str | None] = mapped_column(LESSON_ID)  # the set point's lesson
    measurement_id: Mapped[str] = mapped_column(ID)
    screened_on: Mapped[date] = mapped_column(Date)
    total: Mapped[int] = mapped_column(Integer)
    self_harm: Mapped[bool] = mapped_column(Boolean)
    positive: Mapped[bool] = mapped_column(Boolean)
    screened_by: Mapped[str | None] = mapped_column(String(32))
    consent: Mapped[str | None] = mapped_column(String(16))  # agreed, declined (positive screens)
    consent_on: Mapped[date | None] = mapped_column(Date)
    referral_id: Mapped[str | None] = mapped_column(ID)
    followed_up_on: Mapped[date | None] = mapped_column(Date)
