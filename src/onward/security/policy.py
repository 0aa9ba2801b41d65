"""Who may see what: each role's grants, and everything else denied (docs/web.md, "default deny")."""

from __future__ import annotations

from enum import StrEnum

from onward.errors import PermissionDeniedError
from onward.model.roles import Role


class Permission(StrEnum):
    OWN_RECORD = "own_record"  # a person's own episodes
    CASELOAD = "caseload"  # open episodes in the clinician's own programs
    OWN_PROGRAMS = "own_programs"  # capacity, census and waiting list of the manager's programs
    ALL_PROGRAMS = "all_programs"  # program list and capacity across the system (no people)
    AGGREGATES = "aggregates"  # system totals with small-cell suppression
    COUNCIL = "council"  # the council page: role text and user counts per role
    MANAGE_USERS = "manage_users"  # list and add users
    WHAT_IF = "what_if"  # run and compare simulated scenarios


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.PERSON: frozenset({Permission.OWN_RECORD}),
    Role.CLINICIAN: frozenset({Permission.CASELOAD}),
    Role.MANAGER: frozenset({Permission.OWN_PROGRAMS}),
    Role.LEADER: frozenset({Permission.AGGREGATES, Permission.ALL_PROGRAMS, Permission.WHAT_IF}),
    Role.ANALYST: frozenset({Permission.AGGREGATES, Permission.ALL_PROGRAMS, Permission.WHAT_IF}),
    Role.COUNCIL_MEMBER: frozenset({Permission.COUNCIL}),
    Role.ADMIN: frozenset({Permission.MANAGE_USERS, Permission.ALL_PROGRAMS, Permission.WHAT_IF}),
}


def is_allowed(role: str | None, permission: Permission) -> bool:
    """True only when `role` is a known role explicitly granted `permission`; anything unknown is denied."""
    if role is None:
        return False
    try:
        known = Role(role)
    except ValueError:
        return False
    return permission in GRANTS.get(known, frozenset())


def require(role: str | None, permission: Permission) -> None:
    """Raise PermissionDeniedError unless `role` holds `permission`."""
    if not is_allowed(role, permission):
        raise PermissionDeniedError(
            f"your role ({role or 'anonymous'}) may not see this page ({permission.value})"
        )
