"""Record-level access: who may see which person's record, and on what basis.

A person sees their own record. A clinician sees the episodes they are assigned to (primary clinician
or care team) and, through break-glass, a person outside their caseload for one hour. A manager sees
the people of their programs. Leaders and analysts see identified records only by an administrator's
grant. Administrators and council members never see clinical records. Anything else is not found:
a record the user may not see answers 404, so its existence is not disclosed either.

Episodes of substance-use treatment (`is_sud`) are 42 CFR Part 2 records: a clinician outside the
episode's own care team sees them only through break-glass (§2.51, medical emergencies).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from onward.errors import NotFoundError
from onward.model.roles import Role
from onward.security.policy import GRANTABLE, Permission, role_permissions
from onward.store.tables import Episode, Person, Referral, User, UserProgram
from onward.store.tables_security import AccessGrant, BreakGlassGrant, CareTeamMember


class Basis(StrEnum):
    """Why a user may see a person's record; written to the audit log with every read."""

    OWN = "own record"
    CARE_TEAM = "assigned"
    PROGRAM = "program manager"
    BREAK_GLASS = "break-glass"
    GRANT = "granted"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: the account, its role, what it may do, and the request it acts in."""

    user_id: str | None
    username: str
    role: str
    permissions: frozenset[Permission]
    person_id: str | None = None
    staff_id: str | None = None
    program_ids: tuple[str, ...] = ()
    request_id: str | None = None

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


#: Separates the values of one aggregated column (the ASCII unit separator: in no permission or id).
_SEP = "\x1f"


def held_by(
    user_id: str | ColumnElement[str] | InstrumentedAttribute[str],
) -> tuple[ScalarSelect[Any], ScalarSelect[Any]]:
    """A user's unrevoked grants and their programs, each as one aggregated string column, so they can
    be read in the statement that reads the user (the session check does, on every request)."""
    grants = (
        select(func.aggregate_strings(AccessGrant.permission, _SEP))
        .where(AccessGrant.user_id == user_id, AccessGrant.revoked_at.is_(None))
        .scalar_subquery()
    )
    programs = (
        select(func.aggregate_strings(UserProgram.program_id, _SEP))
        .where(UserProgram.user_id == user_id)
        .scalar_subquery()
    )
    return grants, programs


def split_held(value: str | None) -> tuple[str, ...]:
    """The values of a `held_by` column."""
    return tuple(value.split(_SEP)) if value else ()


def actor_of(
    user: User, grants: Iterable[str], programs: Iterable[str], *, request_id: str | None = None
) -> Actor:
    """The actor of a signed-in user: role grants plus the unrevoked administrator grants its role may
    hold, and its programs."""
    granted = {
        Permission(p)
        for p in grants
        if p in {g.value for g in GRANTABLE} and Role(user.role) in GRANTABLE[Permission(p)]
    }
    return Actor(
        user_id=user.user_id,
        username=user.username,
        role=user.role,
        permissions=role_permissions(user.role) | granted,
        person_id=user.person_id,
        staff_id=user.staff_id,
        program_ids=tuple(sorted(programs)),
        request_id=request_id,
    )


def actor_for(session: Session, user: User, now: datetime, *, request_id: str | None = None) -> Actor:
    """`actor_of` a user, reading its grants and programs (one statement)."""
    grants, programs = session.execute(select(*held_by(user.user_id))).one()
    return actor_of(user, split_held(grants), split_held(programs), request_id=request_id)


def operator(name: str) -> Actor:
    """The person at the command line: someone with the database's credentials, acting as its owner.
    Their commands are audited under role "operator" with their system login name."""
    return Actor(
        user_id=None,
        username=name,
        role="operator",
        permissions=frozenset(Permission),
        request_id=None,
    )


def assigned_episodes(staff_id: str, on: datetime) -> ColumnElement[bool]:
    """Episodes whose primary clinician is `staff_id`, or with `staff_id` on the care team on `on`."""
    day = on.date()
    on_team = exists().where(
        CareTeamMember.episode_id == Episode.episode_id,
        CareTeamMember.staff_id == staff_id,
        CareTeamMember.added_on <= day,
        or_(CareTeamMember.removed_on.is_(None), CareTeamMember.removed_on > day),
    )
    return or_(Episode.primary_staff_id == staff_id, on_team)


def active_break_glass(
    session: Session, actor: Actor, person_id: str, now: datetime
) -> BreakGlassGrant | None:
    if actor.user_id is None or not actor.may(Permission.BREAK_GLASS):
        return None
    return session.scalar(
        select(BreakGlassGrant)
        .where(
            BreakGlassGrant.user_id == actor.user_id,
            BreakGlassGrant.person_id == person_id,
            BreakGlassGrant.expires_at > now,
        )
        .order_by(BreakGlassGrant.expires_at.desc())
        .limit(1)
    )


def person_basis(session: Session, actor: Actor, person_id: str, now: datetime) -> Basis | None:
    """On what basis `actor` may see `person_id`'s record, or None."""
    if actor.role == "operator":
        return Basis.GRANT
    if actor.may(Permission.OWN_RECORD) and actor.person_id is not None and actor.person_id == person_id:
        return Basis.OWN
    if actor.may(Permission.CASELOAD) and actor.staff_id is not None:
        assigned = session.scalar(
            select(exists().where(Episode.person_id == person_id, assigned_episodes(actor.staff_id, now)))
        )
        if assigned:
            return Basis.CARE_TEAM
    if actor.may(Permission.OWN_PROGRAMS) and actor.program_ids:
        in_program = session.scalar(
            select(
                or_(
                    exists().where(Episode.person_id == person_id, Episode.program_id.in_(actor.program_ids)),
                    exists().where(
                        Referral.person_id == person_id, Referral.program_id.in_(actor.program_ids)
                    ),
                )
            )
        )
        if in_program:
            return Basis.PROGRAM
    if active_break_glass(session, actor, person_id, now) is not None:
        return Basis.BREAK_GLASS
    if actor.may(Permission.IDENTIFIED_RECORDS):
        return Basis.GRANT
    return None


