"""Access control and privacy: server-side sessions, sign-in failures, invitations, care teams,
break-glass and access grants, Part 2 consents and disclosures, the keyed audit chain and its seal.

Entries already in the audit log keep their unkeyed SHA-256 chain (scheme "sha256"); entries written
from now on are chained with HMAC-SHA256 under a key kept outside the database.

Revision ID: 0003_security
Revises: 0002_event_log_v2
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_security"
down_revision: str | None = "0002_event_log_v2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Sign-in failures are counted in login_failures now (per account and per address, shared by workers).
    with op.batch_alter_table("users") as batch:
        batch.drop_column("failed_logins")
        batch.drop_column("locked_until")
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("role", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("person_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("request_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("scheme", sa.String(length=16), server_default="sha256", nullable=False))
    op.create_index(op.f("ix_audit_log_person_id"), "audit_log", ["person_id"], unique=False)

    op.create_table(
        "audit_seal",
        sa.Column("seal_id", sa.Integer(), nullable=False),
        sa.Column("last_entry_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seal_id", name=op.f("pk_audit_seal")),
    )
    op.create_table(
        "login_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reauthenticated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_login_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_login_sessions")),
    )
    op.create_index(op.f("ix_login_sessions_user_id"), "login_sessions", ["user_id"], unique=False)
    op.create_table(
        "login_failures",
        sa.Column("failure_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("failure_id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_scope_key_at", "login_failures", ["scope", "key", "at"], unique=False)
    op.create_table(
        "invitations",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_invitations_person_id_people")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_invitations_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_invitations")),
    )
    op.create_index(op.f("ix_invitations_person_id"), "invitations", ["person_id"], unique=False)
    op.create_index(op.f("ix_invitations_user_id"), "invitations", ["user_id"], unique=False)
    op.create_table(
        "care_team_members",
        sa.Column("episode_id", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=False),
        sa.Column("team_role", sa.String(length=32), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["episode_id"], ["episodes.episode_id"], name=op.f("fk_care_team_members_episode_id_episodes")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.staff_id"], name=op.f("fk_care_team_members_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("episode_id", "staff_id", name=op.f("pk_care_team_members")),
    )
    op.create_index(op.f("ix_care_team_members_staff_id"), "care_team_members", ["staff_id"], unique=False)
    op.create_table(
        "break_glass_grants",
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_break_glass_grants_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.user_id"], name=op.f("fk_break_glass_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("grant_id", name=op.f("pk_break_glass_grants")),
    )
    op.create_index(
        op.f("ix_break_glass_grants_person_id"), "break_glass_grants", ["person_id"], unique=False
    )
    op.create_index(op.f("ix_break_glass_grants_user_id"), "break_glass_grants", ["user_id"], unique=False)
    op.create_table(
        "access_grants",
        sa.Column("grant_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("permission", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.String(length=32), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_access_grants_user_id_users")),
        sa.PrimaryKeyConstraint("grant_id", name=op.f("pk_access_grants")),
    )
    op.create_index(op.f("ix_access_grants_user_id"), "access_grants", ["user_id"], unique=False)
    op.create_table(
        "consents",
        sa.Column("consent_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("discloser", sa.String(length=200), nullable=False),
        sa.Column("information", sa.Text(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("expiry_event", sa.Text(), nullable=True),
        sa.Column("signed_by", sa.String(length=200), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=32), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revocation_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_consents_person_id_people")
        ),
        sa.PrimaryKeyConstraint("consent_id", name=op.f("pk_consents")),
    )
    op.create_index(op.f("ix_consents_person_id"), "consents", ["person_id"], unique=False)
    op.create_table(
        "disclosures",
        sa.Column("disclosure_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("consent_id", sa.String(length=32), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("part2", sa.Boolean(), nullable=False),
        sa.Column("disclosed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disclosed_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consents.consent_id"], name=op.f("fk_disclosures_consent_id_consents")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_disclosures_person_id_people")
        ),
        sa.PrimaryKeyConstraint("disclosure_id", name=op.f("pk_disclosures")),
    )
    op.create_index(op.f("ix_disclosures_disclosed_at"), "disclosures", ["disclosed_at"], unique=False)
    op.create_index(op.f("ix_disclosures_person_id"), "disclosures", ["person_id"], unique=False)


def downgrade() -> None:
    for table in (
        "disclosures",
        "consents",
        "access_grants",
        "break_glass_grants",
        "care_team_members",
        "invitations",
        "login_failures",
        "login_sessions",
        "audit_seal",
    ):
        op.drop_table(table)
    op.drop_index(op.f("ix_audit_log_person_id"), table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        for column in ("scheme", "request_id", "outcome", "person_id", "role"):
            batch.drop_column(column)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
