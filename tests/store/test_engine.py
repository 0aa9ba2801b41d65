from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from onward.store.engine import create_db_engine, display_url, session_factory
from onward.store.migrate import upgrade_database
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


def test_sqlite_engine_makes_its_folder_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "onward.sqlite"
    engine = create_db_engine(f"sqlite:///{path.as_posix()}")
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        engine.dispose()
    assert path.parent.is_dir()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000, "synchronous": 2}


def test_display_url_hides_the_password() -> None:
    shown = display_url("postgresql://alice:s3cret@db.example/onward")
    assert "s3cret" not in shown
    assert shown.startswith("postgresql+psycopg://alice:")


def _rows() -> list[object]:
    return [
        Person(
            person_id="p1",
            birth_year=1990,
            sex="female",
            postcode_prefix="981",
            school_grade=None,
            pregnancy_due_date=date(2025, 3, 1),
        ),
        Program(
            program_id="op", name="Outpatient North", kind="outpatient", level_of_care=1, capacity_slots=120
        ),
        Staff(staff_id="s1", role="clinician", program_id="op", hours_per_week=40),
        Referral(
            referral_id="r1",
            person_id="p1",
            program_id="op",
            referral_date=date(2024, 1, 2),
            source="primary_care",
            priority="routine",
            outcome="admitted",
            outcome_date=date(2024, 1, 10),
            outcome_reason=None,
        ),
        Episode(
            episode_id="e1",
            person_id="p1",
            program_id="op",
            referral_id="r1",
            primary_staff_id="s1",
            start_date=date(2024, 1, 10),
            planned_end_date=date(2024, 7, 10),
            end_date=None,
            end_reason=None,
            is_sud=True,
        ),
        Service(
            service_id="v1",
            person_id="p1",
            episode_id="e1",
            staff_id="s1",
            service_date=date(2024, 1, 12),
            code="90837",
            minutes=60,
            category="treatment",
        ),
        Measurement(
            measurement_id="m1",
            person_id="p1",
            episode_id="e1",
            instrument="phq9",
            measured_on=date(2024, 1, 12),
            score=14,
            items="[2, 2, 1, 2, 2, 1, 2, 2, 0]",
        ),
    ]


def test_round_trip_of_every_event_log_table(database_url: str) -> None:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    sessions = session_factory(engine)
    try:
        written = _rows()
        expected = [
            {c.key: getattr(row, c.key) for c in row.__table__.columns}  # type: ignore[attr-defined]
            for row in written
        ]
        with sessions.begin() as session:
            for row in written:  # no relationships are mapped, so flush parents first
                session.add(row)
                session.flush()
        with sessions() as session:
            for row, values in zip(written, expected, strict=True):
                stored = session.execute(select(type(row))).scalar_one()
                assert {c: getattr(stored, c) for c in values} == values
                assert type(stored.is_sud if isinstance(stored, Episode) else True) is bool
    finally:
        engine.dispose()


def test_users_defaults_and_foreign_keys_are_enforced(database_url: str) -> None:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    sessions = session_factory(engine)
    try:
        with sessions.begin() as session:
            for row in _rows():
                session.add(row)
                session.flush()
        with sessions.begin() as session:
            user = User(
                username="ana",
                role="clinician",
                password_hash="x",
                staff_id="s1",
                created_at=datetime.now(UTC),
            )
            session.add(user)
            session.flush()
            session.add(UserProgram(user_id=user.user_id, program_id="op"))
        with sessions() as session:
            stored = session.execute(select(User)).scalar_one()
            assert len(stored.user_id) == 32 and stored.is_active is True and stored.failed_logins == 0
        with pytest.raises(IntegrityError), sessions.begin() as session:
            session.add(Staff(staff_id="s2", role="clinician", program_id="nowhere", hours_per_week=10))
        with pytest.raises(IntegrityError), sessions.begin() as session:
            session.add(
                User(username="bo", role="superuser", password_hash="x", created_at=datetime.now(UTC))
            )
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM staff")).scalar() == 1
    finally:
        engine.dispose()


def test_sqlite_begin_immediate_takes_the_write_lock_up_front(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "lock.sqlite"
    engine = create_db_engine(f"sqlite:///{path.as_posix()}")
    try:
        with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection, connection.begin():
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
        with engine.connect() as connection, connection.begin():  # deferred: no lock until the first write
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            other.close()
    finally:
        engine.dispose()