def require_person(session: Session, actor: Actor, person_id: str, now: datetime) -> tuple[Person, Basis]:
    """The person and the basis of access; NotFoundError when they do not exist or may not be seen."""
    basis = person_basis(session, actor, person_id, now)
    person = session.get(Person, person_id) if basis is not None else None
    if person is None or basis is None:
        raise NotFoundError("there is no record here that you may see")
    return person, basis


def visible_episodes(actor: Actor, basis: Basis, now: datetime) -> ColumnElement[bool]:
    """The episodes of a person `actor` may see on `basis` (a filter on Episode)."""
    if basis in (Basis.OWN, Basis.BREAK_GLASS, Basis.GRANT):
        return Episode.episode_id.is_not(None)
    if basis is Basis.CARE_TEAM and actor.staff_id is not None:
        return assigned_episodes(actor.staff_id, now)
    if basis is Basis.PROGRAM:
        # A manager's programs are the Part 2 program itself when they treat substance use.
        return Episode.program_id.in_(actor.program_ids)
    return Episode.episode_id.is_(None)


def _basis_from_episode(actor: Actor, episode: Episode) -> Basis | None:
    """The basis `person_basis` would find, when the episode row alone decides it: the person's own
    episode, or one whose primary clinician is the actor (who then sees it on `visible_episodes`'
    care-team filter). None when it takes the database to decide."""
    if actor.role == "operator":
        return None
    if actor.may(Permission.OWN_RECORD) and actor.person_id is not None:
        return Basis.OWN if actor.person_id == episode.person_id else None
    if actor.may(Permission.CASELOAD) and actor.staff_id is not None:
        return Basis.CARE_TEAM if episode.primary_staff_id == actor.staff_id else None
    return None


def require_episode(session: Session, actor: Actor, episode_id: str, now: datetime) -> tuple[Episode, Basis]:
    """An episode `actor` may see, and the basis; NotFoundError otherwise."""
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFoundError("there is no record here that you may see")
    quick = _basis_from_episode(actor, episode)
    if quick is not None:  # decided by the episode row alone: no more round trips on the busiest pages
        return episode, quick
    basis = person_basis(session, actor, episode.person_id, now)
    if basis is None:
        raise NotFoundError("there is no record here that you may see")
    visible = session.scalar(
        select(exists().where(Episode.episode_id == episode_id, visible_episodes(actor, basis, now)))
    )
    if not visible:
        raise NotFoundError("there is no record here that you may see")
    return episode, basis
