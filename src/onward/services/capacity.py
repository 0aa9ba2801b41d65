"""Capacity of a program: staff hours a week split into treatment, case management and other work (from
the staff table and the services each person recorded in the last 90 days), open slots, caseload per
clinician against a target, and the expected wait, with a control that moves hours between case
management and treatment and estimates the change by an M/M/c queue (`onward.model.queueing`).
docs/access.md, "Capacity".

For the program's manager (`own_programs`, the program among their own) and for leaders, analysts and
administrators (`all_programs`): staff ids and counts, no people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.errors import NotFoundError, PermissionDeniedError
from onward.model.access import LITTLE_WINDOW_DAYS
from onward.model.eventlog import CASE_MANAGEMENT, TREATMENT_CATEGORIES, StaffRole
from onward.model.graduation import defaults_for
from onward.model.queueing import QueueEstimate
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.services.care_day import care_day
from onward.services.referral_outcomes import open_slots
from onward.store.tables import Episode, Program, Referral, Service, Staff

_NOT_FOUND = "there is no record here that you may see"
#: Staff who carry a caseload (may be an episode's primary clinician; docs/pathways.md).
CLINICAL_ROLES = frozenset(
    {StaffRole.CLINICIAN, StaffRole.PRESCRIBER, StaffRole.CASE_MANAGER, StaffRole.PEER_SPECIALIST}
)
#: Where a staff member's hours go when they recorded no service in the window: by role.
_ROLE_SPLIT = {
    StaffRole.CLINICIAN.value: "treatment",
    StaffRole.PRESCRIBER.value: "treatment",
    StaffRole.CASE_MANAGER.value: "case_management",
}
#: How far back the episodes whose length sets the service time reach.
LENGTH_WINDOW_DAYS = 365
DAYS_PER_WEEK = 7


@dataclass(frozen=True, slots=True)
class StaffHours:
    staff_id: str
    role: str
    hours_per_week: int
    treatment: float
    case_management: float
    other: float
    basis: str  # "recorded services" or "role"
    caseload: int
    caseload_target: float | None

    @property
    def over_target(self) -> bool:
        return self.caseload_target is not None and self.caseload > self.caseload_target


@dataclass(frozen=True, slots=True)
class Capacity:
    program: Program
    day: date
    staff: list[StaffHours]
    slots: int
    census: int
    offers: int
    free_slots: int
    referrals: int  # in the last LITTLE_WINDOW_DAYS days
    episode_days: float | None
    episode_days_basis: str
    treatment_minutes: int  # of the program's episodes, in the window
    moved: float  # hours a week moved from case management to treatment (negative: back)

    @property
    def treatment_hours(self) -> float:
        return sum(s.treatment for s in self.staff)

    @property
    def cm_hours(self) -> float:
        return sum(s.case_management for s in self.staff)

    @property
    def other_hours(self) -> float:
        return sum(s.other for s in self.staff)

    @property
    def hours_per_place(self) -> float | None:
        """Treatment hours a week one person in care receives (recorded minutes over people in care)."""
        if self.census == 0 or self.treatment_minutes == 0:
            return None
        weeks = LITTLE_WINDOW_DAYS / DAYS_PER_WEEK
        return self.treatment_minutes / 60 / weeks / self.census

    def estimate(self, moved: float) -> QueueEstimate | None:
        """The M/M/c queue with `moved` hours a week more in treatment (None without the inputs)."""
        per_place = self.hours_per_place
        if per_place is None or self.episode_days is None:
            return None
        return QueueEstimate(self.referrals / LITTLE_WINDOW_DAYS, self.episode_days, self.places(moved))

    def places(self, moved: float) -> int:
        """Places in treatment: what the treatment hours hold, at most the program's capacity slots."""
        per_place = self.hours_per_place
        by_hours = 0 if per_place is None else math.floor(max(0.0, self.treatment_hours + moved) / per_place)
        return min(by_hours, self.slots) if self.slots > 0 else by_hours

    @property
    def cm_share_after(self) -> float | None:
        """The case-management share of treatment plus case-management hours after the move."""
        total = self.treatment_hours + self.cm_hours
        return None if total == 0 else (self.cm_hours - self.moved) / total


def _scope(session: Session, actor: Actor, program_id: str) -> Program:
    if not (actor.may(Permission.OWN_PROGRAMS) or actor.may(Permission.ALL_PROGRAMS)):
        raise PermissionDeniedError(f"your role ({actor.role}) may not do this (own_programs)")
    program = session.get(Program, program_id)
    mine = program_id in actor.program_ids
    if program is None or not (actor.may(Permission.ALL_PROGRAMS) or mine or actor.role == "operator"):
        raise NotFoundError(_NOT_FOUND)
    return program


