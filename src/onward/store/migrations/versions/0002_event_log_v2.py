"""Event-log contract v2: referral outcomes and the episode's primary clinician (docs/extracts.md).

Referrals stored before this revision get the outcome an older extract gets on import: `admitted`
(dated by the earliest episode naming the referral) when an episode names it, `waiting` otherwise.

Revision ID: 0002_event_log_v2
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_event_log_v2"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "referrals",
        sa.Column("outcome", sa.String(length=32), server_default="waiting", nullable=False),
    )
    op.add_column("referrals", sa.Column("outcome_date", sa.Date(), nullable=True))
    op.add_column("referrals", sa.Column("outcome_reason", sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE referrals SET outcome = 'admitted', outcome_date = "
        "(SELECT min(e.start_date) FROM episodes AS e WHERE e.referral_id = referrals.referral_id) "
        "WHERE EXISTS (SELECT 1 FROM episodes AS e WHERE e.referral_id = referrals.referral_id)"
    )
    op.create_index(
        op.f("ix_referrals_program_id_outcome"), "referrals", ["program_id", "outcome"], unique=False
    )

    # SQLite cannot add a constraint to a table, but it accepts a REFERENCES clause on a new column.
    if op.get_context().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE episodes ADD COLUMN primary_staff_id VARCHAR(64) "
            "CONSTRAINT fk_episodes_primary_staff_id_staff REFERENCES staff (staff_id)"
        )
    else:
        op.add_column("episodes", sa.Column("primary_staff_id", sa.String(length=64), nullable=True))
        op.create_foreign_key(
            op.f("fk_episodes_primary_staff_id_staff"),
            "episodes",
            "staff",
            ["primary_staff_id"],
            ["staff_id"],
        )
    op.create_index(op.f("ix_episodes_primary_staff_id"), "episodes", ["primary_staff_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_episodes_primary_staff_id"), table_name="episodes")
    with op.batch_alter_table("episodes") as batch:
        if op.get_context().dialect.name != "sqlite":
            batch.drop_constraint(op.f("fk_episodes_primary_staff_id_staff"), type_="foreignkey")
        batch.drop_column("primary_staff_id")
    op.drop_index(op.f("ix_referrals_program_id_outcome"), table_name="referrals")
    with op.batch_alter_table("referrals") as batch:
        batch.drop_column("outcome_reason")
        batch.drop_column("outcome_date")
        batch.drop_column("outcome")
