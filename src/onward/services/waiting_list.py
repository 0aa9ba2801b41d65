"""The waiting list of a program, triaged: who is waiting, in the order a slot should go (access tier, a
positive risk item, symptom severity, fast re-entry, then days waited), with days waited against the
target, attempts to reach them and any first appointment booked; the expected wait by Little's law
and the NHS-style 6- and 18-week shares. The writes are `services.referral_outcomes`.

For the program's manager and its clinicians (`admit` and the program among their own). Reading the
list names people: the web page audits the read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.errors import ConflictError, NotFoundError
from onward.model.access import (
    LITTLE_WINDOW_DAYS,
    NHS_WEEKS,
    LittleEstimate,
    TriageKey,
    WaitTarget,
    business_days_between,
    past_target,
    target_for,
    weeks_share,
)
from onward.model.eventlog import OPEN_OUTCOMES, Instrument, ReferralOutcome
from onward.model.instruments import INSTRUMENTS
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.services._guard import require_permission
from onward.services.care_day import care_day
from onward.services.referral_outcomes import offer_slot, open_slots
from onward.store.tables import Episode, Measurement, Program, Referral, Staff
from onward.store.tables_access import FirstAppointment, ReferralContact
from onward.store.tables_pathways import ReferralPathway

_NOT_FOUND = "there is no record here that you may see"
#: Measurements that count for triage: taken at most this long before the referral, or since.
SEVERITY_LOOKBACK_DAYS = 90


@dataclass(frozen=True, slots=True)
class Severity:
    """The latest score of the person's most severe instrument: band label and rank (0-1)."""

    instrument: str
    score: int
    band: str
    rank: float
    risk: bool
    measured_on: date


@dataclass(frozen=True, slots=True)
class WaitingRow:
    referral: Referral
    stage: str
    days_waited: int
    business_days_waited: int
    target: WaitTarget
    past_target: bool
    fast_reentry_of: str | None
    severity: Severity | None
    unanswered_attempts: int
    appointment: FirstAppointment | None

    @property
    def risk(self) -> bool:
        return self.severity is not None and self.severity.risk

    @property
    def offered(self) -> bool:
        return self.referral.outcome == ReferralOutcome.OFFERED.value


@dataclass(frozen=True, slots=True)
class WaitingList:
    program: Program
    day: date
    rows: list[WaitingRow]
    estimate: LittleEstimate
    capacity: int
    census: int
    offers_outstanding: int
    free_slots: int
    shares: dict[int, float | None]  # weeks -> share of those waiting who have waited less
    closed_recently: list[Referral]  # outcomes other than admitted in the last 90 days
    clinicians: list[Staff]

    @property
    def past_target_count(self) -> int:
        return sum(1 for r in self.rows if r.past_target)


def _program(session: Session, actor: Actor, program_id: str) -> Program:
    require_permission(actor, Permission.ADMIT)
    program = session.get(Program, program_id)
    if program is None or (actor.role != "operator" and program_id not in actor.program_ids):
        raise NotFoundError(_NOT_FOUND)
    return program


def _open_referrals(
    session: Session, program_id: str, day: date
) -> list[tuple[Referral, ReferralPathway | None]]:
    rows = session.execute(
        select(Referral, ReferralPathway)
        .outerjoin(ReferralPathway, ReferralPathway.referral_id == Referral.referral_id)
        .where(
            Referral.program_id == program_id,
            Referral.outcome.in_([o.value for o in OPEN_OUTCOMES]),
            Referral.referral_date <= day,
            Referral.referral_id.not_in(select(Episode.referral_id).where(Episode.referral_id.is_not(None))),
        )
    ).all()
    return [(r, p) for r, p in rows]


def _severities(session: Session, people: list[str], day: date) -> dict[str, list[Measurement]]:
    out: dict[str, list[Measurement]] = defaultdict(list)
    if not people:
        return out
    since = day - timedelta(days=365 * 2)
    for chunk_start in range(0, len(people), 500):
        chunk = people[chunk_start : chunk_start + 500]
        for m in session.scalars(
            select(Measurement).where(
                Measurement.person_id.in_(chunk),
                Measurement.measured_on >= since,
                Measurement.measured_on <= day,
            )
        ):
            out[m.person_id].append(m)
    return out


def severity_of(measurements: list[Measurement], referral_date: date) -> Severity | None:
    """The most severe of the latest score of each instrument measured since SEVERITY_LOOKBACK_DAYS
    before the referral; risk when that latest measurement's risk item scored above 0."""
    latest: dict[str, Measurement] = {}
    floor = referral_date - timedelta(days=SEVERITY_LOOKBACK_DAYS)
    for m in sorted(measurements, key=lambda m: (m.measured_on, m.measurement_id)):
        if m.measured_on >= floor:
            latest[m.instrument] = m
    found: list[Severity] = []
    for instrument, m in latest.items():
        try:
            definition = INSTRUMENTS[Instrument(instrument)]
        except ValueError:
            continue
        bands = definition.bands
        index = next((i for i, b in enumerate(bands) if b.low <= m.score <= b.high), len(bands) - 1)
        risk = False
        item = definition.risk_item
        if item is not None and m.items:
            answers = json.loads(m.items)
            risk = len(answers) >= item and answers[item - 1] > 0
        rank = index / max(1, len(bands) - 1)
        found.append(Severity(instrument, m.score, bands[index].label, rank, risk, m.measured_on))
    if not found:
        return None
    return max(found, key=lambda s: (s.risk, s.rank, s.measured_on))


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _unanswered_by_referral(session: Session, ids: list[str]) -> dict[str, int]:
    """Unanswered attempts since each referral's person was last reached (as `unanswered_attempts`)."""
    out: dict[str, int] = {}
    for chunk in _chunks(ids):
        contacts = session.execute(
            select(ReferralContact.referral_id, ReferralContact.reached)
            .where(ReferralContact.referral_id.in_(chunk))
            .order_by(ReferralContact.referral_id, ReferralContact.contact_id)
        ).all()
        for referral_id, reached in contacts:
            out[referral_id] = 0 if reached else out.get(referral_id, 0) + 1
    return out


