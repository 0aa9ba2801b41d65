"""Changes to an open episode: step down and back, end, graduate, extend the exit with a reason, rewrite
the criteria with a reason; each kept in its history, audited, and refused when the rules say no."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from onward.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from onward.model.pathways import Stage
from onward.security.access import Actor
from onward.services import episodes
from onward.store.tables import AuditEntry, Episode
from onward.store.tables_pathways import ExitExtension, GraduationCriteria, StageChange

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_step_down_and_back_keep_their_reasons(care_db: sessionmaker[Session], clinician: Actor) -> None:
    with care_db() as s:
        with pytest.raises(ValidationError, match="reason is required") as error:
            episodes.step_down(session=s, actor=clinician, episode_id="e-ben", note="", now=NOW)
        assert error.value.column == "note"
        episodes.step_down(
            session=s, actor=clinician, episode_id="e-ben", note="fortnightly until exit", now=NOW
        )
        episode = s.get(Episode, "e-ben")
        assert episode is not None and episodes.stage_of(s, episode, NOW.date()) is Stage.STEPPING_DOWN
        with pytest.raises(ConflictError, match="'stepping_down' cannot move to 'stepping_down'"):
            episodes.step_down(session=s, actor=clinician, episode_id="e-ben", note="again please", now=NOW)
        episodes.resume(
            session=s, actor=clinician, episode_id="e-ben", note="lost his job; weekly again", now=NOW
        )
        assert episodes.stage_of(s, episode, NOW.date()) is Stage.ACTIVE
        history = s.execute(
            select(StageChange.stage, StageChange.reason).where(StageChange.episode_id == "e-ben")
        ).all()
        assert history == [
            ("stepping_down", "fortnightly until exit"),
            ("active", "lost his job; weekly again"),
        ]
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == "e-ben")).all()
        assert actions == ["step_down", "resume"]


def test_graduating_ends_the_episode_once(care_db: sessionmaker[Session], clinician: Actor) -> None:
    with care_db() as s:
        episodes.graduate(session=s, actor=clinician, episode_id="e-ben", now=NOW)
        episode = s.get(Episode, "e-ben")
        assert episode is not None and (episode.end_date, episode.end_reason) == (NOW.date(), "graduated")
        assert episodes.stage_of(s, episode, NOW.date()) is Stage.ENDED
        with pytest.raises(ConflictError, match="'ended' cannot move"):
            episodes.graduate(session=s, actor=clinician, episode_id="e-ben", now=NOW)
        with pytest.raises(ValidationError, match="has ended"):
            episodes.extend_exit(
                session=s,
                actor=clinician,
                episode_id="e-ben",
                new_exit=date(2026, 9, 1),
                reason="more time",
                now=NOW,
            )


def test_other_endings_need_a_known_reason_a_note_and_a_sensible_date(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        for reason, note, on, field in (
            ("cured", "x" * 10, None, "end_reason"),
            ("moved", "", None, "note"),
            ("moved", "to Oregon", date(2026, 1, 1), "end_date"),
            ("moved", "to Oregon", date(2026, 6, 2), "end_date"),
        ):
            with pytest.raises(ValidationError) as error:
                episodes.end_episode(
                    session=s,
                    actor=clinician,
                    episode_id="e-ben",
                    end_reason=reason,
                    note=note,
                    on=on,
                    now=NOW,
                )
            assert error.value.column == field
        episodes.end_episode(
            session=s,
            actor=clinician,
            episode_id="e-ben",
            end_reason="moved",
            note="to Oregon",
            on=date(2026, 5, 30),
            now=NOW,
        )
        assert s.get(Episode, "e-ben").end_reason == "moved"  # type: ignore[union-attr]


def test_extending_the_exit_needs_a_reason_and_is_recorded(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        with pytest.raises(ValidationError, match="reason is required"):
            episodes.extend_exit(
                session=s, actor=clinician, episode_id="e-ben", new_exit=date(2026, 8, 1), reason=" ", now=NOW
            )
        with pytest.raises(ValidationError, match="not after the current one"):
            episodes.extend_exit(
                session=s,
                actor=clinician,
                episode_id="e-ben",
                new_exit=date(2026, 4, 1),
                reason="shorter",
                now=NOW,
            )
        episodes.extend_exit(
            session=s,
            actor=clinician,
            episode_id="e-ben",
            new_exit=date(2026, 8, 1),
            reason="new baby in June",
            now=NOW,
        )
        kept = s.scalars(select(ExitExtension)).one()
        assert (kept.previous_exit, kept.new_exit, kept.reason) == (
            date(2026, 4, 27),
            date(2026, 8, 1),
            "new baby in June",
        )
        assert s.get(Episode, "e-ben").planned_end_date == date(2026, 8, 1)  # type: ignore[union-attr]
        detail = s.scalar(select(AuditEntry.detail).where(AuditEntry.action == "extend_exit"))
        assert detail == "planned exit 2026-04-27 → 2026-08-01: new baby in June"


def test_criteria_are_rewritten_with_a_reason_and_the_old_version_kept(
    care_db: sessionmaker[Session], clinician: Actor
) -> None:
    with care_db() as s:
        first = "PHQ-9 under 10 twice, and a relapse plan written."
        episodes.edit_criteria(
            session=s, actor=clinician, episode_id="e-ben", text=first, reason="first plan", now=NOW
        )
        with pytest.raises(ValidationError, match="unchanged"):
            episodes.edit_criteria(
                session=s, actor=clinician, episode_id="e-ben", text=first, reason="same again", now=NOW
            )
        with pytest.raises(ValidationError) as error:
            episodes.edit_criteria(
                session=s, actor=clinician, episode_id="e-ben", text="short", reason="too short", now=NOW
            )
        assert error.value.column == "criteria"
        later = NOW.replace(hour=13)
        episodes.edit_criteria(
            session=s,
            actor=clinician,
            episode_id="e-ben",
            text=first + " Back at work.",
            reason="work matters",
            now=later,
        )
        rows = s.scalars(select(GraduationCriteria).order_by(GraduationCriteria.written_at)).all()
        assert [r.replaced_at is not None for r in rows] == [True, False]
        current = episodes.current_criteria(s, "e-ben")
        assert (
            current is not None
            and current.text.endswith("Back at work.")
            and current.reason == "work matters"
        )


def test_changes_need_record_care_and_an_episode_one_may_see(
    care_db: sessionmaker[Session], role_actor: Callable[..., Actor]
) -> None:
    with care_db() as s:
        other = role_actor("clinician", staff_id="st2", program_ids=("moud",))
        with pytest.raises(NotFoundError):
            episodes.graduate(session=s, actor=other, episode_id="e-ben", now=NOW)
        with pytest.raises(NotFoundError):
            episodes.graduate(
                session=s, actor=role_actor("clinician", staff_id="st1"), episode_id="nope", now=NOW
            )
        with pytest.raises(PermissionDeniedError):  # a manager sees the episode but does not record care
            episodes.graduate(
                session=s, actor=role_actor("manager", program_ids=("op",)), episode_id="e-ben", now=NOW
            )
        assert s.get(Episode, "e-ben").end_date is None  # type: ignore[union-attr]
