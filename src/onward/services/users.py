"""User accounts: create staff accounts, authenticate (with throttling), list, and the demo accounts.

Every function is one transaction: it commits its own work, so a failed sign-in is counted even though
the caller receives an AuthenticationError. People's own accounts are never created here with a
password someone else chose: they come from a one-time invitation (`onward.services.accounts`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    TooManyAttemptsError,
    ValidationError,
)
from onward.model.roles import PROGRAM_ROLES, STAFF_ROLES, Role, parse_role
from onward.security import throttle
from onward.security.access import Actor, operator
from onward.security.audit import append_audit
from onward.security.passwords import check_password_policy, hash_password, needs_rehash, verify_password
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.store.tables import Episode, Measurement, Program, Staff, User, UserProgram

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
_LOGIN_FAILED = (
    "the username or password is incorrect, or the account is locked for a while after repeated failures"
)
#: Staff roles of the event log whose members hold clinical caseloads (may be a clinician account).
CLINICAL_STAFF_ROLES = frozenset({"clinician", "prescriber", "case_manager", "peer_specialist"})


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
    staff_id: str | None
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


def check_username(username: str) -> str:
    name = normalise_username(username)
    if not _USERNAME.match(name):
        raise ValidationError(
            f"invalid username {username!r}",
            column="username",
            expected="2-80 characters: letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return name


def audit_as(actor: Actor) -> dict[str, str | None]:
    """The who-columns of an audit entry for `actor` (the operator's login name goes in the detail)."""
    return {"user_id": actor.user_id, "role": actor.role, "request_id": actor.request_id}


def _check_staff_link(session: Session, role: Role, staff_id: str | None) -> None:
    if staff_id is None:
        return
    if role is not Role.CLINICIAN:
        raise ValidationError(f"only a clinician account links to a staff record, not a {role.value}")
    staff = session.get(Staff, staff_id)
    if staff is None:
        raise NotFoundError(f"unknown staff id: {staff_id}")
    if staff.role not in CLINICAL_STAFF_ROLES:
        raise ValidationError(
            f"staff {staff_id} is a {staff.role}",
            column="staff_id",
            expected=f"a staff member with a caseload ({', '.join(sorted(CLINICAL_STAFF_ROLES))})",
        )
    if session.scalar(select(User.user_id).where(User.staff_id == staff_id)) is not None:
        raise ConflictError(f"staff {staff_id} already has an account")


def create_user(
    *,
    session: Session,
    username: str,
    role: str,
    password: str,
    display_name: str,
    program_ids: Iterable[str] = (),
    staff_id: str | None = None,
    now: datetime | None = None,
    actor: Actor | None = None,
) -> User:
    """Create a staff account after checking the username, role, password policy, programs and staff link.

    Person accounts are refused here: a person sets up their own account from an invitation link, so
    nobody else ever knows their password. The creation is audited under `actor` (default: the
    command-line operator).
    """
    who = actor or operator("setup")
    require_permission(who, Permission.MANAGE_USERS)
    name = check_username(username)
    known_role = parse_role(role)
    if known_role is Role.PERSON:
        raise ValidationError(
            "a person's account is set up by the person from a one-time invitation link, so that nobody "
            "else knows its password",
            column="role",
            expected="`onward users invite PERSON_ID` (or Invite on the person's page)",
        )
    check_password_policy(password, username=name, staff=known_role in STAFF_ROLES)
    programs = sorted(set(program_ids))
    if programs and known_role not in PROGRAM_ROLES:
        allowed = " or ".join(r.value for r in sorted(PROGRAM_ROLES))
        raise ValidationError(f"a {known_role.value} is not assigned to programs", expected=f"role {allowed}")
    password_hash = hash_password(password)
    moment = now or datetime.now(UTC)
    with write_transaction(session):
        if session.scalar(select(User.user_id).where(User.username == name)) is not None:
            raise ConflictError(f"a user named {name!r} already exists")
        if programs:
            found = set(session.scalars(select(Program.program_id).where(Program.program_id.in_(programs))))
            missing = [p for p in programs if p not in found]
            if missing:
                raise NotFoundError(f"unknown program id(s): {', '.join(missing)}")
        _check_staff_link(session, known_role, staff_id)
        user = User(
            username=name,
            display_name=display_name.strip() or name,
            role=known_role.value,
            password_hash=password_hash,
            is_active=True,
            staff_id=staff_id,
            created_at=moment,
        )
        session.add(user)
        session.flush()
        session.add_all(UserProgram(user_id=user.user_id, program_id=p) for p in programs)
        append_audit(
            session=session,
            at=moment,
            action="create",
            entity="user",
            entity_id=user.user_id,
            detail=f"{name} as {known_role.value}"
            + (f" in {', '.join(programs)}" if programs else "")
            + (f", staff {staff_id}" if staff_id else "")
            + (f" (by {who.username})" if who.user_id is None else ""),
            **audit_as(who),
        )
    return user


def _audit_login(session: Session, user: User, now: datetime, outcome: str, detail: str) -> None:
    """Sign-in attempts on real accounts go to the audit log (HIPAA §164.312(b)); unknown names do not,
    since a mistyped password in the username field would end up in the log."""
    append_audit(
        session=session,
        at=now,
        user_id=user.user_id,
        role=user.role,
        action="login",
        entity="user",
        entity_id=user.user_id,
        detail=detail,
        outcome=outcome,
    )


def authenticate(
    *, session: Session, username: str, password: str, now: datetime, address: str | None = None
) -> User:
    """The active user with this password; otherwise AuthenticationError (or TooManyAttemptsError for
    an address over its limit), counting the failure.

    The password hash is always verified, against a dummy hash when the account is unknown, inactive
    or locked, so a response takes the same time whichever was wrong, and the error never says which
    (OWASP ASVS V2.2, V3: no account enumeration). The slow hash runs outside any write lock.
    """
    name = normalise_username(username)[:160]
    client = (address or "unknown")[:160]
    try:
        address_wait = throttle.wait_for(session, throttle.ADDRESS, client, now)
        if address_wait is not None:
            raise TooManyAttemptsError(
                "too many failed sign-ins from your address", retry_after_seconds=address_wait.total_seconds()
            )
        user = session.scalar(select(User).where(User.username == name))
        locked = throttle.wait_for(session, throttle.ACCOUNT, name, now) is not None
        session.commit()  # end the read; hashing takes time and must not hold any lock
    except BaseException:
        session.rollback()
        raise
    usable = user is not None and user.is_active and not locked
    matches = verify_password(user.password_hash if usable and user else _dummy_hash(), password)
    with write_transaction(session):
        if user is None or not (usable and matches):
            throttle.record_failure(session, throttle.ACCOUNT, name, now)
            throttle.record_failure(session, throttle.ADDRESS, client, now)
            if user is not None:
                reason = (
                    "account locked" if locked else "inactive" if not user.is_active else "wrong password"
                )
                _audit_login(session, user, now, "refused", f"{reason} from {client}")
            failed = True
        else:
            throttle.forget(session, throttle.ACCOUNT, name)
            user.last_login_at = now
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            _audit_login(session, user, now, "ok", f"signed in from {client}")
            failed = False
    if failed or user is None:
        raise AuthenticationError(_LOGIN_FAILED)
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


def list_users(*, session: Session, now: datetime | None = None) -> list[UserListing]:
    """Every account, by username, with its programs and whether sign-in is locked for now."""
    moment = now or datetime.now(UTC)
    try:
        users = list(session.scalars(select(User).order_by(User.username)))
        programs = _program_ids_by_user(session, [u.user_id for u in users])
        waits = throttle.waits_for(session, throttle.ACCOUNT, [u.username for u in users], moment)
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
            staff_id=u.staff_id,
            program_ids=programs.get(u.user_id, ()),
            created_at=_aware(u.created_at) or u.created_at,
            last_login_at=_aware(u.last_login_at),
            locked_until=moment + wait if (wait := waits.get(u.username)) is not None else None,
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


def _busiest_clinician(session: Session) -> tuple[str, str] | None:
    """(staff_id, program_id) of the clinician who is primary on the most open episodes, if any."""
    row = session.execute(
        select(Staff.staff_id, Staff.program_id)
        .join(Episode, Episode.primary_staff_id == Staff.staff_id)
        .where(Episode.end_date.is_(None), Staff.role.in_(CLINICAL_STAFF_ROLES))
        .group_by(Staff.staff_id, Staff.program_id)
        .order_by(func.count(Episode.episode_id).desc(), Staff.staff_id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def _demo_person(session: Session, staff_id: str | None) -> str | None:
    """A person on the demo clinician's caseload whose open episode has the most PHQ-9/GAD-7 scores (so
    their own page shows a progress chart and a planned exit), else anyone with episodes."""
    if staff_id is not None:
        scored = session.scalar(
            select(Episode.person_id)
            .join(Measurement, Measurement.episode_id == Episode.episode_id)
            .where(
                Episode.primary_staff_id == staff_id,
                Episode.end_date.is_(None),
                Measurement.instrument.in_(("phq9", "gad7")),
            )
            .group_by(Episode.person_id)
            .order_by(func.count(Measurement.measurement_id).desc(), Episode.person_id)
            .limit(1)
        )
        if scored is not None:
            return scored
    query = (
        select(Episode.person_id)
        .group_by(Episode.person_id)
        .order_by(func.count(Episode.episode_id).desc(), Episode.person_id)
        .limit(1)
    )
    if staff_id is not None:
        mine = session.scalar(
            query.where(
                Episode.person_id.in_(select(Episode.person_id).where(Episode.primary_staff_id == staff_id))
            )
        )
        if mine is not None:
            return mine
    return session.scalar(query)


def ensure_demo_users(*, session: Session) -> list[tuple[str, str, str]]:
    """One account per role with a fresh random password: (username, role, password) for each.

    Only for the synthetic demo county: the demo person account gets a printed password, which a real
    person's account never does. An existing demo account keeps its id but gets the new password and
    is unlocked, so the printed passwords always work. The clinician is the staff member who is primary
    clinician on the most open episodes; the manager runs the three busiest programs; the person
    account belongs to a person on the demo clinician's caseload with the most PHQ-9/GAD-7 scores.
    """
    now = datetime.now(UTC)
    created: list[tuple[str, str, str]] = []
    with write_transaction(session):
        busiest = _busiest_programs(session, 3)
        clinician = _busiest_clinician(session)
        person_id = _demo_person(session, clinician[0] if clinician else None)
        for role in Role:
            username = demo_username(role)
            password = secrets.token_urlsafe(15)  # 20 characters, about 120 bits (Python `secrets`)
            if role is Role.CLINICIAN:
                programs = [clinician[1]] if clinician else busiest[:1]
            else:
                programs = busiest if role is Role.MANAGER else []
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
            user.person_id = person_id if role is Role.PERSON else None
            user.staff_id = clinician[0] if role is Role.CLINICIAN and clinician else None
            session.flush()
            throttle.forget(session, throttle.ACCOUNT, username)
            for link in session.scalars(select(UserProgram).where(UserProgram.user_id == user.user_id)):
                session.delete(link)
            session.flush()
            session.add_all(UserProgram(user_id=user.user_id, program_id=p) for p in programs)
            created.append((username, role.value, password))
    return created
