"""Accounts: creation rules, authentication with lockout, listing, and the demo accounts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TooManyAttemptsError,
    ValidationError,
)
from onward.model.roles import Role
from onward.security import passwords
from onward.security.access import Actor
from onward.security.audit import verify_audit_chain
from onward.security.policy import role_permissions
from onward.services.users import authenticate, create_user, ensure_demo_users, list_users
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import AuditEntry, Episode, Person, Program, Staff, User

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
                Staff(staff_id="s1", role="clinician", program_id="p1", hours_per_week=40),
                Staff(staff_id="s2", role="clinician", program_id="p2", hours_per_week=40),
                Staff(staff_id="t1", role="teacher", program_id="p1", hours_per_week=40),
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
    with pytest.raises(ValidationError, match="username"):
        _user(session, "has space")
    with pytest.raises(ValidationError, match="at least 12"):
        create_user(session=session, username="x6", role="admin", password="short pass", display_name="X")
    with pytest.raises(NotFoundError, match="zed"):
        _user(session, "x7", staff_id="zed")
    with pytest.raises(ValidationError, match="teacher"):
        _user(session, "x8", staff_id="t1")
    with pytest.raises(ValidationError, match="only a clinician"):
        _user(session, "x9", role="manager", staff_id="s1")
    assert [u.username for u in list_users(session=session)] == ["carla"]


def test_nobody_creates_a_persons_account_with_a_password_they_chose(session: Session) -> None:
    """A person's account comes only from their own invitation link (services.accounts)."""
    with pytest.raises(ValidationError, match="invitation"):
        _user(session, "ana", role="person")
    assert list_users(session=session) == []


def test_only_account_managers_create_accounts(session: Session) -> None:
    clinician = Actor(user_id="c", username="c", role="clinician", permissions=role_permissions("clinician"))
    with pytest.raises(PermissionDeniedError):
        _user(session, "x", actor=clinician)


def test_a_clinician_account_links_to_one_staff_record(session: Session) -> None:
    user = _user(session, staff_id="s1")
    assert user.staff_id == "s1"
    with pytest.raises(ConflictError, match="already has an account"):
        _user(session, "other", staff_id="s1")


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


def test_five_failures_pause_sign_in_with_a_doubling_wait(session: Session) -> None:
    _user(session)
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            authenticate(session=session, username="carla", password="wrong", now=NOW)
    authenticate(session=session, username="carla", password=PASSWORD, now=NOW)  # success clears the count
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            authenticate(session=session, username="carla", password="wrong", now=NOW)
    # Paused for a minute: even the right password is refused, with the same message.
    with pytest.raises(AuthenticationError, match="incorrect"):
        authenticate(session=session, username="carla", password=PASSWORD, now=NOW + timedelta(seconds=59))
    # That refused attempt counted too: now two minutes from it.
    later = NOW + timedelta(seconds=59)
    with pytest.raises(AuthenticationError):
        authenticate(session=session, username="carla", password=PASSWORD, now=later + timedelta(seconds=119))
    assert authenticate(
        session=session, username="carla", password=PASSWORD, now=later + timedelta(minutes=10)
    )


def test_the_account_list_shows_which_sign_ins_are_paused_and_until_when(session: Session) -> None:
    """One query for every account's pause (the accounts page lists them all): the same answer as the
    sign-in check itself."""
    _user(session, "carla")
    _user(session, "dora")
    _user(session, "emil")
    for _ in range(6):
        with pytest.raises(AuthenticationError):
            authenticate(session=session, username="carla", password="wrong", now=NOW)
    for _ in range(2):  # under the limit: not paused
        with pytest.raises(AuthenticationError):
            authenticate(session=session, username="dora", password="wrong", now=NOW)
    listed = {u.username: u.locked_until for u in list_users(session=session, now=NOW)}
    assert listed == {"carla": NOW + timedelta(minutes=2), "dora": None, "emil": None}
    # Once the pause is over, the list says so.
    later = {u.username: u.locked_until for u in list_users(session=session, now=NOW + timedelta(minutes=3))}
    assert later["carla"] is None


