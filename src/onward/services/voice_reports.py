"""Answers to a campaign or a regulator's or payer's formal request, in the columns it asked for
(docs/voice.md, "Formal requests for comment"). Authors are never exported: only their role."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from onward.services import voice_ideas
from onward.store.tables_voice import VoiceCampaign, VoiceIdea


def _value(session: Session, idea: VoiceIdea, column: str, counts: dict[str, int]) -> str:
    if column == "supports":
        return str(voice_ideas.supports(session, idea.idea_id))
    if column.startswith("comments_"):
        return str(counts[column.removeprefix("comments_")])
    value = getattr(idea, column)
    return "" if value is None else str(value)


def export_rows(session: Session, campaign: VoiceCampaign) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the campaign's visible ideas, oldest first, in the requested column order."""
    columns = (
        json.loads(campaign.export_fields) if campaign.export_fields else list(voice_ideas.EXPORT_COLUMNS)
    )
    rows = []
    for idea in reversed(voice_ideas.ideas(session, campaign_id=campaign.campaign_id)):
        comments = voice_ideas.comments(session, idea.idea_id)
        counts = {s: sum(c.stance == s for c in comments) for s in ("for", "against", "neutral")}
        rows.append([_value(session, idea, c, counts) for c in columns])
    return [voice_ideas.EXPORT_COLUMNS[c] for c in columns], rows
