"""The event-log data contract of docs/extracts.md, as plain data.

Every layer (store tables, extracts, metrics, simulator) reads its column names, types and
allowed values from here, so that a column cannot mean two things in two places.

Version 2 of the contract added `episodes.primary_staff_id` and the referral outcome columns
(`referrals.outcome`, `outcome_date`, `outcome_reason`). They are `optional`: an extract written
against version 1 still imports, and the values it lacks are derived (`derived_outcome` below).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

ColumnKind = Literal["str", "int", "date", "bool", "json"]


class ProgramKind(StrEnum):
    OUTPATIENT = "outpatient"
    INTENSIVE_OUTPATIENT = "intensive_outpatient"
    ACT_TEAM = "act_team"
    CASE_MANAGEMENT = "case_management"
    MEDICATION_FOR_OUD = "medication_for_oud"
    RESIDENTIAL = "residential"
    INPATIENT = "inpatient"
    CRISIS = "crisis"
    SCHOOL = "school"
    PERINATAL = "perinatal"


class StaffRole(StrEnum):
    CLINICIAN = "clinician"
    PRESCRIBER = "prescriber"
    CASE_MANAGER = "case_manager"
    PEER_SPECIALIST = "peer_specialist"
    TEACHER = "teacher"
    MANAGER = "manager"
    LEADER = "leader"


class EndReason(StrEnum):
    GRADUATED = "graduated"
    STEPPED_DOWN = "stepped_down"
    STEPPED_UP = "stepped_up"
    TRANSFERRED = "transferred"
    DISENGAGED = "disengaged"
    MOVED = "moved"
    DIED = "died"
    OTHER = "other"


class ServiceCategory(StrEnum):
    ASSESSMENT = "assessment"
    TREATMENT = "treatment"
    MEDICATION = "medication"
    CASE_MANAGEMENT = "case_management"
    PEER_SUPPORT = "peer_support"
    SKILLS = "skills"
    CRISIS = "crisis"
    OTHER = "other"


#: The categories that count as effective treatment (docs/metrics.md, service mix), and case management.
TREATMENT_CATEGORIES: tuple[str, ...] = (ServiceCategory.TREATMENT.value, ServiceCategory.MEDICATION.value)
CASE_MANAGEMENT: str = ServiceCategory.CASE_MANAGEMENT.value


class Instrument(StrEnum):
    PHQ9 = "phq9"
    PHQ2 = "phq2"
    GAD7 = "gad7"
    GAD2 = "gad2"
    AUDIT = "audit"
    AUDITC = "auditc"
    DAST10 = "dast10"
    PCL5 = "pcl5"
    EPDS = "epds"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class ReferralSource(StrEnum):
    SELF = "self"
    FAMILY = "family"
    PRIMARY_CARE = "primary_care"
    HOSPITAL = "hospital"
    CRISIS_LINE = "crisis_line"
    SCHOOL = "school"
    PERINATAL = "perinatal"
    JUSTICE = "justice"
    SOCIAL_SERVICES = "social_services"
    OTHER = "other"


class Priority(StrEnum):
    """CCBHC access tiers: emergent (same day), urgent (1 business day), routine (10 business days)."""

    EMERGENT = "emergent"
    URGENT = "urgent"
    ROUTINE = "routine"


class ReferralOutcome(StrEnum):
    """Where a referral stands: waiting until it is offered a slot, admitted or closed another way."""

    WAITING = "waiting"
    OFFERED = "offered"
    ADMITTED = "admitted"
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"
    NOT_REACHED = "not_reached"
    REFERRED_ELSEWHERE = "referred_elsewhere"


OPEN_OUTCOMES: tuple[ReferralOutcome, ...] = (ReferralOutcome.WAITING, ReferralOutcome.OFFERED)
"""Outcomes of a referral still on the waiting list (an offer may yet be declined)."""


def derived_outcome(named_by_episode: bool) -> ReferralOutcome:
    """The outcome of a referral whose extract gives none: admitted when an episode names it, else
    waiting (its outcome_date is then the earliest such episode's start_date, or empty)."""
    return ReferralOutcome.ADMITTED if named_by_episode else ReferralOutcome.WAITING


CONTRACT_VERSION = 2
"""Version of the event-log contract Onward writes (docs/extracts.md, "Versions")."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the contract; `choices` lists the allowed values of an enumerated column.

    An `optional` column was added after the contract's first version: an imported extract may
    leave it out (or leave its cells empty), and the importer fills it as docs/extracts.md says.
    """

    name: str
    kind: ColumnKind
    nullable: bool = False
    choices: tuple[str, ...] | None = None
    references: str | None = None  # "table.column" the value must exist in
    minimum: int | None = None
    maximum: int | None = None
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]

    @property
    def key(self) -> str:
        """The first column is the table's id."""
        return self.columns[0].name

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(m.value for m in enum)


