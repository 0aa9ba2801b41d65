"""The roles of docs/web.md ("Pages by role") and what each one sees in the navigation, as plain data.

What a role may *do* is decided in `onward.security.policy`; this module only names the roles,
describes them in the users' language and lists their pages, so the web layer and the CLI agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from onward.errors import ValidationError


class Role(StrEnum):
    PERSON = "person"
    CLINICIAN = "clinician"
    MANAGER = "manager"
    LEADER = "leader"
    ANALYST = "analyst"
    COUNCIL_MEMBER = "council_member"
    ADMIN = "admin"
    TEACHER = "teacher"


#: One line per role: who the role is for and what it may see (docs/web.md, "Pages by role").
ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.PERSON: "A person in services: sees their own record only.",
    Role.CLINICIAN: "Therapist, prescriber, peer specialist or case manager: sees their own caseload.",
    Role.MANAGER: "Program manager: access, waiting list and caseloads against capacity in their programs.",
    Role.LEADER: "System leader or medical director: aggregates with suppression, no identified records.",
    Role.ANALYST: "Analyst: metrics and reports as suppressed aggregates; no identified records by default.",
    Role.COUNCIL_MEMBER: "Advisory council member (clinician or person with lived experience): ideas, plans.",
    Role.ADMIN: "Administrator: users and settings.",
    Role.TEACHER: "Teacher: teaches and logs the skills lessons of their school; sees no clinical record.",
}

#: Roles whose accounts are staff accounts (the stricter password policy applies to them).
STAFF_ROLES: frozenset[Role] = frozenset(
    {Role.CLINICIAN, Role.MANAGER, Role.LEADER, Role.ANALYST, Role.COUNCIL_MEMBER, Role.ADMIN, Role.TEACHER}
)

#: Roles whose account is tied to programs through user_programs.
PROGRAM_ROLES: frozenset[Role] = frozenset({Role.CLINICIAN, Role.MANAGER, Role.TEACHER})


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the navigation bar: a label and the path it opens."""

    label: str
    path: str


#: The home page each role lands on after login.
HOME_PATHS: dict[Role, str] = {
    Role.PERSON: "/me",
    Role.CLINICIAN: "/caseload",
    Role.MANAGER: "/programs",
    Role.LEADER: "/system",
    Role.ANALYST: "/system",
    Role.COUNCIL_MEMBER: "/council",
    Role.ADMIN: "/admin/users",
    Role.TEACHER: "/skills",
}

_API_DOCS = NavItem("API", "/api/v1/docs")
_WHAT_IF = NavItem("What if?", "/whatif")
_DASHBOARD = NavItem("Dashboard", "/dashboard")
_PROGRAM_METRICS = NavItem("Program metrics", "/programs/metrics")
_SKILLS = NavItem("Skills", "/skills")
_SKILLS_COVERAGE = NavItem("Skills coverage", "/skills/coverage")
_IDEAS = NavItem("Ideas", "/voice")
_VOICE_METRICS = NavItem("Voice", "/voice/metrics")
_COUNCIL_MEMBERS = NavItem("Council", "/council/members")
_TARGETS = NavItem("Targets", "/targets")

#: The navigation each role sees, home first. Entries whose page is not installed are hidden by the web layer.
NAVIGATION: dict[Role, tuple[NavItem, ...]] = {
    Role.PERSON: (NavItem("My care", HOME_PATHS[Role.PERSON]), _IDEAS),
    Role.CLINICIAN: (NavItem("Caseload", HOME_PATHS[Role.CLINICIAN]), _SKILLS, _IDEAS),
    Role.MANAGER: (
        NavItem("Programs", HOME_PATHS[Role.MANAGER]),
        _PROGRAM_METRICS,
        _TARGETS,
        _SKILLS_COVERAGE,
        _IDEAS,
    ),
    Role.LEADER: (
        NavItem("System", HOME_PATHS[Role.LEADER]),
        _DASHBOARD,
        _PROGRAM_METRICS,
        _TARGETS,
        _SKILLS_COVERAGE,
        _VOICE_METRICS,
        _WHAT_IF,
        _IDEAS,
    ),
    Role.ANALYST: (
        NavItem("System", HOME_PATHS[Role.ANALYST]),
        _DASHBOARD,
        _PROGRAM_METRICS,
        _VOICE_METRICS,
        _WHAT_IF,
        _API_DOCS,
    ),
    Role.COUNCIL_MEMBER: (
        NavItem("Council", HOME_PATHS[Role.COUNCIL_MEMBER]),
        _IDEAS,
        NavItem("Moderation", "/voice/moderation"),
    ),
    Role.ADMIN: (
        NavItem("Users", HOME_PATHS[Role.ADMIN]),
        _PROGRAM_METRICS,
        _WHAT_IF,
        _API_DOCS,
        _COUNCIL_MEMBERS,
    ),
    Role.TEACHER: (NavItem("Skills", HOME_PATHS[Role.TEACHER]), _SKILLS_COVERAGE, _IDEAS),
}


def parse_role(value: str) -> Role:
    """The role named `value`; an unknown name is a ValidationError that lists the valid ones."""
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValidationError(f"unknown role {value!r}", column="role", expected=f"one of {names}") from None


#: The advisory council's part: who sits on it and what it may see (docs/web.md).
COUNCIL_ROLE_TEXT = (
    "The advisory council brings together clinicians and people with lived experience of services. "
    "It triages the ideas that people in services and staff submit, decides on them, and follows the plans "
    "that come of them through to a measured result. Council members see ideas and plans; they do not see "
    "anyone's clinical record."
)
