"""Voice: campaigns and ideas, supports, comments, reports and moderation (docs/voice.md).

Anyone signed in takes part (`voice` permission) in the campaigns whose audience includes them: a
clinic's staff, people in services, or everyone; ideas outside a campaign are always welcome. An idea is
anonymous to everyone but moderators, who see the account behind it. One support per account; comments
say whether they are for, against or neutral. Three reports pending review hide an idea or a comment
until a moderator restores it or keeps it hidden; each step goes into the moderation log.

Every write is one transaction with its audit entry.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from onward.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from onward.model.roles import Role
from onward.model.voice import (
    COMMENT_MAX,
    TEXT_MAX,
    TITLE_MAX,
    Audience,
    AuthorRole,
    CampaignKind,
    Stance,
    Status,
    Window,
    clean_text,
    fts5_query,
    parse_choice,
    search_terms,
    tsquery,
)
from onward.security.access import Actor
from onward.security.policy import Permission
from onward.services._guard import audit_by, require_permission, write_transaction
from onward.store.tables_voice import (
    VoiceCampaign,
    VoiceComment,
    VoiceEvent,
    VoiceIdea,
    VoiceSupport,
)

_NOT_FOUND = "there is no idea here that you may see"
#: Roles whose accounts are a clinic's staff (campaigns for a clinic's staff reach them).
_STAFF_OF_PROGRAMS = frozenset({Role.CLINICIAN.value, Role.MANAGER.value, Role.TEACHER.value})


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def audit(
    session: Session, actor: Actor, now: datetime, action: str, entity: str, entity_id: str, detail: str
) -> None:
    audit_by(session, actor, now, action, entity, entity_id, detail)


# --- campaigns ------------------------------------------------------------------------------------


def create_campaign(
    *,
    session: Session,
    actor: Actor,
    title: str,
    question: str,
    audience: str,
    opens_on: date,
    closes_on: date,
    program_id: str | None = None,
    kind: str = CampaignKind.CAMPAIGN.value,
    requester: str | None = None,
    reference: str | None = None,
    export_fields: list[str] | None = None,
    now: datetime,
) -> VoiceCampaign:
    """Open a question for ideas (council members); a formal request names who asked and the columns
    its answers are to be exported in."""
    require_permission(actor, Permission.COUNCIL)
    chosen = parse_choice(audience, Audience, "audience")
    kind_ = parse_choice(kind, CampaignKind, "kind")
    Window(opens_on, closes_on)
    if chosen is Audience.CLINIC_STAFF and not program_id:
        raise ValidationError("a campaign for a clinic's staff names the clinic", column="program_id")
    if kind_ is CampaignKind.FORMAL_REQUEST and not (requester or "").strip():
        raise ValidationError("a formal request names who asked (requester)", column="requester")
    fields = [f.strip() for f in (export_fields or []) if f.strip()]
    unknown = [f for f in fields if f not in EXPORT_COLUMNS]
    if unknown:
        raise ValidationError(
            f"unknown export column(s) {', '.join(unknown)}",
            column="export_fields",
            expected=", ".join(EXPORT_COLUMNS),
        )
    with write_transaction(session):
        row = VoiceCampaign(
            campaign_id=new_id(),
            kind=kind_.value,
            title=clean_text(title, field="title", maximum=200),
            question=clean_text(question, field="question", maximum=TEXT_MAX),
            audience=chosen.value,
            program_id=program_id if chosen is Audience.CLINIC_STAFF else None,
            opens_on=opens_on,
            closes_on=closes_on,
            requester=(requester or "").strip() or None,
            reference=(reference or "").strip() or None,
            export_fields=json.dumps(fields) if fields else None,
            created_by=actor.user_id,
            created_at=now,
        )
        session.add(row)
        audit(session, actor, now, "create", "voice_campaign", row.campaign_id, f"{row.kind}: {row.title}")
    return row


#: Columns an export may carry, in the words a request for comments uses (docs/voice.md).
EXPORT_COLUMNS: dict[str, str] = {
    "idea_id": "Idea id",
    "submitted_on": "Submitted",
    "author_role": "Author role",
    "title": "Title",
    "problem": "Problem",
    "proposal": "Proposal",
    "supports": "Supports",
    "comments_for": "Comments for",
    "comments_against": "Comments against",
    "comments_neutral": "Comments neutral",
    "status": "Status",
    "decision_reason": "Decision reason",
}


def may_take_part(actor: Actor, campaign: VoiceCampaign | None) -> bool:
    if not actor.may(Permission.VOICE):
        return False
    if campaign is None or campaign.audience == Audience.EVERYONE.value:
        return True
    if campaign.audience == Audience.PEOPLE_IN_SERVICES.value:
        return actor.role == Role.PERSON.value
    return actor.role in _STAFF_OF_PROGRAMS and campaign.program_id in actor.program_ids


def campaigns(session: Session) -> list[VoiceCampaign]:
    return list(session.scalars(select(VoiceCampaign).order_by(VoiceCampaign.opens_on.desc())))


def open_campaigns_for(session: Session, actor: Actor, day: date) -> list[VoiceCampaign]:
    return [c for c in campaigns(session) if c.opens_on <= day <= c.closes_on and may_take_part(actor, c)]


def get_campaign(session: Session, campaign_id: str) -> VoiceCampaign:
    row = session.get(VoiceCampaign, campaign_id)
    if row is None:
        raise NotFoundError(f"no campaign {campaign_id}")
    return row


# --- ideas ----------------------------------------------------------------------------------------


def author_roles_for(actor: Actor) -> list[AuthorRole]:
    """The author roles an account may write as: a person's own account speaks as a person in services
    (or a family member); staff accounts as staff (clinician first for clinicians)."""
    if actor.role == Role.PERSON.value:
        return [AuthorRole.PERSON_IN_SERVICES, AuthorRole.FAMILY_MEMBER]
    first = AuthorRole.CLINICIAN if actor.role == Role.CLINICIAN.value else AuthorRole.OTHER_STAFF
    rest = [
        r
        for r in (AuthorRole.CLINICIAN, AuthorRole.OTHER_STAFF, AuthorRole.FAMILY_MEMBER, AuthorRole.OTHER)
        if r is not first
    ]
    return [first, *rest]


def submit_idea(
    *,
    session: Session,
    actor: Actor,
    title: str,
    problem: str,
    proposal: str,
    author_role: str | None = None,
    campaign_id: str | None = None,
    now: datetime,
) -> VoiceIdea:
    require_permission(actor, Permission.VOICE)
    allowed = author_roles_for(actor)
    role = parse_choice(author_role, AuthorRole, "author_role") if author_role else allowed[0]
    if role not in allowed:
        raise ValidationError(
            f"this account cannot write as {role.value}",
            column="author_role",
            expected=", ".join(r.value for r in allowed),
        )
    values = {
        "title": clean_text(title, field="title", maximum=TITLE_MAX),
        "problem": clean_text(problem, field="problem", maximum=TEXT_MAX),
        "proposal": clean_text(proposal, field="proposal", maximum=TEXT_MAX),
    }
    with write_transaction(session):
        campaign = session.get(VoiceCampaign, campaign_id) if campaign_id else None
        if campaign_id and campaign is None:
            raise NotFoundError(f"no campaign {campaign_id}")
        if campaign is not None:
            if not may_take_part(actor, campaign):
                raise PermissionDeniedError("this campaign asks someone else (see its audience)")
            if not Window(campaign.opens_on, campaign.closes_on).is_open(now.date()):
                raise ConflictError(
                    f"the campaign takes ideas from {campaign.opens_on} to {campaign.closes_on}"
                )
        idea = VoiceIdea(
            idea_id=new_id(),
            campaign_id=campaign.campaign_id if campaign else None,
            author_role=role.value,
            author_user_id=actor.user_id,
            status=Status.SUBMITTED.value,
            hidden=False,
            submitted_at=now,
            submitted_on=now.date(),
            **values,
        )
        session.add(idea)
        session.flush()
        session.add(
            VoiceEvent(
                idea_id=idea.idea_id,
                at=now,
                status=idea.status,
                note="Idea submitted.",
                by_user_id=actor.user_id,
            )
        )
        audit(session, actor, now, "submit", "voice_idea", idea.idea_id, f"{role.value}: {idea.title}")
    return idea


def get_idea(session: Session, actor: Actor | None, idea_id: str) -> VoiceIdea:
    """An idea as `actor` may see it: a hidden idea only for moderators and its own author."""
    idea = session.get(VoiceIdea, idea_id)
    if idea is None or (idea.hidden and not _may_see_hidden(actor, idea)):
        raise NotFoundError(_NOT_FOUND)
    return idea


def _may_see_hidden(actor: Actor | None, idea: VoiceIdea) -> bool:
    return actor is not None and (
        actor.may(Permission.VOICE_MODERATE)
        or (actor.user_id is not None and actor.user_id == idea.author_user_id)
    )


def ideas(
    session: Session,
    *,
    campaign_id: str | None = None,
    status: str | None = None,
    include_hidden: bool = False,
) -> list[VoiceIdea]:
    query = select(VoiceIdea).order_by(VoiceIdea.submitted_at.desc())
    if campaign_id is not None:
        query = query.where(VoiceIdea.campaign_id == campaign_id)
    if status is not None:
        query = query.where(VoiceIdea.status == status)
    if not include_hidden:
        query = query.where(VoiceIdea.hidden.is_(False))
    return list(session.scalars(query))


def my_ideas(session: Session, actor: Actor) -> list[VoiceIdea]:
    if actor.user_id is None:
        return []
    return list(
        session.scalars(
            select(VoiceIdea)
            .where(VoiceIdea.author_user_id == actor.user_id)
            .order_by(VoiceIdea.submitted_at.desc())
        )
    )


def similar_ideas(
    session: Session, words: str, *, limit: int = 5, exclude: str | None = None
) -> list[VoiceIdea]:
    """Visible ideas sharing words with `words`, best match first, by the database's own full-text search
    (SQLite FTS5 with the porter stemmer, PostgreSQL to_tsvector/to_tsquery with English stemming)."""
    terms = search_terms(words)
    if not terms:
        return []
    if session.get_bind().dialect.name == "sqlite":
        statement = text(
            "SELECT i.idea_id FROM voice_ideas_fts f JOIN voice_ideas i ON i.rowid = f.rowid "
            "WHERE voice_ideas_fts MATCH :q AND NOT i.hidden ORDER BY bm25(voice_ideas_fts) LIMIT :n"
        ).bindparams(q=fts5_query(terms), n=limit + 1)
    else:
        statement = text(
            "SELECT idea_id FROM (SELECT idea_id, hidden, to_tsvector('english', "
            "title || ' ' || problem || ' ' || proposal) AS doc FROM voice_ideas) i, "
            "to_tsquery('english', :q) q "
            "WHERE i.doc @@ q AND NOT i.hidden ORDER BY ts_rank(i.doc, q) DESC, idea_id LIMIT :n"
        ).bindparams(q=tsquery(terms), n=limit + 1)
    found = [row[0] for row in session.execute(statement) if row[0] != exclude][:limit]
    rows = {i.idea_id: i for i in session.scalars(select(VoiceIdea).where(VoiceIdea.idea_id.in_(found)))}
    return [rows[i] for i in found if i in rows]


# --- supports and comments ------------------------------------------------------------------------


def support(*, session: Session, actor: Actor, idea_id: str, now: datetime) -> bool:
    """Support an idea once; a second support by the same account changes nothing (returns False)."""
    require_permission(actor, Permission.VOICE)
    if actor.user_id is None:
        raise PermissionDeniedError("supports come from signed-in accounts")
    with write_transaction(session):
        idea = get_idea(session, actor, idea_id)
        if session.get(VoiceSupport, (idea.idea_id, actor.user_id)) is not None:
            return False
        session.add(VoiceSupport(idea_id=idea.idea_id, user_id=actor.user_id, at=now))
        audit(session, actor, now, "support", "voice_idea", idea.idea_id, "supported")
    return True


def supports(session: Session, idea_id: str) -> int:
    return int(
        session.scalar(select(func.count()).select_from(VoiceSupport).where(VoiceSupport.idea_id == idea_id))
        or 0
    )


def supported_by(session: Session, idea_id: str, user_id: str | None) -> bool:
    return user_id is not None and session.get(VoiceSupport, (idea_id, user_id)) is not None


def comment(
    *, session: Session, actor: Actor, idea_id: str, stance: str, body: str, now: datetime
) -> VoiceComment:
    require_permission(actor, Permission.VOICE)
    chosen = parse_choice(stance, Stance, "stance")
    words = clean_text(body, field="comment", maximum=COMMENT_MAX)
    with write_transaction(session):
        idea = get_idea(session, actor, idea_id)
        row = VoiceComment(
            comment_id=new_id(),
            idea_id=idea.idea_id,
            user_id=actor.user_id,
            author_role=author_roles_for(actor)[0].value,
            stance=chosen.value,
            body=words,
            at=now,
            hidden=False,
        )
        session.add(row)
        audit(
            session,
            actor,
            now,
            "comment",
            "voice_idea",
            idea.idea_id,
            f"{chosen.value} comment {row.comment_id}",
        )
    return row


def comments(session: Session, idea_id: str, *, include_hidden: bool = False) -> list[VoiceComment]:
    query = select(VoiceComment).where(VoiceComment.idea_id == idea_id).order_by(VoiceComment.at)
    if not include_hidden:
        query = query.where(VoiceComment.hidden.is_(False))
    return list(session.scalars(query))
