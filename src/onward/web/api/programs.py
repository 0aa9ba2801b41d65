"""Programs: a manager sees their own; leaders, analysts and administrators see all; others none."""

from __future__ import annotations

from fastapi import APIRouter

from onward.security.policy import Permission, is_allowed, require
from onward.services.users import program_ids_of
from onward.web import queries
from onward.web.deps import CurrentUser, SessionDep
from onward.web.errors import ROLE_CHECKED
from onward.web.schemas import ProgramOut

router = APIRouter(prefix="/programs", tags=["programs"])


@router.get("", responses=ROLE_CHECKED)
def list_programs(user: CurrentUser, session: SessionDep) -> list[ProgramOut]:
    """Program facts (kind, level of care, capacity slots) within the caller's scope."""
    if is_allowed(user.role, Permission.ALL_PROGRAMS):
        scope = None
    else:
        require(user.role, Permission.OWN_PROGRAMS)
        scope = list(program_ids_of(session=session, user_id=user.user_id))
    return [
        ProgramOut(
            program_id=p.program_id,
            name=p.name,
            kind=p.kind,
            level_of_care=p.level_of_care,
            capacity_slots=p.capacity_slots,
        )
        for p in queries.list_programs(session, scope)
    ]