PEOPLE = Table(
    "people",
    (
        Column("person_id", "str"),
        Column("birth_year", "int", minimum=1900, maximum=2100),
        Column("sex", "str", choices=_values(Sex)),
        Column("postcode_prefix", "str"),
        Column("school_grade", "int", nullable=True, minimum=0, maximum=12),
        Column("pregnancy_due_date", "date", nullable=True),
    ),
)

PROGRAMS = Table(
    "programs",
    (
        Column("program_id", "str"),
        Column("name", "str"),
        Column("kind", "str", choices=_values(ProgramKind)),
        Column("level_of_care", "int", minimum=1, maximum=5),
        Column("capacity_slots", "int", minimum=0),
    ),
)

STAFF = Table(
    "staff",
    (
        Column("staff_id", "str"),
        Column("role", "str", choices=_values(StaffRole)),
        Column("program_id", "str", references="programs.program_id"),
        Column("hours_per_week", "int", minimum=0, maximum=80),
    ),
)

REFERRALS = Table(
    "referrals",
    (
        Column("referral_id", "str"),
        Column("person_id", "str", references="people.person_id"),
        Column("program_id", "str", references="programs.program_id"),
        Column("referral_date", "date"),
        Column("source", "str", choices=_values(ReferralSource)),
        Column("priority", "str", choices=_values(Priority)),
        Column("outcome", "str", choices=_values(ReferralOutcome), optional=True),
        Column("outcome_date", "date", nullable=True, optional=True),
        Column("outcome_reason", "str", nullable=True, optional=True),
    ),
)

EPISODES = Table(
    "episodes",
    (
        Column("episode_id", "str"),
        Column("person_id", "str", references="people.person_id"),
        Column("program_id", "str", references="programs.program_id"),
        Column("referral_id", "str", nullable=True, references="referrals.referral_id"),
        Column("primary_staff_id", "str", nullable=True, references="staff.staff_id", optional=True),
        Column("start_date", "date"),
        Column("planned_end_date", "date", nullable=True),
        Column("end_date", "date", nullable=True),
        Column("end_reason", "str", nullable=True, choices=_values(EndReason)),
        Column("is_sud", "bool"),
    ),
)

SERVICES = Table(
    "services",
    (
        Column("service_id", "str"),
        Column("person_id", "str", references="people.person_id"),
        Column("episode_id", "str", nullable=True, references="episodes.episode_id"),
        Column("staff_id", "str", nullable=True, references="staff.staff_id"),
        Column("service_date", "date"),
        Column("code", "str"),
        Column("minutes", "int", minimum=0, maximum=1440),
        Column("category", "str", choices=_values(ServiceCategory)),
    ),
)

MEASUREMENTS = Table(
    "measurements",
    (
        Column("measurement_id", "str"),
        Column("person_id", "str", references="people.person_id"),
        Column("episode_id", "str", nullable=True, references="episodes.episode_id"),
        Column("instrument", "str", choices=_values(Instrument)),
        Column("measured_on", "date"),
        Column("score", "int", minimum=0),
        Column("items", "json", nullable=True),
    ),
)

#: In dependency order: a table only references tables before it.
EVENT_LOG: tuple[Table, ...] = (PEOPLE, PROGRAMS, STAFF, REFERRALS, EPISODES, SERVICES, MEASUREMENTS)
TABLES: dict[str, Table] = {t.name: t for t in EVENT_LOG}
