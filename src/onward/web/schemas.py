"""Pydantic shapes of the JSON API, kept apart from the ORM tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
"""A timestamp in a JSON answer: SQLite hands back naive values, which Onward stores as UTC; this
marks them so, as RFC 3339 (and the OpenAPI `date-time` format) require."""


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=1024)


class MeOut(BaseModel):
    user_id: str
    username: str
    display_name: str | None
    role: str
    person_id: str | None
    program_ids: list[str]
    home: str = Field(description="The path of the role's home page.")


class SessionOut(BaseModel):
    user: MeOut
    csrf_token: str = Field(description="Send as the X-CSRF-Token header on later writes with this session.")


class HealthOut(BaseModel):
    status: str
    database: str
    revision: str | None = Field(description="The database's schema revision (None when not initialised).")
    head: str = Field(description="The newest schema revision this version of Onward knows.")


class ProgramOut(BaseModel):
    program_id: str
    name: str
    kind: str
    level_of_care: int
    capacity_slots: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # built from services.users.UserListing

    user_id: str
    username: str
    display_name: str | None
    role: str
    is_active: bool
    person_id: str | None
    staff_id: str | None
    program_ids: list[str]
    created_at: UtcDateTime
    last_login_at: UtcDateTime | None
    locked_until: UtcDateTime | None


class SessionViewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # built from services.signin.SessionView

    session_id: str = Field(description="Short id of the session (not its secret token).")
    created_at: UtcDateTime
    last_seen_at: UtcDateTime
    expires_at: UtcDateTime = Field(description="When the session ends whatever the activity (12 hours).")
    address: str | None
    user_agent: str | None
    current: bool = Field(description="True for the session making this request.")
