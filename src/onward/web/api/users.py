"""User accounts, for administrators only."""

from __future__ import annotations

from fastapi import APIRouter

from onward.services.users import list_users
from onward.web.deps import AdminUser, SessionDep
from onward.web.schemas import UserOut

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", responses={403: {}})
def users(user: AdminUser, session: SessionDep) -> list[UserOut]:
    """Every account with its role and programs (never the password hash)."""
    return [
        UserOut(
            user_id=u.user_id,
            username=u.username,
            display_name=u.display_name,
            role=u.role,
            is_active=u.is_active,
            person_id=u.person_id,
            program_ids=list(u.program_ids),
            created_at=u.created_at,
            last_login_at=u.last_login_at,
            locked_until=u.locked_until,
        )
        for u in list_users(session=session)
    ]
