"""Targets per metric and program, with their history (docs/targets.md).

Revision ID: 0008_targets
Revises: 0007_voice
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_targets"
down_revision: str | None = "0007_voice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "targets",
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("metric_key", sa.String(length=64), nullable=False),
        sa.Column("program_id", sa.String(length=64), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("margin", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=32), nullable=True),
        sa.Column("set_by_name", sa.String(length=120), nullable=False),
        sa.Column("set_by_role", sa.String(length=32), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_name", sa.String(length=120), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.program_id"], name=op.f("fk_targets_program_id_programs")
        ),
        sa.PrimaryKeyConstraint("target_id", name=op.f("pk_targets")),
    )
    op.create_index("ix_targets_metric_program", "targets", ["metric_key", "program_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_targets_metric_program", table_name="targets")
    op.drop_table("targets")
