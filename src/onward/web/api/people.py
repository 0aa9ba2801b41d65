"""A person's record over JSON, and break-glass: the same services and policy as the pages."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from onward.services.breakglass import break_glass
from onward.services.records import read_person
from onward.web.deps import ActorDep, NowDep, SessionDep, audit_writer

router = APIRouter(tags=["people"])


class EpisodeLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    episode_id: str
    program_id: str
    program_name: str
    start_date: date
    planned_end_date: date | None
    end_date: date | None
    end_reason: str | None
    is_sud: bool = Field(description="A 42 CFR Part 2 record: disclosed only under the person's consent.")
    services: int
    latest_instrument: str | None
    latest_score: int | None
    latest_measured_on: date | None


class PersonRecordOut(BaseModel):
    person_id: str
    birth_year: int
    sex: str
    basis: str = Field(description="Why you may see this record: assigned, program manager, break-glass, ...")
    episodes: list[EpisodeLineOut] = Field(description="Only the episodes you may see.")


class BreakGlassIn(BaseModel):
    person_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=15, max_length=2000, description="Why you need this record now.")
    password: str = Field(
        min_length=1, max_length=1024, description="Your password again (re-authentication)."
    )


class BreakGlassOut(BaseModel):
    grant_id: str
    person_id: str
    expires_at: datetime


@router.get("/people/{person_id}", responses={401: {}, 403: {}, 404: {}})
def get_person(
    request: Request, person_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> PersonRecordOut:
    """The record as you may see it; 404 when there is none you may see. Every read is audited."""
    record = read_person(
        session=session,
        actor=actor,
        person_id=person_id,
        now=now,
        audit=audit_writer(request).record,
        purpose="API",
    )
    return PersonRecordOut(
        person_id=record.person_id,
        birth_year=record.birth_year,
        sex=record.sex,
        basis=record.basis.value,
        episodes=[EpisodeLineOut.model_validate(e) for e in record.episodes],
    )


@router.post("/break-glass", status_code=201, responses={401: {}, 403: {}, 404: {}, 422: {}})
def post_break_glass(body: BreakGlassIn, session: SessionDep, actor: ActorDep, now: NowDep) -> BreakGlassOut:
    """Emergency access to a person outside your caseload for one hour; needs a reason and your password."""
    grant = break_glass(
        session=session,
        actor=actor,
        person_id=body.person_id,
        reason=body.reason,
        password=body.password,
        now=now,
    )
    return BreakGlassOut(grant_id=grant.grant_id, person_id=grant.person_id, expires_at=grant.expires_at)