def _minutes_by_staff(session: Session, program_id: str, since: date, day: date) -> dict[str, dict[str, int]]:
    rows = session.execute(
        select(Service.staff_id, Service.category, func.sum(Service.minutes))
        .join(Staff, Staff.staff_id == Service.staff_id)
        .where(Staff.program_id == program_id, Service.service_date > since, Service.service_date <= day)
        .group_by(Service.staff_id, Service.category)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for staff_id, category, minutes in rows:
        side = (
            "treatment"
            if category in TREATMENT_CATEGORIES
            else "case_management"
            if category == CASE_MANAGEMENT
            else "other"
        )
        split = out.setdefault(str(staff_id), {"treatment": 0, "case_management": 0, "other": 0})
        split[side] += int(minutes or 0)
    return out


def _split(member: Staff, minutes: dict[str, int] | None) -> tuple[float, float, float, str]:
    hours = float(member.hours_per_week)
    total = sum(minutes.values()) if minutes else 0
    if minutes and total > 0:
        return (
            hours * minutes["treatment"] / total,
            hours * minutes["case_management"] / total,
            hours * minutes["other"] / total,
            "recorded services",
        )
    side = _ROLE_SPLIT.get(member.role, "other")
    return (
        hours if side == "treatment" else 0.0,
        hours if side == "case_management" else 0.0,
        hours if side == "other" else 0.0,
        "role",
    )


def _episode_days(session: Session, program: Program, day: date) -> tuple[float | None, str]:
    since = day - timedelta(days=LENGTH_WINDOW_DAYS)
    rows = session.execute(
        select(Episode.start_date, Episode.end_date).where(
            Episode.program_id == program.program_id, Episode.end_date > since, Episode.end_date <= day
        )
    ).all()
    if rows:
        mean = sum((end - start).days for start, end in rows if end is not None) / len(rows)
        return max(
            mean, 1.0
        ), f"mean length of the {len(rows)} episodes ended in the last {LENGTH_WINDOW_DAYS} days"
    weeks = defaults_for(program.kind).planned_weeks
    return (
        float(weeks * DAYS_PER_WEEK),
        f"no episode ended in {LENGTH_WINDOW_DAYS} days: the planned length of the program kind "
        f"({weeks} weeks)",
    )


def program_capacity(
    *, session: Session, actor: Actor, program_id: str, now: datetime, moved: float = 0.0
) -> Capacity:
    program = _scope(session, actor, program_id)
    day = care_day(session, now)
    since = day - timedelta(days=LITTLE_WINDOW_DAYS)
    members = list(
        session.scalars(select(Staff).where(Staff.program_id == program_id).order_by(Staff.staff_id))
    )
    minutes = _minutes_by_staff(session, program_id, since, day)
    caseloads = dict(
        session.execute(
            select(Episode.primary_staff_id, func.count())
            .where(
                Episode.program_id == program_id,
                Episode.start_date <= day,
                (Episode.end_date.is_(None)) | (Episode.end_date > day),
                Episode.primary_staff_id.is_not(None),
            )
            .group_by(Episode.primary_staff_id)
        ).all()
    )
    clinical_hours = sum(m.hours_per_week for m in members if m.role in CLINICAL_ROLES)
    staff: list[StaffHours] = []
    for member in members:
        treatment, cm, other, basis = _split(member, minutes.get(member.staff_id))
        target = (
            program.capacity_slots * member.hours_per_week / clinical_hours
            if member.role in CLINICAL_ROLES and clinical_hours > 0
            else None
        )
        staff.append(
            StaffHours(
                member.staff_id, member.role, member.hours_per_week, treatment, cm, other, basis,
                int(caseloads.get(member.staff_id, 0)), target,
            )
        )  # fmt: skip
    slots, census, offers, free = open_slots(session, program_id, day)
    referrals = int(
        session.scalar(
            select(func.count())
            .select_from(Referral)
            .where(
                Referral.program_id == program_id,
                Referral.referral_date > since,
                Referral.referral_date <= day,
            )
        )
        or 0
    )
    treatment_minutes = int(
        session.scalar(
            select(func.coalesce(func.sum(Service.minutes), 0))
            .join(Episode, Episode.episode_id == Service.episode_id)
            .where(
                Episode.program_id == program_id,
                Service.category.in_(TREATMENT_CATEGORIES),
                Service.service_date > since,
                Service.service_date <= day,
            )
        )
        or 0
    )
    episode_days, basis = _episode_days(session, program, day)
    cm_total = sum(s.case_management for s in staff)
    treatment_total = sum(s.treatment for s in staff)
    bounded = max(-treatment_total, min(cm_total, moved))
    return Capacity(
        program,
        day,
        staff,
        slots,
        census,
        offers,
        free,
        referrals,
        episode_days,
        basis,
        treatment_minutes,
        bounded,
    )
