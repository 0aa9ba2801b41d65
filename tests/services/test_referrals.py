"""Referrals on the way in: ordinary referral and intake, fast re-entry, and starting an episode, which
needs a primary clinician, a planned exit and written criteria (docs/pathways.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from onward.model.graduation import defaults_for
from onward.model.pathways import Stage
from onward.security.access import Actor, operator
from onward.security.audit import verify_audit_chain
from onward.security.policy import role_permissions
from onward.services import episodes, referrals
from onward.store.tables import AuditEntry, Episode, Referral
from onward.store.tables_pathways import GraduationCriteria, ReferralPathway, StageChange

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the care_db fixture's "today"


def pathway_actor(role: str, **kw: object) -> Actor:
    values: dict[str, object] = {"user_id": f"u-{role}", "username": role, "role": role}
    values.update(kw)
    return Actor(permissions=role_permissions(role), **values)  # type: ignore[arg-type]


MANAGER = pathway_actor("manager", program_ids=("op",))


def _count(s: Session, table: type) -> int:
    return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _start(s: Session, actor: Actor, referral_id: str = "r-ana", **changes: object) -> Episode:
    values: dict[str, object] = {
        "primary_staff_id": "st1",
        "planned_exit": date(2026, 9, 21),
        "criteria": defaults_for("outpatient").criteria,
        "is_sud": False,
    }
    values.update(changes)
    return referrals.start_episode(session=s, actor=actor, referral_id=referral_id, now=NOW, **values)  # type: ignore[arg-type]


def test_an_ordinary_referral_waits_for_intake_then_joins_the_list(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        made = referrals.create_referral(
            session=s,
            actor=clinician,
            person_id="ben",
            program_id="moud",
            source="self",
            priority="urgent",
            now=NOW,
        )
        assert referrals.referral_stage(s, made) is Stage.REFERRED
        assert made.referral_date == NOW.date() and made.outcome == "waiting"
        with pytest.raises(ConflictError, match="'referred' cannot move to 'active'"):
            _start(
                s, pathway_actor("manager", program_ids=("moud",)), made.referral_id, primary_staff_id="st2"
            )
        referrals.complete_intake(
            session=s,
            actor=pathway_actor("manager", program_ids=("moud",)),
            referral_id=made.referral_id,
            now=NOW,
        )
        assert referrals.referral_stage(s, s.get(Referral, made.referral_id)) is Stage.WAITING  # type: ignore[arg-type]
        stages = s.scalars(select(StageChange.stage).where(StageChange.referral_id == made.referral_id)).all()
        assert stages == ["referred", "waiting"]
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.entity_id == made.referral_id)) == "create"


def test_referral_input_is_checked_and_a_person_out_of_reach_is_not_found(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        with pytest.raises(NotFoundError):  # ana is not on st1's caseload
            referrals.create_referral(
                session=s,
                actor=clinician,
                person_id="ana",
                program_id="op",
                source="self",
                priority="routine",
                now=NOW,
            )
        with pytest.raises(ValidationError, match="unknown priority 'soon'") as error:
            referrals.create_referral(
                session=s,
                actor=clinician,
                person_id="ben",
                program_id="op",
                source="self",
                priority="soon",
                now=NOW,
            )
        assert error.value.column == "priority"
        # The program's manager may refer anyone to their own program.
        referrals.create_referral(
            session=s,
            actor=MANAGER,
            person_id="ana",
            program_id="op",
            source="family",
            priority="routine",
            now=NOW,
        )
        with pytest.raises(PermissionDeniedError):
            referrals.create_referral(
                session=s,
                actor=pathway_actor("person", person_id="ana"),
                person_id="ana",
                program_id="op",
                source="self",
                priority="routine",
                now=NOW,
            )


def test_an_episode_needs_clinician_exit_and_criteria_and_nothing_is_half_written(
    care_db: sessionmaker[Session],
) -> None:
    with care_db() as s:
        before = (_count(s, Episode), _count(s, GraduationCriteria), _count(s, AuditEntry))
        for changes, field in (
            ({"primary_staff_id": None}, "primary_staff_id"),
            ({"planned_exit": None}, "planned_exit"),
            ({"criteria": "  "}, "criteria"),
            ({"primary_staff_id": "t1"}, "primary_staff_id"),  # a teacher
            ({"primary_staff_id": "st2"}, "primary_staff_id"),  # works in another program
            (
                {"criteria": "Ready when the person says so, in writing."},
                "criteria_reason",
            ),  # edited, no reason
        ):
            with pytest.raises(ValidationError) as error:
                _start(s, MANAGER, **changes)
            assert error.value.column == field, (changes, str(error.value))
        assert (_count(s, Episode), _count(s, GraduationCriteria), _count(s, AuditEntry)) == before
        assert s.get(Referral, "r-ana").outcome == "waiting"  # type: ignore[union-attr]


def test_starting_an_episode_admits_the_referral_with_default_criteria(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        defaults = referrals.start_defaults(session=s, actor=clinician, referral_id="r-ana", now=NOW)
        assert defaults.planned_exit == NOW.date() + timedelta(weeks=16)
        assert defaults.criteria_basis == "default:outpatient" and defaults.primary_staff_id == "st1"
        episode = _start(s, clinician)
        referral = s.get(Referral, "r-ana")
        assert referral is not None and referral.outcome == "admitted" and referral.outcome_date == NOW.date()
        criteria = episodes.current_criteria(s, episode.episode_id)
        assert criteria is not None and criteria.basis == "default:outpatient" and criteria.reason is None
        assert episodes.stage_of(s, episode, NOW.date()) is Stage.ACTIVE
        with pytest.raises(ConflictError, match="admitted, no longer waiting"):
            _start(s, clinician)
        edited = "PHQ-9 under 10 twice, and back at work three days a week."
        other = referrals.create_referral(
            session=s,
            actor=MANAGER,
            person_id="ana",
            program_id="op",
            source="self",
            priority="routine",
            now=NOW,
        )
        referrals.complete_intake(session=s, actor=MANAGER, referral_id=other.referral_id, now=NOW)
        second = _start(
            s, MANAGER, other.referral_id, criteria=edited, criteria_reason="work is her main goal"
        )
        kept = episodes.current_criteria(s, second.episode_id)
        assert kept is not None and kept.basis == "edited" and kept.reason == "work is her main goal"
        assert verify_audit_chain(session=s).intact


def test_starting_is_for_the_programs_own_staff(care_db: sessionmaker[Session]) -> None:
    with care_db() as s:
        with pytest.raises(NotFoundError):
            _start(s, pathway_actor("manager", program_ids=("moud",)))
        with pytest.raises(PermissionDeniedError):
            _start(s, pathway_actor("analyst"))
        assert _start(s, operator("cli:test")).referral_id == "r-ana"


def _graduate_ben(s: Session, clinician: Actor) -> None:
    episodes.graduate(session=s, actor=clinician, episode_id="e-ben", note="criteria met", now=NOW)


def test_fast_reentry_skips_intake_comes_first_in_its_tier_and_keeps_the_plan(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        with pytest.raises(ConflictError, match="still open"):
            referrals.create_fast_reentry(
                session=s, actor=clinician, episode_id="e-ben", reason="low again", now=NOW
            )
        episodes.edit_criteria(
            session=s,
            actor=clinician,
            episode_id="e-ben",
            text="PHQ-9 under 10 twice and sleeping through most nights.",
            reason="sleep is his main goal",
            now=NOW,
        )
        _graduate_ben(s, clinician)
        with pytest.raises(ValidationError, match="reason is required"):
            referrals.create_fast_reentry(session=s, actor=clinician, episode_id="e-ben", reason="", now=NOW)
        back = referrals.create_fast_reentry(
            session=s, actor=clinician, episode_id="e-ben", reason="mood low since losing his job", now=NOW
        )
        assert referrals.referral_stage(s, back) is Stage.WAITING
        pathway = s.get(ReferralPathway, back.referral_id)
        assert pathway is not None and pathway.fast_reentry_of == "e-ben"
        with pytest.raises(ConflictError, match="already brings this person back"):
            referrals.create_fast_reentry(
                session=s, actor=clinician, episode_id="e-ben", reason="second try", now=NOW
            )
        listed = referrals.waiting_list(session=s, actor=MANAGER, program_id="op", now=NOW)
        # ana's routine referral is older, but a fast re-entry of the same tier comes first.
        assert [w.referral_id for w in listed] == [back.referral_id, "r-ana"]
        start = referrals.start_defaults(session=s, actor=MANAGER, referral_id=back.referral_id, now=NOW)
        assert (
            start.criteria.startswith("PHQ-9 under 10 twice and sleeping") and start.primary_staff_id == "st1"
        )
        assert start.criteria_basis == "previous:e-ben"
        again = _start(s, MANAGER, back.referral_id, criteria=start.criteria)
        assert again.person_id == "ben" and again.referral_id == back.referral_id


def test_fast_reentry_only_after_a_good_ending(care_db: sessionmaker[Session], clinician: Actor) -> None:
    with care_db() as s:
        episodes.end_episode(
            session=s,
            actor=clinician,
            episode_id="e-ben",
            end_reason="disengaged",
            note="no contact for 2 months",
            now=NOW,
        )
        with pytest.raises(ConflictError, match="ended as 'disengaged'"):
            referrals.create_fast_reentry(
                session=s, actor=clinician, episode_id="e-ben", reason="wants help", now=NOW
            )
