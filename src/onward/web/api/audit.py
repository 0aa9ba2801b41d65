"""Searching the audit log over JSON (administrators); the search itself is audited."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from onward.services.audit_log import AuditQuery, search_audit
from onward.web.deps import ActorDep, NowDep, SessionDep

router = APIRouter(tags=["audit"])


class AuditLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    entry_id: int
    at: datetime
    username: str | None
    role: str | None
    action: str
    entity: str
    entity_id: str | None
    person_id: str | None
    outcome: str | None
    detail: str | None
    request_id: str | None


@router.get("/audit", responses={401: {}, 403: {}})
def get_audit(
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    user: Annotated[str | None, Query(max_length=80, description="Username or user id.")] = None,
    person: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[date | None, Query(alias="from")] = None,
    until: Annotated[date | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[AuditLineOut]:
    """Audit entries matching every given filter, newest first."""
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
