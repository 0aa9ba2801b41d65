"""An index that answers "first treatment of each episode" from the index alone (the caseload's query).

`min(service_date)` per episode over treatment services read every service row of a caseload's episodes
through (episode_id, service_date): 210 ms for one clinician's 265 episodes of the demo county on
SQLite; with (episode_id, category, service_date) it is 0.6 ms (docs/benchmarks.md, "Web under load").

Revision ID: 0009_first_treatment_index
Revises: 0008_targets
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_first_treatment_index"
down_revision: str | None = "0008_targets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_services_episode_id_category_service_date", "services", ["episode_id", "category", "service_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_services_episode_id_category_service_date", table_name="services")
