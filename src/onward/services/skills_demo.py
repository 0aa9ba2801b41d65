"""SYNTHETIC skills activity for the demo county: classes, expectant parents, delivery logs and EPDS screens.

`onward demo` calls `seed_skills_demo` once the simulated event log is imported. Everything it adds is
made up, from a fixed seed, and only ever written into a database that already holds synthetic data
(the demo's): every cohort name starts with "Synthetic", and the audit log records one `seed` entry.
The shape follows the project's own figures, so the pages have something realistic to show: classes of
20-28 students with about 9 in 10 present; about 85 % of due lessons logged; EPDS totals drawn so that
about 13 % of screens after a birth are 13 or more (CDC PRAMS, ~13 % postpartum depressive symptoms),
fewer among parents who took most of the prenatal lessons (USPSTF 2019 risk ratio 0.61). Nothing here is
a measured result.
"""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.errors import ValidationError
from onward.model.curricula import load_curricula
from onward.model.eventlog import ProgramKind
from onward.model.perinatal_screening import SCREEN_POINTS, score_epds
from onward.model.roles import Role
from onward.model.skills import GRADES, Track
from onward.model.skills_schedule import Term, postpartum_schedule, prenatal_schedule, school_schedule
from onward.security.access import operator
from onward.security.audit import append_audit
from onward.security.passwords import hash_password
from onward.services._guard import write_transaction
from onward.services.provenance import holds_synthetic_data
from onward.services.users import demo_username
from onward.store.tables import (
    Episode,
    Measurement,
    Person,
    Program,
    Referral,
    Service,
    Staff,
    User,
    UserProgram,
)
from onward.store.tables_security import AccessGrant
from onward.store.tables_skills import Cohort, CohortMember, PerinatalScreen, SkillsAttendance, SkillsSession

SEED = 2026
NURSE_USERNAME = "demo-nurse"
_FIRST = (
    "Ava",
    "Ben",
    "Cleo",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ian",
    "Jo",
    "Kai",
    "Lea",
    "Max",
    "Noa",
    "Omar",
    "Pia",
    "Quin",
    "Rui",
    "Sam",
    "Tia",
    "Uma",
    "Vic",
    "Wen",
    "Xan",
    "Yara",
    "Zed",
)
_LAST = ("A.", "B.", "C.", "D.", "E.", "F.", "G.", "H.", "J.", "K.", "L.", "M.", "N.", "P.", "R.", "S.", "T.")


def _id(prefix: str, rng: np.random.Generator) -> str:
    return f"{prefix}-{rng.integers(0, 16**12):012x}"


def _last_day(session: Session) -> date:
    days = [
        session.scalar(select(func.max(Service.service_date))),
        session.scalar(select(func.max(Episode.start_date))),
        session.scalar(select(func.max(Measurement.measured_on))),
    ]
    known: list[date] = [d for d in days if d is not None]
    if not known:
        raise ValidationError("the demo county has no events to seed skills activity around")
    return max(known)


def _epds_answers(rng: np.random.Generator, probable: bool, self_harm: bool) -> list[int]:
    """Boxes ticked (0 = top) whose item scores total 13+ when `probable`, else under 10."""
    target = int(rng.integers(13, 20)) if probable else int(rng.integers(0, 10))
    scores = [0] * 10
    for _ in range(target):
        free = [i for i in range(9) if scores[i] < 3]
        scores[int(rng.choice(free))] += 1
    if self_harm:
        scores[9] = 1
    reverse = {2, 4, 5, 6, 7, 8, 9}  # items 3 and 5-10 are reverse scored (0-based)
    return [3 - s if i in reverse else s for i, s in enumerate(scores)]


def _deliver(
    session: Session,
    rng: np.random.Generator,
    cohort: Cohort,
    members: list[CohortMember],
    last_day: date,
    rate: float,
    presence: float,
) -> int:
    delivered = 0
    for planned in session.scalars(select(SkillsSession).where(SkillsSession.cohort_id == cohort.cohort_id)):
        if planned.planned_on > last_day or rng.random() > rate:
            continue
        planned.delivered_on = min(last_day, planned.planned_on + timedelta(days=int(rng.integers(0, 3))))
        planned.lesson_version, planned.logged_at = (
            0,
            datetime.combine(planned.delivered_on, datetime.min.time(), UTC),
        )
        for member in members:
            session.add(
                SkillsAttendance(
                    session_id=planned.session_id,
                    member_id=member.member_id,
                    present=bool(rng.random() < presence),
                )
            )
        delivered += 1
    return delivered


def _plan(session: Session, rng: np.random.Generator, cohort_id: str, plan: list[tuple[str, date]]) -> None:
    curricula = load_curricula()
    for lesson_id, day in plan:
        session.add(
            SkillsSession(
                session_id=_id("SS", rng),
                cohort_id=cohort_id,
                lesson_id=lesson_id,
                skill=curricula.lesson(lesson_id).skill.value,
                planned_on=day,
            )
        )
    session.flush()


