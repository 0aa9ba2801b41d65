"""The demo county's SYNTHETIC skills activity: classes, parents, logs, screens, accounts; once only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.errors import ValidationError
from onward.security import passwords
from onward.services.skills_demo import NURSE_USERNAME, seed_skills_demo
from onward.services.users import authenticate, ensure_demo_users
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import AuditEntry, Person, Program, Service, Staff, UserProgram
from onward.store.tables_security import AccessGrant
from onward.store.tables_skills import Cohort, PerinatalScreen, SkillsAttendance, SkillsSession

NOW = datetime(2025, 7, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def session(sqlite_url: str) -> Iterator[Session]:
    upgrade_database(sqlite_url)
    engine = create_db_engine(sqlite_url)
    with session_factory(engine)() as s:
        s.add_all(
            [
                Program(
                    program_id="p1", name="Outpatient", kind="outpatient", level_of_care=1, capacity_slots=5
                ),
                Program(program_id="sc", name="Schools", kind="school", level_of_care=1, capacity_slots=0),
                Program(
                    program_id="pn", name="Perinatal", kind="perinatal", level_of_care=1, capacity_slots=0
                ),
                *[
                    Person(person_id=f"w{n:02d}", birth_year=1995, sex="female", postcode_prefix="100")
                    for n in range(30)
                ],
            ]
        )
        s.flush()
        s.add_all(
            [
                Staff(staff_id="s1", role="clinician", program_id="p1", hours_per_week=40),
                Staff(staff_id="n1", role="clinician", program_id="pn", hours_per_week=40),
            ]
        )
        s.flush()
        s.add(
            Service(
                service_id="x",
                person_id="w00",
                service_date=date(2025, 6, 30),
                code="90834",
                minutes=45,
                category="treatment",
            )
        )
        s.commit()
        yield s
    engine.dispose()


def test_only_a_synthetic_database_gets_demo_skills_data(session: Session) -> None:
    with pytest.raises(ValidationError, match="synthetic"):
        seed_skills_demo(session=session, now=NOW)


def test_the_demo_has_classes_parents_deliveries_and_screens_once(session: Session) -> None:
    ensure_demo_users(session=session)
    accounts = seed_skills_demo(session=session, now=NOW)
    assert [(name, role) for name, role, _ in accounts] == [(NURSE_USERNAME, "clinician (perinatal nurse)")]
    assert authenticate(session=session, username=NURSE_USERNAME, password=accounts[0][2], now=NOW)
    classes = session.scalar(select(func.count()).select_from(Cohort).where(Cohort.kind == "class"))
    parents = session.scalar(select(func.count()).select_from(Cohort).where(Cohort.kind == "parent"))
    assert classes == 13 and parents == 30
    names = session.scalars(select(Cohort.name))
    assert all(name.startswith("Synthetic") for name in names)
    delivered = session.scalar(
        select(func.count()).select_from(SkillsSession).where(SkillsSession.delivered_on.is_not(None))
    )
    assert delivered and session.scalar(select(func.count()).select_from(SkillsAttendance))
    assert session.scalar(select(func.count()).select_from(PerinatalScreen))
    last = session.scalar(select(func.max(SkillsSession.delivered_on)))
    assert last is not None and last <= date(2025, 6, 30)
    assert "sc" in set(session.scalars(select(UserProgram.program_id)))
    assert session.scalar(select(AccessGrant.permission)) == "curriculum_lead"
    seeds = list(session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "seed")))
    assert len(seeds) == 1 and str(seeds[0]).startswith("SYNTHETIC: 13 classes, 30 expectant parents")
    seed_skills_demo(session=session, now=NOW)  # a second run adds nothing
    assert session.scalar(select(func.count()).select_from(Cohort)) == 43
