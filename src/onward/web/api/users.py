"""User accounts, for administrators only."""

from __future__ import annotations

from fastapi import APIRouter

from onward.services.users import list_users
from onward.web.deps import AdminUser, SessionDep
from onward.web.errors import ROLE_CHECKED
from onward.web.schemas import UserOut

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", responses=ROLE_CHECKED)
def users(user: AdminUser, session: SessionDep) -> list[UserOut]:
    """Every account with its role and programs (never the password hash)."""
    return [UserOut.model_validate(u) for u in list_users(session=session)]
