"""Accounts: creation rules, authentication with lockout, listing, and the demo accounts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from onward.model.roles import Role
from onward.security import passwords
from onward.security.audit import verify_audit_chain
from onward.services.users import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    authenticate,
    create_user,
    ensure_demo_users,
    list_users,
)
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import AuditEntry, Episode, Person, Program, User

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PASSWORD = "twelve chars or more"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2id parameters: these tests are about accounts; test_passwords checks the real cost."""
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    with session_factory(engine)() as s:
        s.add_all(
            [
                Program(
                    program_id="p1", name="Outpatient", kind="outpatient", level_of_care=1, capacity_slots=5
                ),
                Program(program_id="p2", name="ACT", kind="act_team", level_of_care=3, capacity_slots=5),
                Person(person_id="ana", birth_year=1980, sex="female", postcode_prefix="100"),
                Person(person_id="ben", birth_year=1981, sex="male", postcode_prefix="100"),
            ]
        )
        s.commit()
        yield s
    engine.dispose()


def _user(session: Session, username: str = "carla", role: str = "clinician", **kwargs: object) -> User:
    return create_user(
        session=session,
        username=username,
        role=role,
        password=PASSWORD,
        display_name="Carla",
        **kwargs,  # type: ignore[arg-type]
    )


def test_create_user_stores_a_hash_and_the_programs(session: Session) -> None:
    user = _user(session, "Carla", program_ids=["p2", "p1", "p1"])
    assert user.username == "carla" and len(user.user_id) == 32
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    [listing] = list_users(session=session)
    assert listing.program_ids == ("p1", "p2") and listing.role == "clinician"


def test_create_user_refusals(session: Session) -> None:
    _user(session)
    with pytest.raises(ConflictError):
        _user(session, "CARLA")
    with pytest.raises(ValidationError, match="role"):
        _user(session, "x2", role="root")
    with pytest.raises(NotFoundError, match="nope"):
        _user(session, "x3", program_ids=["nope"])
    with pytest.raises(ValidationError, match="not assigned to programs"):
        _user(session, "x4", role="leader", program_ids=["p1"])
    with pytest.raises(NotFoundError, match="zed"):
        _user(session, "x5", role="person", person_id="zed")
    with pytest.raises(ValidationError, match="username"):
        _user(session, "has space")
    with pytest.raises(ValidationError, match="at least 12"):
        create_user(session=session, username="x6", role="admin", password="short pass", display_name="X")
    assert [u.username for u in list_users(session=session)] == ["carla"]


def test_authenticate_checks_the_password_and_records_the_login(session: Session) -> None:
    _user(session)
    user = authenticate(session=session, username="Carla", password=PASSWORD, now=NOW)
    assert user.username == "carla"
    session.expire_all()
    stored = session.scalar(select(User).where(User.username == "carla"))
    assert stored is not None and stored.last_login_at is not None
    with pytest.raises(AuthenticationError):
        authenticate(session=session, username="carla", password="wrong", now=NOW)
    with pytest.raises(AuthenticationError):
        authenticate(session=session, username="nobody", password=PASSWORD, now=NOW)


def test_five_failures_lock_the_account_for_fifteen_minutes(session: Session) -> None:
    _user(session)
    for _ in range(MAX_FAILED_LOGINS - 1):
        with pytest.raises(AuthenticationError):
            authenticate(session=session, username="carla", password="wrong", now=NOW)
    authenticate(session=session, username="carla", password=PASSWORD, now=NOW)  # success resets the count
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationError):
            authenticate(session=session, username="carla", password="wrong", now=NOW)
    with pytest.raises(AuthenticationError):
        authenticate(
            session=session, username="carla", password=PASSWORD, now=NOW + LOCKOUT - timedelta(seconds=1)
        )
    assert (
        authenticate(session=session, username="carla", password=PASSWORD, now=NOW + LOCKOUT).username
        == "carla"
    )


def test_creation_and_sign_in_attempts_are_audited(session: Session) -> None:
    user = create_user(
        session=session,
        username="amir",
        role="admin",
        password=PASSWORD,
        display_name="Amir",
        actor_id="someone",
    )
    authenticate(session=session, username="amir", password=PASSWORD, now=NOW)
    with pytest.raises(AuthenticationError):
        authenticate(session=session, username="amir", password="wrong", now=NOW)
    with pytest.raises(AuthenticationError):
        authenticate(session=session, username="nobody", password="amir's password", now=NOW)
    entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.entry_id)))
    assert [(e.user_id, e.action, e.entity_id, e.detail) for e in entries] == [
        ("someone", "create", user.user_id, "amir as admin"),
        (user.user_id, "login", user.user_id, "ok"),
        (user.user_id, "login", user.user_id, "failed: wrong password"),
    ]
    assert verify_audit_chain(session=session) is None


def test_inactive_accounts_cannot_sign_in(session: Session) -> None:
    user = _user(session)
    user.is_active = False
    session.commit()
    with pytest.raises(AuthenticationError):
        authenticate(session=session, username="carla", password=PASSWORD, now=NOW)


def test_demo_users_one_per_role_linked_to_real_work(session: Session) -> None:
    session.add_all(
        [
            Episode(
                episode_id="e1", person_id="ben", program_id="p2", start_date=date(2025, 1, 1), is_sud=False
            ),
            Episode(
                episode_id="e2", person_id="ben", program_id="p2", start_date=date(2025, 6, 1), is_sud=False
            ),
            Episode(
                episode_id="e3", person_id="ana", program_id="p1", start_date=date(2025, 2, 1), is_sud=False
            ),
        ]
    )
    session.commit()
    created = ensure_demo_users(session=session)
    assert [role for _, role, _ in created] == [r.value for r in Role]
    by_role = {u.role: u for u in list_users(session=session)}
    assert by_role["clinician"].program_ids == ("p2",)  # the busiest program
    assert by_role["manager"].program_ids == ("p1", "p2")
    assert by_role["person"].person_id == "ben"  # the person with the most episodes
    for username, _, password in created:
        assert (
            authenticate(session=session, username=username, password=password, now=NOW).username == username
        )
    again = ensure_demo_users(session=session)  # a second demo run resets the passwords
    assert len(list_users(session=session)) == len(Role)
    username, _, password = again[0]
    assert authenticate(session=session, username=username, password=password, now=NOW)
