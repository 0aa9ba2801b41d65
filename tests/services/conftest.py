"""Fixtures for the service tests: a small county in a migrated database, and actors by role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from onward.security.access import Actor
from onward.security.policy import role_permissions
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import Episode, Measurement, Person, Program, Referral, Service, Staff

#: "Today" in the pathway tests (a real, not synthetic, database: the care day is today).
CARE_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def pathway_actor(role: str, **kw: object) -> Actor:
    values: dict[str, object] = {"user_id": f"u-{role}", "username": role, "role": role}
    values.update(kw)
    return Actor(permissions=role_permissions(role), **values)  # type: ignore[arg-type]


@pytest.fixture
def role_actor() -> Callable[..., Actor]:
    """An actor of a role with that role's permissions: role_actor("manager", program_ids=("op",))."""
    return pathway_actor


@pytest.fixture
def clinician() -> Actor:
    """st1, a clinician of the outpatient program `op`."""
    return pathway_actor("clinician", staff_id="st1", program_ids=("op",))


@pytest.fixture
def care_db(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Programs op (outpatient) and moud; clinicians st1 (op) and st2 (moud), a teacher t1 (op); ana
    waiting for op (an imported referral), ben in an open op episode e-ben with st1 as primary clinician."""
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    made = session_factory(engine)
    with made() as s:
        s.add_all(
            [
                Program(
                    program_id="op", name="Outpatient", kind="outpatient", level_of_care=1, capacity_slots=9
                ),
                Program(
                    program_id="moud",
                    name="MOUD",
                    kind="medication_for_oud",
                    level_of_care=1,
                    capacity_slots=9,
                ),
                Person(person_id="ana", birth_year=1985, sex="female", postcode_prefix="981"),
                Person(person_id="ben", birth_year=1990, sex="male", postcode_prefix="981"),
            ]
        )
        s.flush()
        s.add_all(
            [
                Staff(staff_id="st1", role="clinician", program_id="op", hours_per_week=40),
                Staff(staff_id="st2", role="clinician", program_id="moud", hours_per_week=40),
                Staff(staff_id="t1", role="teacher", program_id="op", hours_per_week=40),
                Referral(
                    referral_id="r-ana",
                    person_id="ana",
                    program_id="op",
                    referral_date=date(2026, 5, 1),
                    source="primary_care",
                    priority="routine",
                ),
            ]
        )
        s.flush()
        s.add(
            Episode(
                episode_id="e-ben",
                person_id="ben",
                program_id="op",
                primary_staff_id="st1",
                start_date=date(2026, 1, 5),
                planned_end_date=date(2026, 4, 27),
                is_sud=False,
            )
        )
        s.flush()
        s.add_all(
            [
                Service(
                    service_id="s-ben-1",
                    person_id="ben",
                    episode_id="e-ben",
                    staff_id="st1",
                    service_date=date(2026, 1, 12),
                    code="90834",
                    minutes=45,
                    category="treatment",
                ),
                Measurement(
                    measurement_id="m-ben-1",
                    person_id="ben",
                    episode_id="e-ben",
                    instrument="phq9",
                    measured_on=date(2026, 1, 5),
                    score=16,
                    items="[2, 2, 2, 2, 2, 2, 2, 2, 0]",
                ),
            ]
        )
        s.commit()
    yield made
    engine.dispose()