def _appointments_by_referral(session: Session, ids: list[str]) -> dict[str, FirstAppointment]:
    out: dict[str, FirstAppointment] = {}
    for chunk in _chunks(ids):
        for appointment in session.scalars(
            select(FirstAppointment).where(
                FirstAppointment.referral_id.in_(chunk), FirstAppointment.replaced_at.is_(None)
            )
        ):
            out[appointment.referral_id] = appointment
    return out


def admissions_in_window(session: Session, program_id: str, day: date) -> int:
    """Episodes of the program started in the LITTLE_WINDOW_DAYS days up to `day`."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Episode)
            .where(
                Episode.program_id == program_id,
                Episode.start_date > day - timedelta(days=LITTLE_WINDOW_DAYS),
                Episode.start_date <= day,
            )
        )
        or 0
    )


def waiting_list(*, session: Session, actor: Actor, program_id: str, now: datetime) -> WaitingList:
    """The program's waiting list, triaged, with its expected wait, capacity and shares."""
    program = _program(session, actor, program_id)
    day = care_day(session, now)
    referrals = _open_referrals(session, program_id, day)
    measures = _severities(session, sorted({r.person_id for r, _ in referrals}), day)
    ids = [r.referral_id for r, _ in referrals]
    attempts = _unanswered_by_referral(session, ids)
    appointments = _appointments_by_referral(session, ids)
    rows: list[tuple[TriageKey, WaitingRow]] = []
    for referral, pathway in referrals:
        severity = severity_of(measures.get(referral.person_id, []), referral.referral_date)
        target = target_for(referral.priority)
        row = WaitingRow(
            referral=referral,
            stage=pathway.stage if pathway is not None else "waiting",
            days_waited=(day - referral.referral_date).days,
            business_days_waited=business_days_between(referral.referral_date, day),
            target=target,
            past_target=past_target(referral.referral_date, day, target),
            fast_reentry_of=pathway.fast_reentry_of if pathway is not None else None,
            severity=severity,
            unanswered_attempts=attempts.get(referral.referral_id, 0),
            appointment=appointments.get(referral.referral_id),
        )
        key = TriageKey(
            referral.priority,
            row.risk,
            severity.rank if severity else 0.0,
            row.fast_reentry_of is not None,
            referral.referral_date,
            referral.referral_id,
        )
        rows.append((key, row))
    ordered = [row for _, row in sorted(rows, key=lambda kr: kr[0].sort_key())]
    capacity, census, offered, free = open_slots(session, program_id, day)
    waits = [r.days_waited for r in ordered]
    closed = list(
        session.scalars(
            select(Referral)
            .where(
                Referral.program_id == program_id,
                Referral.outcome.not_in([*(o.value for o in OPEN_OUTCOMES), ReferralOutcome.ADMITTED.value]),
                Referral.outcome_date > day - timedelta(days=LITTLE_WINDOW_DAYS),
            )
            .order_by(Referral.outcome_date.desc(), Referral.referral_id)
            .limit(50)
        )
    )
    clinicians = list(
        session.scalars(
            select(Staff)
            .where(
                Staff.program_id == program_id, Staff.role.in_(("clinician", "prescriber", "case_manager"))
            )
            .order_by(Staff.staff_id)
        )
    )
    return WaitingList(
        program=program,
        day=day,
        rows=ordered,
        estimate=LittleEstimate(
            len(ordered), admissions_in_window(session, program_id, day), LITTLE_WINDOW_DAYS
        ),
        capacity=capacity,
        census=census,
        offers_outstanding=offered,
        free_slots=free,
        shares={weeks: weeks_share(waits, weeks) for weeks in NHS_WEEKS},
        closed_recently=closed,
        clinicians=clinicians,
    )


def offer_next_slot(*, session: Session, actor: Actor, program_id: str, now: datetime) -> Referral:
    """Offer a slot to the first referral of the triaged list that has none offered yet."""
    listing = waiting_list(session=session, actor=actor, program_id=program_id, now=now)
    first = next((r for r in listing.rows if not r.offered), None)
    if first is None:
        raise ConflictError("nobody on the waiting list is waiting for an offer")
    return offer_slot(session=session, actor=actor, referral_id=first.referral.referral_id, now=now)


@dataclass(frozen=True, slots=True)
class ReferralDetail:
    """One referral on the list with what its actions need: the attempts to reach the person, the
    first appointment booked, the clinicians who may be booked, and whether it is still open."""

    row: WaitingRow | None  # None once it has left the list
    referral: Referral
    program: Program
    contacts: list[ReferralContact]
    clinicians: list[Staff]
    day: date


def referral_detail(*, session: Session, actor: Actor, referral_id: str, now: datetime) -> ReferralDetail:
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFoundError(_NOT_FOUND)
    listing = waiting_list(session=session, actor=actor, program_id=referral.program_id, now=now)
    row = next((r for r in listing.rows if r.referral.referral_id == referral_id), None)
    contacts = list(
        session.scalars(
            select(ReferralContact)
            .where(ReferralContact.referral_id == referral_id)
            .order_by(ReferralContact.contact_id)
        )
    )
    return ReferralDetail(row, referral, listing.program, contacts, listing.clinicians, listing.day)
