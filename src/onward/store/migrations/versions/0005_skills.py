"""Skills: the teacher role; a site's lesson versions, cohorts and members, planned and delivered
lessons with attendance, and perinatal EPDS screens (docs/skills.md).

Revision ID: 0005_skills
Revises: 0004_pathways
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_skills"
down_revision: str | None = "0004_pathways"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_ROLES_BEFORE = "'person', 'clinician', 'manager', 'leader', 'analyst', 'council_member', 'admin'"
_ROLES_AFTER = _ROLES_BEFORE + ", 'teacher'"


def _role_check(roles: str) -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role"), type_="check")
        batch.create_check_constraint("role", f"role IN ({roles})")


def upgrade() -> None:
    _role_check(_ROLES_AFTER)
    op.create_table(
        "lesson_versions",
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("lesson_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("readability", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.String(length=32), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_lesson_versions")),
        sa.UniqueConstraint("lesson_id", "number", name=op.f("uq_lesson_versions_lesson_id")),
    )
    op.create_index(op.f("ix_lesson_versions_lesson_id"), "lesson_versions", ["lesson_id"], unique=False)
    op.create_table(
        "cohorts",
        sa.Column("cohort_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("track", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=2), nullable=True),
        sa.Column("program_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("staff_id", sa.String(length=64), nullable=True),
        sa.Column("person_id", sa.String(length=64), nullable=True),
        sa.Column("episode_id", sa.String(length=64), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("calendar", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_cohorts_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["programs.program_id"], name=op.f("fk_cohorts_program_id_programs")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.staff_id"], name=op.f("fk_cohorts_staff_id_staff")),
        sa.PrimaryKeyConstraint("cohort_id", name=op.f("pk_cohorts")),
    )
    op.create_index(op.f("ix_cohorts_person_id"), "cohorts", ["person_id"], unique=False)
    op.create_index(op.f("ix_cohorts_program_id"), "cohorts", ["program_id"], unique=False)
    op.create_table(
        "cohort_members",
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("cohort_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=True),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.cohort_id"], name=op.f("fk_cohort_members_cohort_id_cohorts")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_cohort_members_person_id_people")
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_cohort_members")),
    )
    op.create_index(op.f("ix_cohort_members_cohort_id"), "cohort_members", ["cohort_id"], unique=False)
    op.create_index(op.f("ix_cohort_members_person_id"), "cohort_members", ["person_id"], unique=False)
    op.create_table(
        "skills_sessions",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("cohort_id", sa.String(length=32), nullable=False),
        sa.Column("lesson_id", sa.String(length=40), nullable=False),
        sa.Column("skill", sa.String(length=32), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("lesson_version", sa.Integer(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("logged_by", sa.String(length=32), nullable=True),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.cohort_id"], name=op.f("fk_skills_sessions_cohort_id_cohorts")
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_skills_sessions")),
    )
    op.create_index(
        "ix_skills_sessions_cohort_planned", "skills_sessions", ["cohort_id", "planned_on"], unique=False
    )
    op.create_table(
        "skills_attendance",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=32), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["cohort_members.member_id"],
            name=op.f("fk_skills_attendance_member_id_cohort_members"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["skills_sessions.session_id"],
            name=op.f("fk_skills_attendance_session_id_skills_sessions"),
        ),
        sa.PrimaryKeyConstraint("session_id", "member_id", name=op.f("pk_skills_attendance")),
    )
    op.create_table(
        "perinatal_screens",
        sa.Column("screen_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("cohort_id", sa.String(length=32), nullable=False),
        sa.Column("lesson_id", sa.String(length=40), nullable=True),
        sa.Column("measurement_id", sa.String(length=64), nullable=False),
        sa.Column("screened_on", sa.Date(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("self_harm", sa.Boolean(), nullable=False),
        sa.Column("positive", sa.Boolean(), nullable=False),
        sa.Column("screened_by", sa.String(length=32), nullable=True),
        sa.Column("consent", sa.String(length=16), nullable=True),
        sa.Column("consent_on", sa.Date(), nullable=True),
        sa.Column("referral_id", sa.String(length=64), nullable=True),
        sa.Column("followed_up_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohorts.cohort_id"], name=op.f("fk_perinatal_screens_cohort_id_cohorts")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.person_id"], name=op.f("fk_perinatal_screens_person_id_people")
        ),
        sa.PrimaryKeyConstraint("screen_id", name=op.f("pk_perinatal_screens")),
    )
    op.create_index(op.f("ix_perinatal_screens_cohort_id"), "perinatal_screens", ["cohort_id"], unique=False)
    op.create_index(op.f("ix_perinatal_screens_person_id"), "perinatal_screens", ["person_id"], unique=False)


def downgrade() -> None:
    for table in (
        "perinatal_screens",
        "skills_attendance",
        "skills_sessions",
        "cohort_members",
        "cohorts",
        "lesson_versions",
    ):
        op.drop_table(table)
    _role_check(_ROLES_BEFORE)