def _classes(session: Session, rng: np.random.Generator, last_day: date, now: datetime) -> int:
    schools = list(session.scalars(select(Program).where(Program.kind == ProgramKind.SCHOOL.value)))
    term = Term(last_day - timedelta(days=120), last_day + timedelta(days=60), (1, 3))
    curricula, made = load_curricula(), 0
    for school in schools[:2]:
        for grade in GRADES:
            cohort = Cohort(
                cohort_id=_id("CO", rng),
                kind="class",
                track=Track.SCHOOL.value,
                grade=str(grade),
                program_id=school.program_id,
                name=f"Synthetic class, grade {grade}",
                calendar=json.dumps(
                    {
                        "starts": term.starts.isoformat(),
                        "ends": term.ends.isoformat(),
                        "weekdays": list(term.weekdays),
                        "days_off": [],
                    }
                ),
                created_at=now,
            )
            session.add(cohort)
            session.flush()
            members = [
                CohortMember(
                    member_id=_id("CM", rng),
                    cohort_id=cohort.cohort_id,
                    name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                    joined_on=term.starts,
                )
                for _ in range(int(rng.integers(20, 29)))
            ]
            session.add_all(members)
            plan = school_schedule(curricula.lessons(grade=grade), term)
            _plan(session, rng, cohort.cohort_id, [(p.lesson_id, p.planned_on) for p in plan])
            _deliver(session, rng, cohort, members, last_day, rate=0.85, presence=0.9)
            made += 1
    return made


def _parents(session: Session, rng: np.random.Generator, last_day: date, now: datetime) -> tuple[int, int]:
    clinic = session.scalar(select(Program).where(Program.kind == ProgramKind.PERINATAL.value).limit(1))
    nurse = (
        session.scalar(
            select(Staff).where(Staff.program_id == clinic.program_id, Staff.role == "clinician").limit(1)
        )
        if clinic
        else None
    )
    if clinic is None or nurse is None:
        return 0, 0
    people = list(
        session.scalars(
            select(Person.person_id)
            .where(Person.sex == "female", Person.birth_year.between(last_day.year - 40, last_day.year - 20))
            .order_by(Person.person_id)
            .limit(80)
        )
    )
    curricula = load_curricula()
    cohorts = screens = 0
    for n, person_id in enumerate(people):
        due = last_day + timedelta(days=200 - 12 * n)  # from 28 weeks ahead to about two years ago
        start = due - timedelta(weeks=30)
        episode = Episode(
            episode_id=_id("EP", rng),
            person_id=person_id,
            program_id=clinic.program_id,
            primary_staff_id=nurse.staff_id,
            start_date=min(start, last_day),
            planned_end_date=due + timedelta(days=365),
            is_sud=False,
        )
        session.add(episode)
        session.flush()
        birth = (
            due + timedelta(days=int(rng.integers(-14, 8))) if due + timedelta(days=8) <= last_day else None
        )
        cohort = Cohort(
            cohort_id=_id("CO", rng),
            kind="parent",
            track="perinatal",
            program_id=clinic.program_id,
            name=f"Synthetic parent {person_id}",
            staff_id=nurse.staff_id,
            person_id=person_id,
            episode_id=episode.episode_id,
            due_date=due,
            birth_date=birth,
            created_at=now,
        )
        session.add(cohort)
        session.flush()
        member = CohortMember(
            member_id=_id("CM", rng),
            cohort_id=cohort.cohort_id,
            name=cohort.name,
            person_id=person_id,
            joined_on=episode.start_date,
        )
        session.add(member)
        plan = [
            (p.lesson_id, p.planned_on)
            for p in prenatal_schedule(curricula.lessons(track=Track.PRENATAL), due)
        ]
        if birth is not None:
            plan += [
                (p.lesson_id, p.planned_on)
                for p in postpartum_schedule(curricula.lessons(track=Track.POSTPARTUM), birth)
            ]
        _plan(session, rng, cohort.cohort_id, plan)
        took = rng.random() < 0.7
        _deliver(session, rng, cohort, [member], last_day, rate=0.9 if took else 0.3, presence=1.0)
        cohorts += 1
        screens += _screens(session, rng, cohort, episode, last_day, took)
    return cohorts, screens


