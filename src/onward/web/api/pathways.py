"""The pathway over JSON: caseload and flags, episodes and their changes, referrals (ordinary and fast
re-entry), measurements, services and self-report links. The same services and policy as the pages:
a record you may not see answers 404, and every write needs the X-CSRF-Token header."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from onward.model.eventlog import EndReason
from onward.model.flags import Flag
from onward.services import episodes as episode_service
from onward.services import measures, referrals, selfreport
from onward.services.caseload import caseload
from onward.services.episode_record import my_progress, read_episode
from onward.services.episode_rows import Scores
from onward.store.tables import Referral
from onward.web.deps import ActorDep, NowDep, SessionDep, audit_read, audit_writer
from onward.web.errors import error_responses
from onward.web.pathway_views import flag_rules, settings_of
from onward.web.schemas import UtcDateTime

router = APIRouter(tags=["pathways"])
_ERRORS = error_responses(400, 401, 403, 404, 409)


class FlagOut(BaseModel):
    flag: str = Field(
        description="risk, deteriorating, not_improving, stuck, exit_passed, measure_overdue, "
        "ready_to_graduate (docs/flags.md)"
    )
    since: date
    reason: str


class ScoresOut(BaseModel):
    instrument: str
    points: list[tuple[date, int]] = Field(description="(measured_on, total) in date order.")


def _flags(flags: list[Flag] | tuple[Flag, ...]) -> list[FlagOut]:
    return [FlagOut(flag=f.flag, since=f.since, reason=f.reason) for f in flags]


def _scores(scores: tuple[Scores, ...]) -> list[ScoresOut]:
    return [ScoresOut(instrument=s.instrument, points=list(s.points)) for s in scores]


class CaseloadLineOut(BaseModel):
    episode_id: str
    person_id: str
    program_id: str
    program_name: str
    start_date: date
    planned_exit: date | None
    weeks: int
    stage: str
    is_sud: bool
    flags: list[FlagOut] = Field(description="Most urgent first.")
    scores: list[ScoresOut] = Field(description="The latest eight PHQ-9 and GAD-7 totals.")


class CaseloadOut(BaseModel):
    as_of: date
    episodes: list[CaseloadLineOut] = Field(
        description="Most urgent first: risk, then the other flags in order."
    )
    counts: dict[str, int] = Field(description="Episodes per flag ('none': without flags), before filters.")


@router.get("/caseload", responses=_ERRORS)
def get_caseload(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
    flag: str | None = None,
    program_id: str | None = None,
    stage: Literal["active", "stepping_down"] | None = None,
) -> CaseloadOut:
    """Your assigned open episodes with their flags, most urgent first; audited."""
    result = caseload(
        session=session,
        actor=actor,
        now=now,
        rules=flag_rules(request),
        audit=audit_writer(request).record,
        flag=flag,
        program_id=program_id,
        stage=stage,
    )
    return CaseloadOut(
        as_of=result.as_of,
        counts=result.counts,
        episodes=[
            CaseloadLineOut(
                episode_id=line.episode_id,
                person_id=line.person_id,
                program_id=line.program_id,
                program_name=line.program_name,
                start_date=line.start_date,
                planned_exit=line.planned_exit,
                weeks=line.weeks,
                stage=line.stage.value,
                is_sud=line.is_sud,
                flags=_flags(line.flags),
                scores=_scores(line.scores),
            )
            for line in result.lines
        ],
    )


class ServiceOut(BaseModel):
    service_date: date
    code: str
    category: str
    minutes: int
    staff_id: str | None


class CriteriaOut(BaseModel):
    text: str
    basis: str = Field(description="'default:<program kind>', 'previous:<episode>' or 'edited'.")
    reason: str | None
    written_at: UtcDateTime
    replaced_at: UtcDateTime | None


class ExtensionOut(BaseModel):
    previous_exit: date | None
    new_exit: date
    reason: str
    extended_at: UtcDateTime


class LinkOut(BaseModel):
    link_id: str
    instrument: str
    created_at: UtcDateTime
    expires_at: UtcDateTime
    status: str = Field(description="open, used or expired")


class EpisodeOut(BaseModel):
    episode_id: str
    person_id: str
    program_id: str
    program_kind: str
    primary_staff_id: str | None
    start_date: date
    planned_exit: date | None
    end_date: date | None
    end_reason: str | None
    is_sud: bool
    stage: str
    weeks: int
    as_of: date
    flags: list[FlagOut]
    scores: list[ScoresOut]
    services: list[ServiceOut]
    criteria: list[CriteriaOut] = Field(description="Newest first; the first is in force unless replaced.")
    extensions: list[ExtensionOut]
    links: list[LinkOut]


def _episode_out(
    request: Request, session: SessionDep, actor: ActorDep, now: NowDep, episode_id: str
) -> EpisodeOut:
    r = read_episode(
        session=session,
        actor=actor,
        episode_id=episode_id,
        now=now,
        rules=flag_rules(request),
        audit=audit_writer(request).record,
    )
    e = r.episode
    return EpisodeOut(
        episode_id=e.episode_id,
        person_id=e.person_id,
        program_id=e.program_id,
        program_kind=r.program.kind,
        primary_staff_id=e.primary_staff_id,
        start_date=e.start_date,
        planned_exit=e.planned_end_date,
        end_date=e.end_date,
        end_reason=e.end_reason,
        is_sud=e.is_sud,
        stage=r.stage.value,
        weeks=r.weeks,
        as_of=r.as_of,
        flags=_flags(r.flags),
        scores=_scores(r.scores),
        services=[
            ServiceOut(
                service_date=s.service_date,
                code=s.code,
                category=s.category,
                minutes=s.minutes,
                staff_id=s.staff_id,
            )
            for s in r.services
        ],
        criteria=[
            CriteriaOut(
                text=c.text,
                basis=c.basis,
                reason=c.reason,
                written_at=c.written_at,
                replaced_at=c.replaced_at,
            )
            for c in r.criteria
        ],
        extensions=[
            ExtensionOut(
                previous_exit=x.previous_exit, new_exit=x.new_exit, reason=x.reason, extended_at=x.extended_at
            )
            for x in r.extensions
        ],
        links=[
            LinkOut(
                link_id=k.link_id,
                instrument=k.instrument,
                created_at=k.created_at,
                expires_at=k.expires_at,
                status=k.status.value,
            )
            for k in r.links
        ],
    )


@router.get("/episodes/{episode_id}", responses=_ERRORS)
def get_episode(
    request: Request, episode_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> EpisodeOut:
    """One episode: stage, flags, scores, services, criteria, extensions and links; audited."""
    return _episode_out(request, session, actor, now, episode_id)


@router.get("/episodes/{episode_id}/flags", responses=_ERRORS)
def get_episode_flags(
    request: Request, episode_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> list[FlagOut]:
    """The episode's flags today, most urgent first; audited."""
    return _episode_out(request, session, actor, now, episode_id).flags