def test_unknown_accounts_are_throttled_like_real_ones(session: Session) -> None:
    """A pause on a name says nothing about whether the account exists."""
    for _ in range(6):
        with pytest.raises(AuthenticationError) as unknown:
            authenticate(session=session, username="ghost", password="wrong", now=NOW)
    assert "incorrect" in str(unknown.value)


def test_successes_never_count_against_a_shared_address(session: Session) -> None:
    """Forty colleagues signing in behind one clinic address within minutes are all let in."""
    for n in range(40):
        _user(session, f"colleague{n}")
    for n in range(40):
        authenticate(
            session=session, username=f"colleague{n}", password=PASSWORD, now=NOW, address="10.0.0.1"
        )


def test_failures_from_one_address_are_throttled_with_a_retry_time(session: Session) -> None:
    for n in range(30):
        with pytest.raises(AuthenticationError):
            authenticate(
                session=session, username=f"guess{n}", password="wrong", now=NOW, address="203.0.113.9"
            )
    with pytest.raises(TooManyAttemptsError) as error:
        authenticate(session=session, username="guess-more", password="wrong", now=NOW, address="203.0.113.9")
    assert 1 <= error.value.retry_after <= 61
    _user(session)
    assert authenticate(session=session, username="carla", password=PASSWORD, now=NOW, address="198.51.100.1")


def test_creation_and_sign_in_attempts_are_audited(session: Session) -> None:
    admin = Actor(user_id="someone", username="amy", role="admin", permissions=role_permissions("admin"))
    user = create_user(
        session=session, username="amir", role="admin", password=PASSWORD, display_name="Amir", actor=admin
    )
    authenticate(session=session, username="amir", password=PASSWORD, now=NOW, address="10.1.1.1")
    with pytest.raises(AuthenticationError):
        authenticate(session=session, username="amir", password="wrong", now=NOW, address="10.1.1.1")
    with pytest.raises(AuthenticationError):
        authenticate(session=session, username="nobody", password="amir's password", now=NOW)
    entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.entry_id)))
    assert [(e.user_id, e.role, e.action, e.entity_id, e.outcome, e.detail) for e in entries] == [
        ("someone", "admin", "create", user.user_id, "ok", "amir as admin"),
        (user.user_id, "admin", "login", user.user_id, "ok", "signed in from 10.1.1.1"),
        (user.user_id, "admin", "login", user.user_id, "refused", "wrong password from 10.1.1.1"),
    ]
    assert verify_audit_chain(session=session).intact


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
                episode_id="e1",
                person_id="ben",
                program_id="p2",
                start_date=date(2025, 1, 1),
                is_sud=False,
                primary_staff_id="s2",
            ),
            Episode(
                episode_id="e2",
                person_id="ben",
                program_id="p2",
                start_date=date(2025, 6, 1),
                is_sud=False,
                primary_staff_id="s2",
            ),
            Episode(
                episode_id="e3",
                person_id="ana",
                program_id="p1",
                start_date=date(2025, 2, 1),
                is_sud=False,
                primary_staff_id="s1",
            ),
        ]
    )
    session.commit()
    created = ensure_demo_users(session=session)
    assert [role for _, role, _ in created] == [r.value for r in Role]
    by_role = {u.role: u for u in list_users(session=session)}
    assert by_role["clinician"].staff_id == "s2"  # primary on the most open episodes
    assert by_role["clinician"].program_ids == ("p2",)
    assert by_role["manager"].program_ids == ("p1", "p2")
    assert by_role["person"].person_id == "ben"  # on the demo clinician's caseload
    for username, _, password in created:
        assert (
            authenticate(session=session, username=username, password=password, now=NOW).username == username
        )
    again = ensure_demo_users(session=session)  # a second demo run resets the passwords
    assert len(list_users(session=session)) == len(Role)
    username, _, password = again[0]
    assert authenticate(session=session, username=username, password=password, now=NOW)