def _screens(
    session: Session, rng: np.random.Generator, cohort: Cohort, episode: Episode, last_day: date, took: bool
) -> int:
    made = 0
    for planned in session.scalars(
        select(SkillsSession).where(
            SkillsSession.cohort_id == cohort.cohort_id,
            SkillsSession.lesson_id.in_(list(SCREEN_POINTS)),
            SkillsSession.delivered_on.is_not(None),
        )
    ):
        after_birth = planned.lesson_id.startswith("postpartum")
        risk = 0.13 * (0.61 if took else 1.0) if after_birth else 0.10
        probable = bool(rng.random() < risk)
        self_harm = probable and bool(rng.random() < 0.2)
        answers = _epds_answers(rng, probable, self_harm)
        result = score_epds(answers)
        day = planned.delivered_on or last_day
        measurement = Measurement(
            measurement_id=_id("MEA", rng),
            person_id=episode.person_id,
            episode_id=episode.episode_id,
            instrument="epds",
            measured_on=day,
            score=result.total,
            items=json.dumps(list(result.items)),
        )
        session.add(measurement)
        session.flush()
        screen = PerinatalScreen(
            screen_id=_id("SC", rng),
            person_id=episode.person_id,
            cohort_id=cohort.cohort_id,
            lesson_id=planned.lesson_id,
            measurement_id=measurement.measurement_id,
            screened_on=day,
            total=result.total,
            self_harm=result.self_harm,
            positive=result.positive,
        )
        if result.positive and rng.random() < 0.75:
            referral = Referral(
                referral_id=_id("REF", rng),
                person_id=episode.person_id,
                program_id=_treatment_program(session),
                referral_date=day,
                source="perinatal",
                priority=str(result.referral_priority or "routine"),
                outcome="waiting",
            )
            session.add(referral)
            session.flush()
            screen.consent, screen.consent_on = "agreed", day
            screen.referral_id, screen.followed_up_on = referral.referral_id, day
        elif result.positive:
            screen.consent, screen.consent_on = "declined", day
        session.add(screen)
        made += 1
    return made


def _treatment_program(session: Session) -> str:
    program_id = session.scalar(
        select(Program.program_id)
        .where(Program.kind == ProgramKind.OUTPATIENT.value)
        .order_by(Program.program_id)
    )
    if program_id is None:
        raise ValidationError("the demo county has no outpatient program to refer to")
    return program_id


def _accounts(session: Session, now: datetime) -> list[tuple[str, str, str]]:
    """Link demo-teacher to a school; a demo nurse (clinician of the perinatal program); the demo manager
    made a curriculum lead."""
    made: list[tuple[str, str, str]] = []
    school = session.scalar(
        select(Program.program_id).where(Program.kind == ProgramKind.SCHOOL.value).limit(1)
    )
    clinic = session.scalar(
        select(Program.program_id).where(Program.kind == ProgramKind.PERINATAL.value).limit(1)
    )
    teacher = session.scalar(select(User).where(User.username == demo_username(Role.TEACHER)))
    if (
        teacher is not None
        and school is not None
        and session.get(UserProgram, (teacher.user_id, school)) is None
    ):
        session.add(UserProgram(user_id=teacher.user_id, program_id=school))
    nurse_staff = session.scalar(
        select(Staff.staff_id).where(Staff.program_id == clinic, Staff.role == "clinician")
    )
    if clinic is not None and nurse_staff is not None:
        password = secrets.token_urlsafe(15)
        hashed = hash_password(password)
        nurse = session.scalar(select(User).where(User.username == NURSE_USERNAME))
        if nurse is None:
            nurse = User(
                username=NURSE_USERNAME,
                display_name="Demo perinatal nurse",
                role=Role.CLINICIAN.value,
                created_at=now,
                password_hash=hashed,
            )
            session.add(nurse)
        nurse.password_hash, nurse.is_active, nurse.staff_id = hashed, True, nurse_staff
        session.flush()
        if session.get(UserProgram, (nurse.user_id, clinic)) is None:
            session.add(UserProgram(user_id=nurse.user_id, program_id=clinic))
        made.append((NURSE_USERNAME, "clinician (perinatal nurse)", password))
    manager = session.scalar(select(User).where(User.username == demo_username(Role.MANAGER)))
    if (
        manager is not None
        and session.scalar(
            select(AccessGrant).where(
                AccessGrant.user_id == manager.user_id,
                AccessGrant.permission == "curriculum_lead",
                AccessGrant.revoked_at.is_(None),
            )
        )
        is None
    ):
        session.add(
            AccessGrant(
                grant_id=uuid.uuid4().hex,
                user_id=manager.user_id,
                permission="curriculum_lead",
                reason="demo: curriculum lead of the synthetic county",
                granted_by=None,
                granted_at=now,
            )
        )
    return made


def seed_skills_demo(*, session: Session, now: datetime | None = None) -> list[tuple[str, str, str]]:
    """Add the SYNTHETIC skills activity once (a second run only refreshes the demo nurse's password);
    returns the extra demo accounts as (username, role, password)."""
    moment = now or datetime.now(UTC)
    if not holds_synthetic_data(session):
        raise ValidationError("skills demo data goes only into a synthetic (demo) database")
    rng = np.random.default_rng(SEED)
    with write_transaction(session):
        accounts = _accounts(session, moment)
        if (
            session.scalar(select(Cohort.cohort_id).where(Cohort.name.startswith("Synthetic")).limit(1))
            is None
        ):
            last_day = _last_day(session)
            classes = _classes(session, rng, last_day, moment)
            parents, screens = _parents(session, rng, last_day, moment)
            who = operator("onward demo")
            append_audit(
                session=session,
                at=moment,
                user_id=who.user_id,
                role=who.role,
                request_id=None,
                action="seed",
                entity="skills_demo",
                entity_id=None,
                person_id=None,
                detail=f"SYNTHETIC: {classes} classes, {parents} expectant parents, {screens} EPDS screens "
                f"around {last_day}",
            )
    return accounts
