"""Voice: campaigns, ideas, supports, comments, reports, the moderation log, the council and its
decisions, plans, each idea's history, notifications and e-mail addresses (docs/voice.md); full-text
search of ideas (SQLite FTS5 table kept by triggers, PostgreSQL GIN index over to_tsvector).

Revision ID: 0007_voice
Revises: 0006_access
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_voice"
down_revision: str | None = "0006_access"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE voice_ideas_fts USING fts5(title, problem, proposal, content='voice_ideas', "
    "content_rowid='rowid', tokenize='porter unicode61')",
    "CREATE TRIGGER voice_ideas_fts_insert AFTER INSERT ON voice_ideas BEGIN "
    "INSERT INTO voice_ideas_fts(rowid, title, problem, proposal) "
    "VALUES (new.rowid, new.title, new.problem, new.proposal); END",
    "CREATE TRIGGER voice_ideas_fts_delete AFTER DELETE ON voice_ideas BEGIN "
    "INSERT INTO voice_ideas_fts(voice_ideas_fts, rowid, title, problem, proposal) "
    "VALUES ('delete', old.rowid, old.title, old.problem, old.proposal); END",
    "CREATE TRIGGER voice_ideas_fts_update AFTER UPDATE OF title, problem, proposal ON voice_ideas BEGIN "
    "INSERT INTO voice_ideas_fts(voice_ideas_fts, rowid, title, problem, proposal) "
    "VALUES ('delete', old.rowid, old.title, old.problem, old.proposal); "
    "INSERT INTO voice_ideas_fts(rowid, title, problem, proposal) "
    "VALUES (new.rowid, new.title, new.problem, new.proposal); END",
)
_POSTGRES_SEARCH = (
    "CREATE INDEX ix_voice_ideas_fts ON voice_ideas USING gin "
    "(to_tsvector('english', title || ' ' || problem || ' ' || proposal))",
)


def upgrade() -> None:
    op.create_table(
        "voice_moderation",
        sa.Column("entry_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moderator_user_id", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("target_kind", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_voice_moderation")),
    )
    op.create_table(
        "voice_campaigns",
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=24), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=True),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("requester", sa.String(length=200), nullable=True),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("export_fields", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.program_id"], name=op.f("fk_voice_campaigns_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_voice_campaigns")),
    )
    op.create_table(
        "council_members",
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("member_group", sa.String(length=20), nullable=False),
        sa.Column("seat", sa.String(length=12), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_council_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_council_members")),
    )
    op.create_index(op.f("ix_council_members_user_id"), "council_members", ["user_id"], unique=False)
    op.create_table(
        "voice_emails",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_voice_emails_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_voice_emails")),
    )
    op.create_table(
        "voice_ideas",
        sa.Column("idea_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=140), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("proposal", sa.Text(), nullable=False),
        sa.Column("author_role", sa.String(length=24), nullable=False),
        sa.Column("author_user_id", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("implemented_on", sa.Date(), nullable=True),
        sa.Column("evaluated_on", sa.Date(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_user_id"], ["users.user_id"], name=op.f("fk_voice_ideas_author_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["voice_campaigns.campaign_id"],
            name=op.f("fk_voice_ideas_campaign_id_voice_campaigns"),
        ),
        sa.PrimaryKeyConstraint("idea_id", name=op.f("pk_voice_ideas")),
    )
    op.create_index(op.f("ix_voice_ideas_author_user_id"), "voice_ideas", ["author_user_id"], unique=False)
    op.create_index(op.f("ix_voice_ideas_campaign_id"), "voice_ideas", ["campaign_id"], unique=False)
    op.create_index(op.f("ix_voice_ideas_status"), "voice_ideas", ["status"], unique=False)
    op.create_index(op.f("ix_voice_ideas_submitted_on"), "voice_ideas", ["submitted_on"], unique=False)
    op.create_table(
        "voice_reports",
        sa.Column("report_id", sa.String(length=32), nullable=False),
        sa.Column("target_kind", sa.String(length=8), nullable=False),
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_voice_reports_user_id_users")),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_voice_reports")),
        sa.UniqueConstraint("target_kind", "target_id", "user_id", name=op.f("uq_voice_reports_target_kind")),
    )
    op.create_index(op.f("ix_voice_reports_target_id"), "voice_reports", ["target_id"], unique=False)
    op.create_table(
        "council_decisions",
        sa.Column("decision_id", sa.String(length=32), nullable=False),
        sa.Column("idea_id", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("present", sa.Text(), nullable=False),
        sa.Column("composition", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=32), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["voice_ideas.idea_id"], name=op.f("fk_council_decisions_idea_id_voice_ideas")
        ),
        sa.PrimaryKeyConstraint("decision_id", name=op.f("pk_council_decisions")),
    )
    op.create_index(op.f("ix_council_decisions_idea_id"), "council_decisions", ["idea_id"], unique=False)
    op.create_table(
        "voice_comments",
        sa.Column("comment_id", sa.String(length=32), nullable=False),
        sa.Column("idea_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("author_role", sa.String(length=24), nullable=False),
        sa.Column("stance", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["voice_ideas.idea_id"], name=op.f("fk_voice_comments_idea_id_voice_ideas")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_voice_comments_user_id_users")),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_voice_comments")),
    )
    op.create_index(op.f("ix_voice_comments_idea_id"), "voice_comments", ["idea_id"], unique=False)
    op.create_table(
        "voice_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idea_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by_user_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["voice_ideas.idea_id"], name=op.f("fk_voice_events_idea_id_voice_ideas")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_voice_events")),
    )
    op.create_index(op.f("ix_voice_events_idea_id"), "voice_events", ["idea_id"], unique=False)
    op.create_table(
        "voice_notifications",
        sa.Column("notification_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("idea_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["voice_ideas.idea_id"], name=op.f("fk_voice_notifications_idea_id_voice_ideas")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_voice_notifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_voice_notifications")),
    )
    op.create_index(op.f("ix_voice_notifications_user_id"), "voice_notifications", ["user_id"], unique=False)
    op.create_table(
        "voice_plans",
        sa.Column("idea_id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("milestones", sa.Text(), nullable=False),
        sa.Column("metric_key", sa.String(length=64), nullable=False),
        sa.Column("baseline_from", sa.Date(), nullable=False),
        sa.Column("baseline_to", sa.Date(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("simulated", sa.Text(), nullable=True),
        sa.Column("after_from", sa.Date(), nullable=True),
        sa.Column("after_to", sa.Date(), nullable=True),
        sa.Column("after", sa.Float(), nullable=True),
        sa.Column("evaluation_note", sa.Text(), nullable=True),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["voice_ideas.idea_id"], name=op.f("fk_voice_plans_idea_id_voice_ideas")
        ),
        sa.PrimaryKeyConstraint("idea_id", name=op.f("pk_voice_plans")),
    )
    op.create_table(
        "voice_supports",
        sa.Column("idea_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["voice_ideas.idea_id"], name=op.f("fk_voice_supports_idea_id_voice_ideas")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_voice_supports_user_id_users")),
        sa.PrimaryKeyConstraint("idea_id", "user_id", name=op.f("pk_voice_supports")),
    )

    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_SEARCH if dialect == "sqlite" else _POSTGRES_SEARCH:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS voice_ideas_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS voice_ideas_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_voice_ideas_fts")
    op.drop_table("voice_supports")
    op.drop_table("voice_plans")
    op.drop_index(op.f("ix_voice_notifications_user_id"), table_name="voice_notifications")
    op.drop_table("voice_notifications")
    op.drop_index(op.f("ix_voice_events_idea_id"), table_name="voice_events")
    op.drop_table("voice_events")
    op.drop_index(op.f("ix_voice_comments_idea_id"), table_name="voice_comments")
    op.drop_table("voice_comments")
    op.drop_index(op.f("ix_council_decisions_idea_id"), table_name="council_decisions")
    op.drop_table("council_decisions")
    op.drop_index(op.f("ix_voice_reports_target_id"), table_name="voice_reports")
    op.drop_table("voice_reports")
    op.drop_index(op.f("ix_voice_ideas_submitted_on"), table_name="voice_ideas")
    op.drop_index(op.f("ix_voice_ideas_status"), table_name="voice_ideas")
    op.drop_index(op.f("ix_voice_ideas_campaign_id"), table_name="voice_ideas")
    op.drop_index(op.f("ix_voice_ideas_author_user_id"), table_name="voice_ideas")
    op.drop_table("voice_ideas")
    op.drop_table("voice_emails")
    op.drop_index(op.f("ix_council_members_user_id"), table_name="council_members")
    op.drop_table("council_members")
    op.drop_table("voice_campaigns")
    op.drop_table("voice_moderation")
