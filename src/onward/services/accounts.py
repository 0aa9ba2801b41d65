"""The life of an account: invitations, deactivation, role changes, password resets and changes, and
administrator grants. Each change is audited, and every change that alters what an account may do
ends its sessions at once (sign-out, deactivation, role change, password change or reset).

A person's account comes only from a one-time invitation for their person id, sent by their clinician
or an administrator; the person chooses the username and password, so nobody else ever knows it.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import ConflictError, NotFoundError, ValidationError
from onward.model.roles import PROGRAM_ROLES, STAFF_ROLES, Role, parse_role
from onward.security import login_sessions
from onward.security.access import Actor, require_person
from onward.security.audit import append_audit
from onward.security.passwords import check_password_policy, hash_password, verify_password
from onward.security.policy import GRANTABLE, Permission
from onward.services._guard import require_permission, write_transaction
from onward.services.users import audit_as, check_username
from onward.store.tables import Person, User, UserProgram
from onward.store.tables_security import AccessGrant, Invitation

#: A person has a week to open their invitation; a reset link lasts a day (project choices; OWASP
#: ASVS V2.5 asks for short-lived, single-use recovery links without fixing a number).
INVITATION_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=24)
PERSON_ACCOUNT = "person_account"
PASSWORD_RESET = "password_reset"


@dataclass(frozen=True, slots=True)
class Link:
    """A one-time link: its token (shown once) and when it expires."""

    token: str
    path: str
    expires_at: datetime


def _new_link(
    session: Session,
    *,
    secret_key: str,
    purpose: str,
    now: datetime,
    lifetime: timedelta,
    actor: Actor,
    person_id: str | None = None,
    user_id: str | None = None,
) -> Link:
    token = secrets.token_urlsafe(32)
    session.add(
        Invitation(
            token_hash=login_sessions.token_hash(secret_key, token),
            purpose=purpose,
            person_id=person_id,
            user_id=user_id,
            created_by=actor.user_id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    path = f"/invite/{token}" if purpose == PERSON_ACCOUNT else f"/reset/{token}"
    return Link(token=token, path=path, expires_at=now + lifetime)


def invite_person(*, session: Session, actor: Actor, secret_key: str, person_id: str, now: datetime) -> Link:
    """A one-time link for `person_id` to set up their own account.

    A clinician may invite only a person whose record they may see; an administrator may invite any
    person id (without seeing the record). Earlier unused invitations for the person stop working.
    """
    require_permission(actor, Permission.INVITE_PERSON)
    with write_transaction(session):
        if actor.may(Permission.MANAGE_USERS) or actor.role == "operator":
            if session.get(Person, person_id) is None:
                raise NotFoundError(f"unknown person id: {person_id}")
        else:
            require_person(session, actor, person_id, now)
        if session.scalar(select(User.user_id).where(User.person_id == person_id)) is not None:
            raise ConflictError("this person already has an account; an administrator can send a reset link")
        for old in session.scalars(
            select(Invitation).where(
                Invitation.person_id == person_id,
                Invitation.purpose == PERSON_ACCOUNT,
                Invitation.used_at.is_(None),
            )
        ):
            old.expires_at = now
        link = _new_link(
            session,
            secret_key=secret_key,
            purpose=PERSON_ACCOUNT,
            now=now,
            lifetime=INVITATION_LIFETIME,
            actor=actor,
            person_id=person_id,
        )
        append_audit(
            session=session,
            at=now,
            action="invite",
            entity="person",
            entity_id=person_id,
            person_id=person_id,
            detail=f"account invitation valid until {link.expires_at.isoformat(timespec='minutes')}",
            **audit_as(actor),
        )
    return link


def _open_link(session: Session, *, secret_key: str, token: str, purpose: str, now: datetime) -> Invitation:
    found = session.get(Invitation, login_sessions.token_hash(secret_key, token)) if token else None
    if found is None or found.purpose != purpose:
        raise NotFoundError("this link is not valid; ask for a new one")
    if found.used_at is not None:
        raise ConflictError("this link has already been used; ask for a new one if you need it")
    if now >= login_sessions.aware(found.expires_at):
        raise ConflictError("this link has expired; ask for a new one")
    return found


def check_invitation(*, session: Session, secret_key: str, token: str, now: datetime) -> None:
    """Raise when the invitation cannot be used (unknown, used or expired)."""
    _open_link(session, secret_key=secret_key, token=token, purpose=PERSON_ACCOUNT, now=now)
    session.commit()


def accept_invitation(
    *, session: Session, secret_key: str, token: str, username: str, password: str, now: datetime
) -> User:
    """The person chooses a username and password; the link is used up in the same transaction."""
    name = check_username(username)
    check_password_policy(password, username=name, staff=False)
    password_hash = hash_password(password)
    with write_transaction(session):
        invitation = _open_link(session, secret_key=secret_key, token=token, purpose=PERSON_ACCOUNT, now=now)
        if session.scalar(select(User.user_id).where(User.username == name)) is not None:
            raise ConflictError(f"the username {name!r} is taken; choose another")
        if session.scalar(select(User.user_id).where(User.person_id == invitation.person_id)) is not None:
            raise ConflictError("this person already has an account")
        user = User(
            username=name,
            display_name=name,
            role=Role.PERSON.value,
            password_hash=password_hash,
            is_active=True,
            person_id=invitation.person_id,
            created_at=now,
        )
        session.add(user)
        session.flush()
        invitation.used_at = now
        append_audit(
            session=session,
            at=now,
            user_id=user.user_id,
            role=user.role,
            action="create",
            entity="user",
            entity_id=user.user_id,
            person_id=invitation.person_id,
            detail=f"{name}: person account set up from an invitation",
        )
    return user


def _target(session: Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"unknown user: {user_id}")
    return user


def user_by_name(*, session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFoundError(f"no user named {username!r}")
    return user


def _audit_change(
    session: Session, actor: Actor, user: User, now: datetime, action: str, detail: str
) -> None:
    append_audit(
        session=session,
        at=now,
        action=action,
        entity="user",
        entity_id=user.user_id,
        detail=f"{user.username}: {detail}" + (f" (by {actor.username})" if actor.user_id is None else ""),
        **audit_as(actor),
    )


def set_active(*, session: Session, actor: Actor, user_id: str, active: bool, now: datetime) -> User:
    """Deactivate (ending every session at once) or reactivate an account."""
    require_permission(actor, Permission.MANAGE_USERS)
    with write_transaction(session):
        user = _target(session, user_id)
        if not active and user.user_id == actor.user_id:
            raise ValidationError("you cannot deactivate your own account")
        user.is_active = active
        ended = 0
        if not active:
            ended = login_sessions.end_user_sessions(
                session=session, user_id=user.user_id, now=now, reason="account deactivated"
            )
        _audit_change(
            session,
            actor,
            user,
            now,
            "deactivate" if not active else "reactivate",
            "deactivated" + (f", {ended} session(s) ended" if ended else "") if not active else "reactivated",
        )
    return user


def change_role(
    *, session: Session, actor: Actor, user_id: str, role: str, program_ids: list[str] | None, now: datetime
) -> User:
    """Give an account another role (and programs); its sessions end so the new rights apply at once."""
    require_permission(actor, Permission.MANAGE_USERS)
    new_role = parse_role(role)
    if new_role is Role.PERSON:
        raise ValidationError("an account cannot become a person's account; invite the person instead")
    programs = sorted(set(program_ids or []))
    if programs and new_role not in PROGRAM_ROLES:
        raise ValidationError(f"a {new_role.value} is not assigned to programs")
    with write_transaction(session):
        user = _target(session, user_id)
        if user.role == Role.PERSON.value:
            raise ValidationError("a person's own account keeps its role")
        if user.user_id == actor.user_id:
            raise ValidationError("you cannot change your own role")
        old = user.role
        user.role = new_role.value
        if new_role is not Role.CLINICIAN:
            user.staff_id = None
        for link in session.scalars(select(UserProgram).where(UserProgram.user_id == user.user_id)):
            session.delete(link)
        session.flush()
        session.add_all(UserProgram(user_id=user.user_id, program_id=p) for p in programs)
        login_sessions.end_user_sessions(
            session=session, user_id=user.user_id, now=now, reason="role changed"
        )
        _audit_change(session, actor, user, now, "change_role", f"{old} -> {new_role.value}")
    return user


def reset_link(*, session: Session, actor: Actor, secret_key: str, user_id: str, now: datetime) -> Link:
    """A one-time password-reset link for an account; the administrator never learns the password."""
    require_permission(actor, Permission.MANAGE_USERS)
    with write_transaction(session):
        user = _target(session, user_id)
        link = _new_link(
            session,
            secret_key=secret_key,
            purpose=PASSWORD_RESET,
            now=now,
            lifetime=RESET_LIFETIME,
            actor=actor,
            user_id=user.user_id,
        )
        _audit_change(session, actor, user, now, "reset_link", "password reset link issued")
    return link


def check_reset(*, session: Session, secret_key: str, token: str, now: datetime) -> None:
    _open_link(session, secret_key=secret_key, token=token, purpose=PASSWORD_RESET, now=now)
    session.commit()


def use_reset_link(*, session: Session, secret_key: str, token: str, password: str, now: datetime) -> User:
    """Set a new password from a reset link; every session of the account ends."""
    with write_transaction(session):
        invitation = _open_link(session, secret_key=secret_key, token=token, purpose=PASSWORD_RESET, now=now)
        user = _target(session, invitation.user_id or "")
        check_password_policy(password, username=user.username, staff=Role(user.role) in STAFF_ROLES)
        user.password_hash = hash_password(password)
        invitation.used_at = now
        login_sessions.end_user_sessions(
            session=session, user_id=user.user_id, now=now, reason="password reset"
        )
        append_audit(
            session=session,
            at=now,
            user_id=user.user_id,
            role=user.role,
            action="reset_password",
            entity="user",
            entity_id=user.user_id,
            detail="password set from a reset link; all sessions ended",
        )
    return user


def change_password(
    *, session: Session, actor: Actor, current: str, new: str, keep_session: str | None, now: datetime
) -> None:
    """Change one's own password (the current one is asked for); other sessions end at once."""
    user = _target(session, actor.user_id or "")
    session.commit()
    if not verify_password(user.password_hash, current):
        raise ValidationError("the current password is not correct", column="current_password")
    check_password_policy(new, username=user.username, staff=Role(user.role) in STAFF_ROLES)
    new_hash = hash_password(new)
    with write_transaction(session):
        user = _target(session, user.user_id)
        user.password_hash = new_hash
        ended = login_sessions.end_user_sessions(
            session=session, user_id=user.user_id, now=now, reason="password changed", keep=keep_session
        )
        _audit_change(
            session, actor, user, now, "change_password", f"password changed; {ended} other session(s) ended"
        )


