"""Access: attempts to reach a person on the waiting list, first appointments booked from it, and the
service codes an import could not match to the catalogue (docs/extracts.md, docs/web.md).

Revision ID: 0006_access
Revises: 0005_skills
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_access"
down_revision: str | None = "0005_skills"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_contacts",
        sa.Column("contact_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("attempted_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("reached", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(length=32), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.referral_id"],
            name=op.f("fk_referral_contacts_referral_id_referrals"),
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_referral_contacts")),
    )
    op.create_index(
        op.f("ix_referral_contacts_referral_id"), "referral_contacts", ["referral_id"], unique=False
    )
    op.create_table(
        "first_appointments",
        sa.Column("appointment_id", sa.String(length=32), nullable=False),
        sa.Column("referral_id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("appointment_on", sa.Date(), nullable=False),
        sa.Column("at_time", sa.String(length=5), nullable=True),
        sa.Column("booked_by", sa.String(length=32), nullable=True),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referrals.referral_id"],
            name=op.f("fk_first_appointments_referral_id_referrals"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_first_appointments_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_first_appointments")),
    )
    op.create_index(
        op.f("ix_first_appointments_referral_id"), "first_appointments", ["referral_id"], unique=False
    )
    op.create_table(
        "service_code_issues",
        sa.Column("issue_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("given_category", sa.String(length=32), nullable=True),
        sa.Column("catalogue_category", sa.String(length=32), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("first_service_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.import_id"], name=op.f("fk_service_code_issues_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("issue_id", name=op.f("pk_service_code_issues")),
    )
    op.create_index(
        op.f("ix_service_code_issues_import_id"), "service_code_issues", ["import_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_service_code_issues_import_id"), table_name="service_code_issues")
    op.drop_table("service_code_issues")
    op.drop_index(op.f("ix_first_appointments_referral_id"), table_name="first_appointments")
    op.drop_table("first_appointments")
    op.drop_index(op.f("ix_referral_contacts_referral_id"), table_name="referral_contacts")
    op.drop_table("referral_contacts")
