"""Read-only queries behind the role home pages and the API (the writes live in onward.services)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from onward.model.roles import Role
from onward.security.access import assigned_episodes
from onward.store.tables import Episode, Measurement, Person, Program, Referral, Service, User

#: Flag a missing measure: none in the last 90 days (the window of stuck_count, docs/metrics.md).
MEASURE_WINDOW_DAYS = 90
#: "Open a year or more": the 365-day threshold of stuck_count (docs/metrics.md).
LONG_OPEN_DAYS = 365
#: Admissions are counted over the last 30 days on the system page (issue 2, web shell).
ADMISSION_WINDOW_DAYS = 30


def data_end(session: Session) -> date | None:
    """data_end (docs/metrics.md): the latest referral, episode start/end, service or measure date."""
    candidates = [
        session.scalar(select(func.max(Referral.referral_date))),
        session.scalar(select(func.max(Episode.start_date))),
        session.scalar(select(func.max(Episode.end_date))),
        session.scalar(select(func.max(Service.service_date))),
        session.scalar(select(func.max(Measurement.measured_on))),
    ]
    dates = [d for d in candidates if d is not None]
    return max(dates) if dates else None


def as_of(session: Session, today: date) -> date:
    """Pages show the system today, or at the end of the data when it stops earlier (a synthetic county)."""
    end = data_end(session)
    return min(today, end) if end is not None else today


def _open_at(day: date) -> ColumnElement[bool]:
    return and_(Episode.start_date <= day, or_(Episode.end_date.is_(None), Episode.end_date > day))


@dataclass(frozen=True, slots=True)
class PersonEpisode:
    episode_id: str
    program_name: str
    start_date: date
    planned_end_date: date | None
    end_date: date | None
    end_reason: str | None
    services: int
    latest_instrument: str | None
    latest_score: int | None
    latest_measured_on: date | None


def _service_counts(session: Session, episode_ids: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for start in range(0, len(episode_ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = episode_ids[start : start + 500]
        rows = session.execute(
            select(Service.episode_id, func.count())
            .where(Service.episode_id.in_(chunk))
            .group_by(Service.episode_id)
        )
        counts.update({str(e): int(n) for e, n in rows})
    return counts


def _latest_measurements(session: Session, episode_ids: Sequence[str]) -> dict[str, tuple[str, int, date]]:
    """Per episode, its latest measurement (instrument, score, date).

    The database picks the latest row per episode (a window function), so one row per episode reaches
    Python instead of every measurement: a caseload of 750 episodes holds some 20,000 of them.
    """
    latest: dict[str, tuple[str, int, date]] = {}
    for start in range(0, len(episode_ids), 500):
        chunk = episode_ids[start : start + 500]
        newest_first = func.row_number().over(
            partition_by=Measurement.episode_id,
            order_by=(Measurement.measured_on.desc(), Measurement.measurement_id.desc()),
        )
        ranked = (
            select(
                Measurement.episode_id,
                Measurement.instrument,
                Measurement.score,
                Measurement.measured_on,
                newest_first.label("rank"),
            )
            .where(Measurement.episode_id.in_(chunk))
            .subquery()
        )
        rows = session.execute(
            select(ranked.c.episode_id, ranked.c.instrument, ranked.c.score, ranked.c.measured_on).where(
                ranked.c.rank == 1
            )
        )
        for episode_id, instrument, score, measured_on in rows:
            latest[str(episode_id)] = (instrument, score, measured_on)
    return latest


def _last_measured_on(session: Session, episode_ids: Sequence[str]) -> dict[str, date]:
    """Per episode, the date of its latest measurement: one row per episode, however many measures."""
    last: dict[str, date] = {}
    for start in range(0, len(episode_ids), 500):
        chunk = episode_ids[start : start + 500]
        rows = session.execute(
            select(Measurement.episode_id, func.max(Measurement.measured_on))
            .where(Measurement.episode_id.in_(chunk))
            .group_by(Measurement.episode_id)
        )
        last.update({str(e): d for e, d in rows if d is not None})
    return last


def person_episodes(session: Session, person_id: str) -> list[PersonEpisode]:
    """A person's episodes, newest first, with their service count and latest measure."""
    rows = session.execute(
        select(Episode, Program.name)
        .join(Program, Program.program_id == Episode.program_id)
        .where(Episode.person_id == person_id)
        .order_by(Episode.start_date.desc(), Episode.episode_id)
    ).all()
    ids = [e.episode_id for e, _ in rows]
    services = _service_counts(session, ids)
    latest = _latest_measurements(session, ids)
    result = []
    for episode, program_name in rows:
        measure = latest.get(episode.episode_id)
        result.append(
            PersonEpisode(
                episode_id=episode.episode_id,
                program_name=program_name,
                start_date=episode.start_date,
                planned_end_date=episode.planned_end_date,
                end_date=episode.end_date,
                end_reason=episode.end_reason,
                services=services.get(episode.episode_id, 0),
                latest_instrument=measure[0] if measure else None,
                latest_score=measure[1] if measure else None,
                latest_measured_on=measure[2] if measure else None,
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class CaseloadEpisode:
    episode_id: str
    person_id: str
    program_name: str
    start_date: date
    planned_end_date: date | None
    days_open: int
    past_planned: bool
    is_sud: bool
    services: int
    last_measured_on: date | None
    measure_overdue: bool


def caseload(session: Session, staff_id: str, day: date) -> list[CaseloadEpisode]:
    """Episodes open at `day` that `staff_id` is assigned to (primary or care team), longest open first."""
    rows = session.execute(
        select(Episode, Program.name)
        .join(Program, Program.program_id == Episode.program_id)
        .where(assigned_episodes(staff_id, datetime.combine(day, time.min)), _open_at(day))
        .order_by(Episode.start_date, Episode.episode_id)
    ).all()
    ids = [e.episode_id for e, _ in rows]
    services = _service_counts(session, ids)
    last_measured = _last_measured_on(session, ids)
    window_start = day - timedelta(days=MEASURE_WINDOW_DAYS)
    result = []
    for episode, program_name in rows:
        last = last_measured.get(episode.episode_id)
        result.append(
            CaseloadEpisode(
                episode_id=episode.episode_id,
                person_id=episode.person_id,
                program_name=program_name,
                start_date=episode.start_date,
                planned_end_date=episode.planned_end_date,
                days_open=(day - episode.start_date).days,
                past_planned=episode.planned_end_date is not None and episode.planned_end_date < day,
                is_sud=episode.is_sud,
                services=services.get(episode.episode_id, 0),
                last_measured_on=last,
                measure_overdue=last is None or last < window_start,
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class ProgramOverview:
    program_id: str
    name: str
    kind: str
    level_of_care: int
    capacity_slots: int
    census: int
    occupancy: int | None  # percent of capacity slots, None without slots
    waiting: int
    longest_wait_days: int | None


def list_programs(session: Session, program_ids: Sequence[str] | None) -> list[Program]:
    """Programs by id; all of them when `program_ids` is None."""
    query = select(Program).order_by(Program.program_id)
    if program_ids is not None:
        query = query.where(Program.program_id.in_(program_ids))
    return list(session.scalars(query))


def program_overview(session: Session, program_ids: Sequence[str], day: date) -> list[ProgramOverview]:
    """Capacity, census open at `day`, and referrals made by `day` that no episode started from yet."""
    programs = list_programs(session, program_ids)
    census = dict(
        session.execute(
            select(Episode.program_id, func.count())
            .where(Episode.program_id.in_(program_ids), _open_at(day))
            .group_by(Episode.program_id)
        ).all()
    )
    started = select(Episode.referral_id).where(Episode.referral_id.is_not(None))
    waiting = {
        program_id: (int(n), oldest)
        for program_id, n, oldest in session.execute(
            select(Referral.program_id, func.count(), func.min(Referral.referral_date))
            .where(
                Referral.program_id.in_(program_ids),
                Referral.referral_date <= day,
                Referral.referral_id.not_in(started),
            )
            .group_by(Referral.program_id)
        )
    }
    result = []
    for p in programs:
        n_open = int(census.get(p.program_id, 0))
        n_waiting, oldest = waiting.get(p.program_id, (0, None))
        result.append(
            ProgramOverview(
                program_id=p.program_id,
                name=p.name,
                kind=p.kind,
                level_of_care=p.level_of_care,
                capacity_slots=p.capacity_slots,
                census=n_open,
                occupancy=round(100 * n_open / p.capacity_slots) if p.capacity_slots else None,
                waiting=n_waiting,
                longest_wait_days=(day - oldest).days if oldest is not None else None,
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class SystemTotals:
    as_of: date
    since: date
    people: int
    open_episodes: int
    admissions_30d: int
    programs: int
    capacity_slots: int


def system_totals(session: Session, day: date) -> SystemTotals:
    """Whole-system counts at `day`; the page suppresses small cells when it shows them."""
    since = day - timedelta(days=ADMISSION_WINDOW_DAYS - 1)
    return SystemTotals(
        as_of=day,
        since=since,
        people=int(session.scalar(select(func.count()).select_from(Person)) or 0),
        open_episodes=int(
            session.scalar(select(func.count()).select_from(Episode).where(_open_at(day))) or 0
        ),
        admissions_30d=int(
            session.scalar(
                select(func.count()).select_from(Episode).where(Episode.start_date.between(since, day))
            )
            or 0
        ),
        programs=int(session.scalar(select(func.count()).select_from(Program)) or 0),
        capacity_slots=int(session.scalar(select(func.coalesce(func.sum(Program.capacity_slots), 0))) or 0),
    )


def active_users_per_role(session: Session) -> dict[Role, int]:
    """Active accounts per role, every role present (zero when none)."""
    counts = dict(
        session.execute(
            select(User.role, func.count()).where(User.is_active.is_(True)).group_by(User.role)
        ).all()
    )
    return {role: int(counts.get(role.value, 0)) for role in Role}
