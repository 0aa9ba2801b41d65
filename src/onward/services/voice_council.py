"""The council: who sits on it, and its decisions on ideas (docs/voice.md, "The council").

Administrators seat and unseat members (`manage_users`). A council member records a decision (accept or
decline, with a public reason) naming the members present; it is taken only when the seated council
meets the composition rule and those present make a quorum that includes both groups
(`onward.model.voice_council`). A refused decision is audited with its reasons and changes nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from onward.errors import ConflictError, NotFoundError, ValidationError
from onward.model.voice import Status, clean_text, parse_choice, require_reason, require_transition
from onward.model.voice_council import (
    CompositionRule,
    Group,
    Member,
    Seat,
    composition,
    council_problems,
    decision_problems,
)
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.services._guard import require_permission, write_transaction
from onward.services.voice_ideas import audit, new_id
from onward.services.voice_lifecycle import Notice, record_step
from onward.store.tables import User
from onward.store.tables_voice import CouncilDecision, CouncilMember, VoiceIdea


class CouncilRuleError(ConflictError):
    """A decision refused because the council or those present do not meet the rule (409)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Decision refused: " + "; ".join(problems))


def _member(row: CouncilMember) -> Member:
    return Member(row.member_id, row.name, Group(row.member_group), Seat(row.seat))


def seated_rows(session: Session, on: date) -> list[CouncilMember]:
    return list(
        session.scalars(
            select(CouncilMember)
            .where(
                CouncilMember.joined_on <= on,
                or_(CouncilMember.left_on.is_(None), CouncilMember.left_on > on),
            )
            .order_by(CouncilMember.seat, CouncilMember.name)
        )
    )


def seated(session: Session, on: date) -> list[Member]:
    return [_member(r) for r in seated_rows(session, on)]


def all_members(session: Session) -> list[CouncilMember]:
    return list(session.scalars(select(CouncilMember).order_by(CouncilMember.joined_on, CouncilMember.name)))


def seat_member(
    *,
    session: Session,
    actor: Actor,
    name: str,
    group: str,
    seat: str = Seat.MEMBER.value,
    username: str | None = None,
    joined_on: date,
    now: datetime,
) -> CouncilMember:
    require_permission(actor, Permission.MANAGE_USERS)
    chosen_group = parse_choice(group, Group, "group")
    chosen_seat = parse_choice(seat, Seat, "seat")
    with write_transaction(session):
        user_id = None
        if username:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise NotFoundError(f"no account {username!r}")
            user_id = user.user_id
        row = CouncilMember(
            member_id=new_id(),
            user_id=user_id,
            name=clean_text(name, field="name", maximum=200),
            member_group=chosen_group.value,
            seat=chosen_seat.value,
            joined_on=joined_on,
            left_on=None,
        )
        session.add(row)
        audit(
            session,
            actor,
            now,
            "seat",
            "council_member",
            row.member_id,
            f"{row.name}: {chosen_group.value}, {chosen_seat.value}",
        )
    return row


def unseat_member(
    *, session: Session, actor: Actor, member_id: str, left_on: date, now: datetime
) -> CouncilMember:
    require_permission(actor, Permission.MANAGE_USERS)
    with write_transaction(session):
        row = session.get(CouncilMember, member_id, populate_existing=True)
        if row is None:
            raise NotFoundError(f"no council member {member_id}")
        if row.left_on is not None:
            raise ConflictError(f"{row.name} left the council on {row.left_on}")
        if left_on < row.joined_on:
            raise ValidationError(f"{row.name} joined on {row.joined_on}", column="left_on")
        row.left_on = left_on
        audit(session, actor, now, "unseat", "council_member", row.member_id, f"{row.name} left on {left_on}")
    return row


@dataclass(frozen=True, slots=True)
class CouncilState:
    """The council on a day: its seated members, their composition and whether it meets the rule."""

    on: date
    members: list[Member]
    text: str
    problems: list[str]
    rule: str


def council_state(session: Session, on: date, rule: CompositionRule) -> CouncilState:
    members = seated(session, on)
    return CouncilState(
        on, members, composition(members).to_text(), council_problems(members, rule), rule.describe()
    )


def decide(
    *,
    session: Session,
    actor: Actor,
    idea_id: str,
    outcome: str,
    reason: str,
    present: list[str],
    rule: CompositionRule,
    now: datetime,
) -> tuple[CouncilDecision, list[Notice]]:
    """Accept or decline an idea under review, by the council members `present`, with a public reason.
    Refused (CouncilRuleError, audited) when the composition rule or the quorum is not met."""
    require_permission(actor, Permission.COUNCIL)
    target = parse_choice(outcome, Status, "outcome")
    if target not in (Status.ACCEPTED, Status.DECLINED):
        raise ValidationError(f"a council decision accepts or declines, not {target.value}", column="outcome")
    why = require_reason(reason, what="a decision")
    day = now.date()
    with write_transaction(session):
        idea = session.get(VoiceIdea, idea_id, populate_existing=True)
        if idea is None:
            raise NotFoundError(f"no idea {idea_id}")
        require_transition(idea.status, target)
        members = seated(session, day)
        problems = decision_problems(members, present, rule)
    if problems:
        with write_transaction(session):
            audit(session, actor, now, "decide_refused", "voice_idea", idea_id, "; ".join(problems))
        raise CouncilRuleError(problems)
    with write_transaction(session):
        idea = session.get(VoiceIdea, idea_id, populate_existing=True)
        if idea is None:
            raise NotFoundError(f"no idea {idea_id}")
        require_transition(idea.status, target)  # nobody decided it in between
        by_id = {m.member_id: m for m in members}
        there = [by_id[p] for p in dict.fromkeys(present)]
        record = {
            "seated": composition(members).to_text(),
            "present": composition(there).to_text(),
            "present_names": [m.name for m in there],
            "rule": rule.describe(),
        }
        decision = CouncilDecision(
            decision_id=new_id(),
            idea_id=idea.idea_id,
            outcome=target.value,
            reason=why,
            decided_on=day,
            present=json.dumps(list(dict.fromkeys(present))),
            composition=json.dumps(record),
            recorded_by=actor.user_id,
            recorded_at=now,
        )
        session.add(decision)
        idea.decided_on, idea.decision_reason = day, why
        verb = "accepted" if target is Status.ACCEPTED else "declined"
        notices = record_step(
            session, idea, target, f"The council {verb} this idea: {why}", actor=actor, now=now
        )
        audit(
            session, actor, now, "decide", "voice_idea", idea.idea_id, f"{verb}; present: {record['present']}"
        )
    return decision, notices


def decisions(session: Session, idea_id: str | None = None) -> list[CouncilDecision]:
    query = select(CouncilDecision).order_by(CouncilDecision.recorded_at.desc())
    if idea_id is not None:
        query = query.where(CouncilDecision.idea_id == idea_id)
    return list(session.scalars(query))
