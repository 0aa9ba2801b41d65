"""Default deny: only explicit grants open a door; unknown roles and anonymous visitors get nothing."""

from __future__ import annotations

import pytest

from onward.errors import PermissionDeniedError
from onward.model.roles import Role
from onward.security.policy import GRANTS, Permission, is_allowed, require


def test_every_role_has_grants_and_identified_records_stay_with_care_roles() -> None:
    assert set(GRANTS) == set(Role)
    identified = {Permission.OWN_RECORD, Permission.CASELOAD, Permission.OWN_PROGRAMS}
    for role in (Role.LEADER, Role.ANALYST, Role.COUNCIL_MEMBER, Role.ADMIN):
        assert not GRANTS[role] & identified, role


@pytest.mark.parametrize("role", [None, "", "superuser", "ADMIN"])
def test_unknown_roles_are_denied_everything(role: str | None) -> None:
    for permission in Permission:
        assert not is_allowed(role, permission)
    with pytest.raises(PermissionDeniedError):
        require(role, Permission.AGGREGATES)


def test_grants_are_exactly_what_the_design_says() -> None:
    assert is_allowed("person", Permission.OWN_RECORD)
    assert not is_allowed("person", Permission.CASELOAD)
    assert is_allowed("clinician", Permission.CASELOAD)
    assert not is_allowed("clinician", Permission.MANAGE_USERS)
    assert is_allowed("admin", Permission.MANAGE_USERS)
    assert is_allowed("leader", Permission.AGGREGATES) and is_allowed("analyst", Permission.AGGREGATES)
    assert not is_allowed("council_member", Permission.AGGREGATES)
