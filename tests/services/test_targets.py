"""Targets: leaders set, managers propose for their programs, a leader decides; history and audit kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import ConflictError, PermissionDeniedError, ValidationError
from onward.security.access import Actor
from onward.services.targets import (
    ACTIVE,
    DEFAULT,
    PROPOSED,
    SUPERSEDED,
    decide,
    history,
    proposals,
    remove_target,
    set_target,
    targets_in_force,
)
from onward.store.tables import AuditEntry

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_defaults_apply_until_a_leader_sets_or_removes_one(
    care_db: sessionmaker[Session], role_actor: Callable[..., Actor]
) -> None:
    leader = role_actor("leader")
    with care_db() as s:
        recovery = targets_in_force(s).system("recovery_rate")
        assert recovery is not None and recovery.origin == DEFAULT and recovery.value == 0.5
        assert "NHS Talking Therapies" in recovery.reason
        set_target(
            session=s,
            actor=leader,
            metric_key="recovery_rate",
            program_id=None,
            value=0.55,
            margin=0.03,
            reason="raise the bar",
            now=NOW,
        )
        now_in_force = targets_in_force(s).system("recovery_rate")
        assert now_in_force is not None and now_in_force.value == 0.55 and now_in_force.origin == "set"
        assert now_in_force.phrase == "at least 55.0 %"
        remove_target(
            session=s,
            actor=leader,
            metric_key="reliable_improvement_rate",
            program_id=None,
            reason="not our standard",
            now=NOW,
        )
        assert targets_in_force(s).system("reliable_improvement_rate") is None


def test_a_new_target_supersedes_the_old_and_history_keeps_both(
    care_db: sessionmaker[Session], role_actor: Callable[..., Actor]
) -> None:
    leader = role_actor("leader")
    with care_db() as s:
        first = set_target(
            session=s,
            actor=leader,
            metric_key="days_to_first_treatment_median",
            program_id="op",
            value=21,
            margin=None,
            reason="start",
            now=NOW,
        )
        set_target(
            session=s,
            actor=leader,
            metric_key="days_to_first_treatment_median",
            program_id="op",
            value=14,
            margin=3,
            reason="new intake team",
            now=NOW + timedelta(days=30),
        )
        rows = history(s, "days_to_first_treatment_median")
        assert [(r.value, r.status) for r in rows] == [(14, ACTIVE), (21, SUPERSEDED)]
        assert rows[1].target_id == first.target_id
        targets = targets_in_force(s)
        assert targets.for_program("days_to_first_treatment_median", "op").value == 14  # type: ignore[union-attr]
        # Another program falls back to the system's (the public default).
        assert targets.for_program("days_to_first_treatment_median", "moud").origin == DEFAULT  # type: ignore[union-attr]
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity == "target")).all()
        assert [a.action for a in audit] == ["set", "set"]
        assert "new intake team" in (audit[-1].detail or "")


def test_a_manager_proposes_for_own_programs_and_a_leader_decides(
    care_db: sessionmaker[Session], role_actor: Callable[..., Actor]
) -> None:
    manager = role_actor("manager", program_ids=("op",))
    leader = role_actor("leader")
    with care_db() as s:
        row = set_target(
            session=s,
            actor=manager,
            metric_key="graduation_rate",
            program_id="op",
            value=0.6,
            margin=None,
            reason="our graduates",
            now=NOW,
        )
        assert row.status == PROPOSED
        assert targets_in_force(s).for_program("graduation_rate", "op") is None  # not in force yet
        assert [p.target_id for p in proposals(s, ["op"])] == [row.target_id]
        with pytest.raises(PermissionDeniedError):
            set_target(
                session=s,
                actor=manager,
                metric_key="graduation_rate",
                program_id="moud",
                value=0.6,
                margin=None,
                reason="not mine",
                now=NOW,
            )
        with pytest.raises(PermissionDeniedError):
            set_target(
                session=s,
                actor=manager,
                metric_key="graduation_rate",
                program_id=None,
                value=0.6,
                margin=None,
                reason="the system",
                now=NOW,
            )
        with pytest.raises(PermissionDeniedError):
            decide(session=s, actor=manager, target_id=row.target_id, accept=True, note=None, now=NOW)
        decide(session=s, actor=leader, target_id=row.target_id, accept=True, note="agreed", now=NOW)
        in_force = targets_in_force(s).for_program("graduation_rate", "op")
        assert in_force is not None and in_force.value == 0.6
        with pytest.raises(ConflictError):
            decide(session=s, actor=leader, target_id=row.target_id, accept=False, note=None, now=NOW)
        actions = [a.action for a in s.scalars(select(AuditEntry).where(AuditEntry.entity == "target"))]
        assert actions == ["propose", "accept"]


def test_refusals_name_what_is_wrong(
    care_db: sessionmaker[Session], role_actor: Callable[..., Actor]
) -> None:
    leader = role_actor("leader")
    with care_db() as s:
        for role in ("clinician", "analyst", "council_member", "admin", "person"):
            with pytest.raises(PermissionDeniedError):
                set_target(
                    session=s,
                    actor=role_actor(role),
                    metric_key="recovery_rate",
                    program_id=None,
                    value=0.5,
                    margin=None,
                    reason="x",
                    now=NOW,
                )
        with pytest.raises(ValidationError, match="say why"):
            set_target(
                session=s,
                actor=leader,
                metric_key="recovery_rate",
                program_id=None,
                value=0.5,
                margin=None,
                reason="  ",
                now=NOW,
            )
        with pytest.raises(ValidationError, match="no program"):
            set_target(
                session=s,
                actor=leader,
                metric_key="recovery_rate",
                program_id="nowhere",
                value=0.5,
                margin=None,
                reason="x",
                now=NOW,
            )
        with pytest.raises(ValidationError, match="no direction of good"):
            set_target(
                session=s,
                actor=leader,
                metric_key="admissions",
                program_id=None,
                value=10,
                margin=None,
                reason="x",
                now=NOW,
            )
        assert history(s) == []


@pytest.mark.parametrize("metric", ["skills_coverage", "voice_share_implemented"])
def test_the_numbers_on_their_own_pages_take_a_system_target_only(
    metric: str, care_db: sessionmaker[Session], role_actor: Callable[..., Actor]
) -> None:
    leader = role_actor("leader")
    with care_db() as s:
        assert targets_in_force(s).system(metric) is None  # no public standard: no default
        set_target(
            session=s,
            actor=leader,
            metric_key=metric,
            program_id=None,
            value=0.8,
            margin=None,
            reason="most of what is due",
            now=NOW,
        )
        in_force = targets_in_force(s).system(metric)
        assert in_force is not None and in_force.value == 0.8 and in_force.phrase == "at least 80.0 %"
        assert in_force.reason == "most of what is due" and in_force.set_by == leader.username
        with pytest.raises(ValidationError, match="whole system only") as refused:
            set_target(
                session=s,
                actor=leader,
                metric_key=metric,
                program_id="op",
                value=0.8,
                margin=None,
                reason="x",
                now=NOW,
            )
        assert refused.value.column == "program"
        with pytest.raises(ValidationError, match="whole system only"):  # a manager has no system scope
            set_target(
                session=s,
                actor=role_actor("manager", program_ids=("op",)),
                metric_key=metric,
                program_id="op",
                value=0.9,
                margin=None,
                reason="x",
                now=NOW,
            )
        with pytest.raises(PermissionDeniedError):
            set_target(
                session=s,
                actor=role_actor("manager", program_ids=("op",)),
                metric_key=metric,
                program_id=None,
                value=0.9,
                margin=None,
                reason="x",
                now=NOW,
            )
        with pytest.raises(ValidationError, match="share from 0 to 1"):
            set_target(
                session=s,
                actor=leader,
                metric_key=metric,
                program_id=None,
                value=80,
                margin=None,
                reason="x",
                now=NOW,
            )
        with pytest.raises(ValidationError, match="whole system only"):
            remove_target(session=s, actor=leader, metric_key=metric, program_id="op", reason="x", now=NOW)
        remove_target(session=s, actor=leader, metric_key=metric, program_id=None, reason="not now", now=NOW)
        assert targets_in_force(s).system(metric) is None
        assert sorted(r.status for r in history(s, metric)) == ["removed", SUPERSEDED]
        assert proposals(s) == []
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "target")).all()
        assert sorted(actions) == ["remove", "set"]
