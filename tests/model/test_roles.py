"""The roles of docs/web.md: names, descriptions, home pages and navigation agree with each other."""

from __future__ import annotations

import pytest

from onward.errors import ValidationError
from onward.model.roles import (
    HOME_PATHS,
    NAVIGATION,
    PROGRAM_ROLES,
    ROLE_DESCRIPTIONS,
    STAFF_ROLES,
    Role,
    parse_role,
)


def test_the_seven_roles_of_the_design_and_the_teacher() -> None:
    """The design's seven roles, and teachers (docs/skills.md): they teach lessons, and see no record."""
    assert [r.value for r in Role] == [
        "person",
        "clinician",
        "manager",
        "leader",
        "analyst",
        "council_member",
        "admin",
        "teacher",
    ]


def test_every_role_has_a_description_a_home_and_navigation_starting_at_home() -> None:
    for role in Role:
        assert ROLE_DESCRIPTIONS[role].endswith(".")
        assert NAVIGATION[role][0].path == HOME_PATHS[role]
        paths = [item.path for item in NAVIGATION[role]]
        assert len(paths) == len(set(paths)), role


def test_only_people_in_services_are_not_staff() -> None:
    assert set(Role) - STAFF_ROLES == {Role.PERSON}
    assert PROGRAM_ROLES <= STAFF_ROLES


def test_parse_role_names_the_valid_roles_on_error() -> None:
    assert parse_role("council_member") is Role.COUNCIL_MEMBER
    with pytest.raises(ValidationError, match="one of person, clinician"):
        parse_role("superuser")
