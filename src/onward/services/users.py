"""User accounts: create, authenticate (with lockout), list, and the demo accounts.

Every function is one transaction: it commits its own work, so a failed login's counter is kept
even though the caller receives an AuthenticationError.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from onward.model.roles import PROGRAM_ROLES, STAFF_ROLES, Role, parse_role
from onward.security.audit import append_audit
from onward.security.passwords import check_password_policy, hash_password, needs_rehash, verify_password
from onward.store.tables import Episode, Person, Program, User, UserProgram

#: Lock an account after this many failed logins in a row. OWASP ASVS 4.0.3 V2.2.1 allows at most
#: 100 failures per hour per account; Onward is stricter.
MAX_FAILED_LOGINS = 5
#: How long a locked account stays locked (project choice; ASVS V2.2.1 asks for a limit, not a number).
LOCKOUT = timedelta(minutes=15)

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
_LOGIN_FAILED = (
    "the username or password is incorrect, or the account is locked for a while after repeated failures"
)


@cache
def _dummy_hash() -> str:
    """A real hash to verify against when the user does not exist, so the response time is the same."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class UserListing:
    """A user as shown to administrators: no password hash."""

    user_id: str
    username: str
    display_name: str | None
    role: str
    is_active: bool
    person_id: str | None
    program_ids: tuple[str, ...]
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; Onward stores UTC, so naive means UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: stored and looked up in lower case."""
    return username.strip().lower()


def create_user(
    *,
    session: Session,
    username: str,
    role: str,
    password: str,
    display_name: str,
    program_ids: Iterable[str] = (),
    person_id: str | None = None,
    now: datetime | None = None,
    actor_id: str | None = None,
) -> User:
    """Create an account after checking the username, role, password policy, programs and person.

    The creation is written to the audit log with `actor_id` (the administrator; None from the CLI).
    """
    name = normalise_username(username)
    if not _USERNAME.match(name):
        raise ValidationError(
            f"invalid username {username!r}",
            column="username",
            expected="2-80 characters: letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    known_role = parse_role(role)
    check_password_policy(password, username=name, staff=known_role in STAFF_ROLES)
    programs = sorted(set(program_ids))
    if programs and known_role not in PROGRAM_ROLES:
        allowed = " or ".join(r.value for r in sorted(PROGRAM_ROLES))
        raise ValidationError(f"a {known_role.value} is not assigned to programs", expected=f"role {allowed}")
    if person_id is not None and known_role is not Role.PERSON:
        raise ValidationError(f"only a person account links to a person record, not a {known_role.value}")
    try:
        if session.scalar(select(User.user_id).where(User.username == name)) is not None:
            raise ConflictError(f"a user named {name!r} already exists")
        if programs:
            found = set(session.scalars(select(Program.program_id).where(Program.program_id.in_(programs))))
            missing = [p for p in programs if p not in found]
            if missing:
                raise NotFoundError(f"unknown program id(s): {', '.join(missing)}")
        if person_id is not None and session.get(Person, person_id) is None:
            raise NotFoundError(f"unknown person id: {person_id}")
        user = User(
            username=name,
            display_name=display_name.strip() or name,
            role=known_role.value,
            password_hash=hash_password(password),
            is_active=True,
            person_id=person_id,
            created_at=now or datetime.now(UTC),
            failed_logins=0,
        )
        session.add(user)
        session.flush()
        session.add_all(UserProgram(user_id=user.user_id, program_id=p) for p in programs)
        append_audit(
            session=session,
            at=user.created_at,
            user_id=actor_id,
            action="create",
            entity="user",
            entity_id=user.user_id,
            detail=f"{name} as {known_role.value}" + (f" in {', '.join(programs)}" if programs else ""),
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return user


def _audit_login(session: Session, user: User, now: datetime, outcome: str) -> None:
    """Sign-in attempts on real accounts go to the audit log (HIPAA 164.312(b)); unknown names do not,
    since a mistyped password in the username field would end up in the log."""
    append_audit(
        session=session,
        at=now,
        user_id=user.user_id,
        action="login",
        entity="user",
        entity_id=user.user_id,
        detail=outcome,
    )


def authenticate(*, session: Session, username: str, password: str, now: datetime) -> User:
    """The active, unlocked user with this password; otherwise AuthenticationError, counting the failure.

    After MAX_FAILED_LOGINS failures in a row the account is locked for LOCKOUT. The error never says
    which of username, password or lock was wrong (OWASP ASVS V2.2 / V3: no account enumeration).
    """
    try:
        user = session.scalar(select(User).where(User.username == normalise_username(username)))
        if user is None or not user.is_active:
            verify_password(_dummy_hash(), password)
            raise AuthenticationError(_LOGIN_FAILED)
        locked_until = _aware(user.locked_until)
        if locked_until is not None and locked_until > now:
            _audit_login(session, user, now, "refused: account locked")
            session.commit()
            raise AuthenticationError(_LOGIN_FAILED)
        if not verify_password(user.password_hash, password):
            user.failed_logins = (user.failed_logins or 0) + 1
            outcome = "failed: wrong password"
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until = now + LOCKOUT
                user.failed_logins = 0
                outcome += f"; locked until {user.locked_until.isoformat()}"
            _audit_login(session, user, now, outcome)
            session.commit()
            raise AuthenticationError(_LOGIN_FAILED)
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        _audit_login(session, user, now, "ok")
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return user


def _program_ids_by_user(session: Session, user_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    rows = session.execute(
        select(UserProgram.user_id, UserProgram.program_id)
        .where(UserProgram.user_id.in_(user_ids))
        .order_by(UserProgram.program_id)
    )
    for user_id, program_id in rows:
        grouped.setdefault(user_id, []).append(program_id)
    return {k: tuple(v) for k, v in grouped.items()}


def list_users(*, session: Session) -> list[UserListing]:
    """Every account, by username, with its programs."""
    try:
        users = list(session.scalars(select(User).order_by(User.username)))
        programs = _program_ids_by_user(session, [u.user_id for u in users])
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return [
        UserListing(
            user_id=u.user_id,
            username=u.username,
            display_name=u.display_name,
            role=u.role,
            is_active=u.is_active,
            person_id=u.person_id,
            program_ids=programs.get(u.user_id, ()),
            created_at=_aware(u.created_at) or u.created_at,
            last_login_at=_aware(u.last_login_at),
            locked_until=_aware(u.locked_until),
        )
        for u in users
    ]


def program_ids_of(*, session: Session, user_id: str) -> tuple[str, ...]:
    """The programs a user works in (user_programs), sorted."""
    return _program_ids_by_user(session, [user_id]).get(user_id, ())


#: Demo accounts are named `demo-<role>`; the web app reads their presence as "this is a demo database".
DEMO_USERNAME_PREFIX = "demo-"


def demo_username(role: Role) -> str:
    return f"{DEMO_USERNAME_PREFIX}{role.value.replace('_', '-')}"


def _busiest_programs(session: Session, limit: int) -> list[str]:
    """Programs with the most open episodes (then by id), so demo staff have real work to see."""
    open_count = func.count(Episode.episode_id)
    rows = session.execute(
        select(Program.program_id)
        .outerjoin(Episode, (Episode.program_id == Program.program_id) & Episode.end_date.is_(None))
        .group_by(Program.program_id)
        .order_by(open_count.desc(), Program.program_id)
        .limit(limit)
    )
    return [r[0] for r in rows]


def _person_with_episodes(session: Session) -> str | None:
    """The person with the most episodes (then by id), or None when no episode exists."""
    return session.scalar(
        select(Episode.person_id)
        .group_by(Episode.person_id)
        .order_by(func.count(Episode.episode_id).desc(), Episode.person_id)
        .limit(1)
    )


def ensure_demo_users(*, session: Session) -> list[tuple[str, str, str]]:
    """One account per role with a fresh random password: (username, role, password) for each.

    An existing demo account keeps its id but gets the new password and is unlocked, so the printed
    passwords always work. The clinician works in the busiest program, the manager in the three
    busiest, and the person account is linked to the person with the most episodes, if any.
    """
    now = datetime.now(UTC)
    created: list[tuple[str, str, str]] = []
    try:
        busiest = _busiest_programs(session, 3)
        person_id = _person_with_episodes(session)
        for role in Role:
            username = demo_username(role)
            password = secrets.token_urlsafe(15)  # 20 characters, about 120 bits (Python `secrets`)
            programs = busiest[:1] if role is Role.CLINICIAN else busiest if role is Role.MANAGER else []
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                user = User(
                    username=username,
                    display_name=f"Demo {role.value.replace('_', ' ')}",
                    role=role.value,
                    created_at=now,
                    password_hash="",
                )
                session.add(user)
            user.password_hash = hash_password(password)
            user.is_active = True
            user.failed_logins = 0
            user.locked_until = None
            user.person_id = person_id if role is Role.PERSON else None
            session.flush()
            for link in session.scalars(select(UserProgram).where(UserProgram.user_id == user.user_id)):
                session.delete(link)
            session.flush()
            session.add_all(UserProgram(user_id=user.user_id, program_id=p) for p in programs)
            created.append((username, role.value, password))
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return created
