"""Pathways: graduation criteria, exit extensions, stage history, referral pathways (fast re-entry),
self-report links and questionnaire responses (docs/pathways.md).

Revision ID: 0004_pathways
Revises: 0003_security
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_pathways"
down_revision: str | None = "0003_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "graduation_criteria",
        sa.Column("criteria_id", sa.String(length=32), nullable=False),
        sa.Column("episode_id", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("basis", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("written_by", sa.String(length=32), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.episode_id"], name=op.f("fk_graduation_criteria_episode_id_episodes")
        ),
        sa.PrimaryKeyConstraint("criteria_id", name=op.f("pk_graduation_criteria")),
    )
    op.create_index(
        "ix_graduation_criteria_episode_id_replaced_at",
        "graduation_criteria",
        ["episode_id", "replaced_at"],
        unique=False,
    )
    op.create_table(
        "exit_extensions",
        sa.Column("extension_id", sa.String(length=32), nullable=False),
        sa.Column("episode_id", sa.String(length=64), nullable=False),
        sa.Column("previous_exit", sa.Date(), nullable=True),
        sa.Column("new_exit", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("extended_by", sa.String(length=32), nullable=True),
        sa.Column("extended_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.episode_id"], name=op.f("fk_exit_extensions_episode_id_episodes")
        ),
        sa.PrimaryKeyConstraint("extension_id", name=op.f("pk_exit_extensions")),
    )
    op.create_index(op.f("ix_exit_extensions_episode_id"), "exit_extensions", ["episode_id"], unique=False)
    op.create_table(
        "pathway_stage_history",
        sa.Column("change_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("referral_id", sa.String(length=64), nullable=True),
        sa.Column("episode_id", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(length=32), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.episode_id"], name=op.f("fk_pathway_stage_history_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_pathway_stage_history_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.referral_id"],
            name=op.f("fk_pathway_stage_history_referral_id_referrals"),
        ),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_pathway_stage_history")),
    )
    for column in ("episode_id", "person_id", "referral_id"):
        op.create_index(
            op.f(f"ix_pathway_stage_history_{column}"), "pathway_stage_history", [column], unique=False
        )
    op.create_table(
        "referral_pathways",
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("fast_reentry_of", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fast_reentry_of"],
            ["episodes.episode_id"],
            name=op.f("fk_referral_pathways_fast_reentry_of_episodes"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.referral_id"],
            name=op.f("fk_referral_pathways_referral_id_referrals"),
        ),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_referral_pathways")),
    )
    op.create_index(
        op.f("ix_referral_pathways_fast_reentry_of"), "referral_pathways", ["fast_reentry_of"], unique=False
    )
    op.create_table(
        "self_report_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("link_id", sa.String(length=32), nullable=False),
        sa.Column("episode_id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("instrument", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.episode_id"], name=op.f("fk_self_report_links_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_self_report_links_person_id_people")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_self_report_links")),
        sa.UniqueConstraint("link_id", name=op.f("uq_self_report_links_link_id")),
    )
    op.create_index(
        op.f("ix_self_report_links_episode_id"), "self_report_links", ["episode_id"], unique=False
    )
    op.create_index(op.f("ix_self_report_links_person_id"), "self_report_links", ["person_id"], unique=False)
    op.create_table(
        "questionnaire_responses",
        sa.Column("response_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("episode_id", sa.String(length=64), nullable=True),
        sa.Column("measurement_id", sa.String(length=64), nullable=False),
        sa.Column("instrument", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("authored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["episode_id"],
            ["episodes.episode_id"],
            name=op.f("fk_questionnaire_responses_episode_id_episodes"),
        ),
        sa.ForeignKeyConstraint(
            ["measurement_id"],
            ["measurements.measurement_id"],
            name=op.f("fk_questionnaire_responses_measurement_id_measurements"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_questionnaire_responses_person_id_people")
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_questionnaire_responses")),
    )
    for column in ("episode_id", "measurement_id", "person_id"):
        op.create_index(
            op.f(f"ix_questionnaire_responses_{column}"), "questionnaire_responses", [column], unique=False
        )


def downgrade() -> None:
    for column in ("episode_id", "measurement_id", "person_id"):
        op.drop_index(op.f(f"ix_questionnaire_responses_{column}"), table_name="questionnaire_responses")
    op.drop_table("questionnaire_responses")
    op.drop_index(op.f("ix_self_report_links_person_id"), table_name="self_report_links")
    op.drop_index(op.f("ix_self_report_links_episode_id"), table_name="self_report_links")
    op.drop_table("self_report_links")
    op.drop_index(op.f("ix_referral_pathways_fast_reentry_of"), table_name="referral_pathways")
    op.drop_table("referral_pathways")
    for column in ("episode_id", "person_id", "referral_id"):
        op.drop_index(op.f(f"ix_pathway_stage_history_{column}"), table_name="pathway_stage_history")
    op.drop_table("pathway_stage_history")
    op.drop_index(op.f("ix_exit_extensions_episode_id"), table_name="exit_extensions")
    op.drop_table("exit_extensions")
    op.drop_index("ix_graduation_criteria_episode_id_replaced_at", table_name="graduation_criteria")
    op.drop_table("graduation_criteria")