class MeasurementIn(BaseModel):
    instrument: str = Field(description="phq9, gad7, ... (onward instruments list)")
    answers: list[int] = Field(
        description="One answer value per item, as the instrument's options number them."
    )
    measured_on: date | None = Field(None, description="Default: today (the care day).")


class MeasurementOut(BaseModel):
    measurement_id: str
    response_id: str = Field(description="The stored FHIR QuestionnaireResponse.")
    instrument: str
    total: int
    band: str
    flags: list[str] = Field(description="Flags of the form itself, e.g. 'risk' for PHQ-9 item 9 above 0.")
    measured_on: date


@router.post("/episodes/{episode_id}/measurements", status_code=201, responses=_ERRORS)
def post_measurement(
    body: MeasurementIn, episode_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> MeasurementOut:
    """Score the answers by the instrument's definition and record them on the episode."""
    recorded = measures.record_measurement(
        session=session,
        actor=actor,
        episode_id=episode_id,
        instrument=body.instrument,
        answers=body.answers,
        measured_on=body.measured_on,
        now=now,
    )
    return MeasurementOut(
        measurement_id=recorded.measurement.measurement_id,
        response_id=recorded.response_id,
        instrument=recorded.score.instrument,
        total=recorded.score.total,
        band=recorded.score.band,
        flags=list(recorded.score.flags),
        measured_on=recorded.measurement.measured_on,
    )


class ServiceIn(BaseModel):
    code: str = Field(description="A code of the service-code catalog (HCPCS / CPT).")
    service_date: date | None = None
    minutes: int | None = Field(None, description="Default: the code's typical length.")


class ServiceCreatedOut(BaseModel):
    service_id: str
    code: str
    category: str
    minutes: int
    service_date: date


@router.post("/episodes/{episode_id}/services", status_code=201, responses=_ERRORS)
def post_service(
    body: ServiceIn, episode_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> ServiceCreatedOut:
    """Record a service on the episode; its category comes from the code."""
    s = measures.record_service(
        session=session,
        actor=actor,
        episode_id=episode_id,
        code=body.code,
        service_date=body.service_date,
        minutes=body.minutes,
        now=now,
    )
    return ServiceCreatedOut(
        service_id=s.service_id,
        code=s.code,
        category=s.category,
        minutes=s.minutes,
        service_date=s.service_date,
    )


class LinkIn(BaseModel):
    instrument: str = "phq9"
    valid_days: int | None = Field(
        None, ge=1, le=30, description="Default: the setting self_report_link_days."
    )


class LinkCreatedOut(BaseModel):
    link_id: str
    url: str = Field(description="The single-use link; shown this once, only its keyed hash is stored.")
    expires_at: UtcDateTime


@router.post("/episodes/{episode_id}/links", status_code=201, responses=_ERRORS)
def post_link(
    request: Request, body: LinkIn, episode_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> LinkCreatedOut:
    """A single-use questionnaire link for the person of the episode (no account needed)."""
    settings = settings_of(request)
    sent = selfreport.send_link(
        session=session,
        actor=actor,
        episode_id=episode_id,
        instrument=body.instrument,
        secret_key=settings.secret_key,
        valid_for=timedelta(days=body.valid_days or settings.self_report_link_days),
        texts_dir=settings.instrument_texts_dir,
        now=now,
    )
    return LinkCreatedOut(
        link_id=sent.link_id,
        url=f"{str(request.base_url).rstrip('/')}{sent.path}",
        expires_at=sent.expires_at,
    )


class StageIn(BaseModel):
    stage: Literal["stepping_down", "active"]
    note: str = Field(description="Why (required).")


@router.post("/episodes/{episode_id}/stage", responses=_ERRORS)
def post_stage(
    request: Request, body: StageIn, episode_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> EpisodeOut:
    """Step down (active → stepping_down) or resume (stepping_down → active)."""
    move = episode_service.step_down if body.stage == "stepping_down" else episode_service.resume
    move(session=session, actor=actor, episode_id=episode_id, note=body.note, now=now)
    return _episode_out(request, session, actor, now, episode_id)


class EndIn(BaseModel):
    end_reason: EndReason = EndReason.GRADUATED
    note: str | None = Field(None, description="Required unless graduated or died.")
    end_date: date | None = Field(None, description="Default: today (the care day).")


@router.post("/episodes/{episode_id}/end", responses=_ERRORS)
def post_end(
    request: Request, body: EndIn, episode_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> EpisodeOut:
    """End the episode: graduate, or another end reason of the event log."""
    episode_service.end_episode(
        session=session,
        actor=actor,
        episode_id=episode_id,
        end_reason=body.end_reason,
        note=body.note,
        on=body.end_date,
        now=now,
    )
    return _episode_out(request, session, actor, now, episode_id)


class ExitIn(BaseModel):
    planned_exit: date
    reason: str = Field(description="Why the exit moves (required; kept with the episode).")


@router.post("/episodes/{episode_id}/exit", responses=_ERRORS)
def post_exit(
    request: Request, body: ExitIn, episode_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> EpisodeOut:
    """Move the planned exit later, with a reason."""
    episode_service.extend_exit(
        session=session,
        actor=actor,
        episode_id=episode_id,
        new_exit=body.planned_exit,
        reason=body.reason,
        now=now,
    )
    return _episode_out(request, session, actor, now, episode_id)


class CriteriaIn(BaseModel):
    text: str
    reason: str


@router.put("/episodes/{episode_id}/criteria", responses=_ERRORS)
def put_criteria(
    request: Request, body: CriteriaIn, episode_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> EpisodeOut:
    """Rewrite the graduation criteria, with the reason; the earlier version is kept."""
    episode_service.edit_criteria(
        session=session, actor=actor, episode_id=episode_id, text=body.text, reason=body.reason, now=now
    )
    return _episode_out(request, session, actor, now, episode_id)


class ReferralOut(BaseModel):
    referral_id: str
    person_id: str
    program_id: str
    referral_date: date
    priority: str
    source: str
    outcome: str
    stage: str | None = Field(description="referred or waiting while open; None once admitted or closed.")
    fast_reentry_of: str | None


def _referral_out(session: SessionDep, referral: Referral, fast_reentry_of: str | None = None) -> ReferralOut:
    stage = referrals.referral_stage(session, referral)
    return ReferralOut(
        referral_id=referral.referral_id,
        person_id=referral.person_id,
        program_id=referral.program_id,
        referral_date=referral.referral_date,
        priority=referral.priority,
        source=referral.source,
        outcome=referral.outcome,
        stage=stage.value if stage else None,
        fast_reentry_of=fast_reentry_of,
    )


class ReferralIn(BaseModel):
    person_id: str
    program_id: str
    source: str = Field(description="self, family, primary_care, hospital, ... (docs/extracts.md)")
    priority: str = Field("routine", description="emergent, urgent or routine (CCBHC access tiers)")
    note: str | None = None


@router.post("/referrals", status_code=201, responses=_ERRORS)
def post_referral(body: ReferralIn, session: SessionDep, actor: ActorDep, now: NowDep) -> ReferralOut:
    """An ordinary referral: stage 'referred' until intake is done."""
    referral = referrals.create_referral(
        session=session,
        actor=actor,
        person_id=body.person_id,
        program_id=body.program_id,
        source=body.source,
        priority=body.priority,
        note=body.note,
        now=now,
    )
    return _referral_out(session, referral)


class ReentryIn(BaseModel):
    reason: str
    program_id: str | None = Field(None, description="Default: the program the person left.")
    priority: str = "routine"


@router.post("/episodes/{episode_id}/reentry", status_code=201, responses=_ERRORS)
def post_reentry(
    body: ReentryIn, episode_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> ReferralOut:
    """Refer a graduated (or stepped-down) person back: fast re-entry, no full intake."""
    referral = referrals.create_fast_reentry(
        session=session,
        actor=actor,
        episode_id=episode_id,
        reason=body.reason,
        program_id=body.program_id,
        priority=body.priority,
        now=now,
    )
    return _referral_out(session, referral, episode_id)


class IntakeIn(BaseModel):
    note: str | None = None


@router.post("/referrals/{referral_id}/intake", responses=_ERRORS)
def post_intake(
    body: IntakeIn, referral_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> ReferralOut:
    """Intake done: the referral joins the waiting list."""
    referral = referrals.complete_intake(
        session=session, actor=actor, referral_id=referral_id, note=body.note, now=now
    )
    return _referral_out(session, referral)


class EpisodeStartIn(BaseModel):
    primary_staff_id: str
    planned_exit: date | None = Field(None, description="Default: the program kind's planned length.")
    criteria: str | None = Field(None, description="Default: the program kind's written criteria.")
    criteria_reason: str | None = Field(
        None, description="Required when the criteria differ from the defaults."
    )
    is_sud: bool | None = Field(
        None, description="A 42 CFR Part 2 episode; default: medication for OUD programs."
    )
    start: date | None = None


@router.post("/referrals/{referral_id}/episode", status_code=201, responses=_ERRORS)
def post_episode(
    request: Request,
    body: EpisodeStartIn,
    referral_id: str,
    session: SessionDep,
    actor: ActorDep,
    now: NowDep,
) -> EpisodeOut:
    """Start an active episode from a waiting referral: clinician, planned exit and criteria required."""
    defaults = referrals.start_defaults(session=session, actor=actor, referral_id=referral_id, now=now)
    episode = referrals.start_episode(
        session=session,
        actor=actor,
        referral_id=referral_id,
        primary_staff_id=body.primary_staff_id,
        planned_exit=body.planned_exit or defaults.planned_exit,
        criteria=body.criteria or defaults.criteria,
        criteria_reason=body.criteria_reason,
        is_sud=defaults.is_sud if body.is_sud is None else body.is_sud,
        start=body.start,
        now=now,
    )
    return _episode_out(request, session, actor, now, episode.episode_id)


class WaitingOut(BaseModel):
    referral_id: str
    person_id: str
    referral_date: date
    priority: str
    stage: str
    fast_reentry_of: str | None


@router.get("/programs/{program_id}/waiting", responses=_ERRORS)
def get_waiting(
    request: Request, program_id: str, session: SessionDep, actor: ActorDep, now: NowDep
) -> list[WaitingOut]:
    """The program's open referrals in the order places are offered (fast re-entries first in a tier)."""
    listed = referrals.waiting_list(session=session, actor=actor, program_id=program_id, now=now)
    session.commit()
    audit_read(
        request,
        actor,
        now=now,
        entity="waiting_list",
        entity_id=program_id,
        person_id=None,
        detail=f"{len(listed)} open referrals",
    )
    return [
        WaitingOut(
            referral_id=w.referral_id,
            person_id=w.person_id,
            referral_date=w.referral_date,
            priority=w.priority,
            stage=w.stage.value,
            fast_reentry_of=w.fast_reentry_of,
        )
        for w in listed
    ]


class MyEpisodeOut(BaseModel):
    episode_id: str
    program_name: str
    start_date: date
    planned_exit: date | None
    end_date: date | None
    end_reason: str | None
    stage: str
    weeks: int
    scores: list[ScoresOut]
    criteria: str | None


@router.get("/me/progress", responses=_ERRORS)
def get_my_progress(
    request: Request, session: SessionDep, actor: ActorDep, now: NowDep
) -> list[MyEpisodeOut]:
    """Your own episodes, scores, planned exits and graduation criteria; audited."""
    progress = my_progress(session=session, actor=actor, now=now, audit=audit_writer(request).record)
    return [
        MyEpisodeOut(
            episode_id=e.episode_id,
            program_name=e.program_name,
            start_date=e.start_date,
            planned_exit=e.planned_exit,
            end_date=e.end_date,
            end_reason=e.end_reason,
            stage=e.stage.value,
            weeks=e.weeks,
            scores=_scores(e.scores),
            criteria=e.criteria,
        )
        for e in progress.episodes
    ]