def grant(
    *, session: Session, actor: Actor, user_id: str, permission: str, reason: str, now: datetime
) -> AccessGrant:
    """Give one account a grantable permission (e.g. identified records for an approved analysis)."""
    require_permission(actor, Permission.MANAGE_USERS)
    try:
        wanted = Permission(permission)
    except ValueError:
        wanted = None
    if wanted is None or wanted not in GRANTABLE:
        names = ", ".join(p.value for p in GRANTABLE)
        raise ValidationError(f"{permission!r} cannot be granted", column="permission", expected=names)
    if len(reason.strip()) < 10:
        raise ValidationError("say why, in a sentence", column="reason", expected="at least 10 characters")
    with write_transaction(session):
        user = _target(session, user_id)
        if Role(user.role) not in GRANTABLE[wanted]:
            roles = ", ".join(sorted(r.value for r in GRANTABLE[wanted]))
            raise ValidationError(f"{wanted.value} is not granted to a {user.role}", expected=f"role {roles}")
        row = AccessGrant(
            grant_id=uuid.uuid4().hex,
            user_id=user.user_id,
            permission=wanted.value,
            reason=reason.strip(),
            granted_by=actor.user_id,
            granted_at=now,
        )
        session.add(row)
        login_sessions.end_user_sessions(
            session=session, user_id=user.user_id, now=now, reason="permissions changed"
        )
        _audit_change(session, actor, user, now, "grant", f"{wanted.value}: {reason.strip()}")
    return row


def revoke_grant(*, session: Session, actor: Actor, grant_id: str, now: datetime) -> None:
    require_permission(actor, Permission.MANAGE_USERS)
    with write_transaction(session):
        row = session.get(AccessGrant, grant_id)
        if row is None or row.revoked_at is not None:
            raise NotFoundError("no such active grant")
        row.revoked_at = now
        user = _target(session, row.user_id)
        login_sessions.end_user_sessions(
            session=session, user_id=user.user_id, now=now, reason="permissions changed"
        )
        _audit_change(session, actor, user, now, "revoke_grant", f"{row.permission} revoked")


def active_grants(*, session: Session) -> dict[str, list[AccessGrant]]:
    """Every account's active grants, oldest first, in one query (the accounts page lists them all)."""
    grouped: dict[str, list[AccessGrant]] = {}
    for grant in session.scalars(
        select(AccessGrant).where(AccessGrant.revoked_at.is_(None)).order_by(AccessGrant.granted_at)
    ):
        grouped.setdefault(grant.user_id, []).append(grant)
    return grouped
