"""Searching the audit log over JSON (administrators); the search itself is audited."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from onward.errors import ValidationError
from onward.services.audit_log import AuditQuery, search_audit
from onward.web.deps import ActorDep, NowDep, SessionDep
from onward.web.errors import error_responses
from onward.web.schemas import UtcDateTime

router = APIRouter(tags=["audit"])


class AuditLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    entry_id: int
    at: UtcDateTime
    username: str | None
    role: str | None
    action: str
    entity: str
    entity_id: str | None
    person_id: str | None
    outcome: str | None
    detail: str | None
    request_id: str | None


#: A calendar day as the API takes it: an ISO date, nothing else (a bare number is not a day).
_ISO_DAY = r"^\d{4}-\d{2}-\d{2}$"


def _day(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a date", column=field, expected="YYYY-MM-DD") from None


@router.get("/audit", responses=error_responses(400, 401, 403))
def get_audit(
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    user: Annotated[str | None, Query(max_length=80, description="Username or user id.")] = None,
    person: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since_text: Annotated[str | None, Query(alias="from", pattern=_ISO_DAY, description="YYYY-MM-DD")] = None,
    until_text: Annotated[str | None, Query(alias="to", pattern=_ISO_DAY, description="YYYY-MM-DD")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[AuditLineOut]:
    """Audit entries matching every given filter, newest first."""
    since, until = _day(since_text, "from"), _day(until_text, "to")
    query = AuditQuery(
        user=user,
        person_id=person,
        action=action,
        since=datetime.combine(since, time.min, now.tzinfo) if since else None,
        until=datetime.combine(until, time.min, now.tzinfo) + timedelta(days=1) if until else None,
        limit=limit,
    )
    return [
        AuditLineOut.model_validate(line)
        for line in search_audit(session=session, actor=actor, query=query, now=now)
    ]
