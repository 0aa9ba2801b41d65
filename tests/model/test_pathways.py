"""The pathway's rules: stages and their order, what activating an episode needs, extensions, ends,
fast re-entry and the waiting-list order (docs/pathways.md)."""

from __future__ import annotations

from datetime import date

import pytest

from onward.errors import ConflictError, ValidationError
from onward.model.pathways import (
    MIN_CRITERIA_CHARS,
    TRANSITIONS,
    Stage,
    StartCheck,
    WaitingEntry,
    check_end,
    check_extension,
    check_fast_reentry,
    check_start,
    episode_stage,
    require_reason,
    require_transition,
    waiting_order,
    weeks_in_care,
)

START = date(2025, 3, 3)
CRITERIA = "PHQ-9 below 10 on two measurements in a row."


def start_check(**changes: object) -> StartCheck:
    values: dict[str, object] = {
        "primary_staff_id": "st1",
        "staff_role": "clinician",
        "staff_program_id": "p1",
        "program_id": "p1",
        "planned_exit": date(2025, 6, 23),
        "start": START,
        "criteria": CRITERIA,
    }
    values.update(changes)
    return StartCheck(**values)  # type: ignore[arg-type]


def test_the_pathway_runs_forward_and_ends_once() -> None:
    path = [Stage.REFERRED, Stage.WAITING, Stage.ACTIVE, Stage.STEPPING_DOWN, Stage.ENDED]
    for here, there in zip(path, path[1:], strict=False):
        require_transition(here, there)
    require_transition(Stage.STEPPING_DOWN, Stage.ACTIVE)  # a step down can be undone
    require_transition(Stage.ACTIVE, Stage.ENDED)  # e.g. stepped up or moved, without stepping down
    assert TRANSITIONS[Stage.ENDED] == frozenset()
    with pytest.raises(ConflictError, match="from 'ended' it can move to nothing"):
        require_transition(Stage.ENDED, Stage.ACTIVE)
    with pytest.raises(ConflictError, match="'referred' cannot move to 'active'.*waiting"):
        require_transition(Stage.REFERRED, Stage.ACTIVE)


def test_an_episode_becomes_active_only_with_clinician_exit_and_criteria() -> None:
    check_start(start_check())
    with pytest.raises(ValidationError, match="without a primary clinician") as error:
        check_start(start_check(primary_staff_id=None))
    assert error.value.column == "primary_staff_id"
    with pytest.raises(ValidationError, match="without a planned exit date") as error:
        check_start(start_check(planned_exit=None))
    assert error.value.column == "planned_exit"
    short = "x" * (MIN_CRITERIA_CHARS - 1)
    with pytest.raises(ValidationError, match="written graduation criteria") as error:
        check_start(start_check(criteria=short))
    assert error.value.column == "criteria"
    check_start(start_check(criteria="x" * MIN_CRITERIA_CHARS))
    with pytest.raises(ValidationError, match="primary clinician, a planned exit date, written"):
        check_start(start_check(primary_staff_id="", planned_exit=None, criteria="   "))


def test_the_clinician_is_clinical_staff_of_the_program_and_the_exit_follows_the_start() -> None:
    with pytest.raises(ValidationError, match="no staff member 'st1'"):
        check_start(start_check(staff_role=None, staff_program_id=None))
    with pytest.raises(ValidationError, match="is a teacher, not clinical staff"):
        check_start(start_check(staff_role="teacher"))
    with pytest.raises(ValidationError, match="works in program p2, not p1"):
        check_start(start_check(staff_program_id="p2"))
    with pytest.raises(ValidationError, match="not after the start"):
        check_start(start_check(planned_exit=START))
    for role in ("prescriber", "case_manager", "peer_specialist"):
        check_start(start_check(staff_role=role))


def test_a_reason_is_required_and_stripped() -> None:
    assert require_reason("  slow progress  ") == "slow progress"
    for empty in (None, "", "    ", "abc"):
        with pytest.raises(ValidationError, match="a reason is required") as error:
            require_reason(empty, field="note")
        assert error.value.column == "note"


def test_extending_a_planned_exit() -> None:
    today = date(2025, 6, 1)
    assert check_extension(current=date(2025, 6, 23), new=date(2025, 8, 1), today=today, reason=" new job ")
    with pytest.raises(ValidationError, match="reason is required"):
        check_extension(current=date(2025, 6, 23), new=date(2025, 8, 1), today=today, reason="")
    with pytest.raises(ValidationError, match="not after the current one"):
        check_extension(current=date(2025, 6, 23), new=date(2025, 6, 23), today=today, reason="more time")
    with pytest.raises(ValidationError, match="in the past"):
        check_extension(current=None, new=date(2025, 5, 1), today=today, reason="first plan")
    assert check_extension(current=None, new=today, today=today, reason="first plan") == "first plan"


def test_ending_an_episode() -> None:
    today = date(2025, 6, 1)
    assert check_end(start=START, on=today, today=today, reason="graduated").value == "graduated"
    assert check_end(start=START, on=START, today=today, reason="moved").value == "moved"
    with pytest.raises(ValidationError, match="unknown end reason 'cured'") as error:
        check_end(start=START, on=today, today=today, reason="cured")
    assert error.value.column == "end_reason" and "graduated, stepped_down" in str(error.value)
    with pytest.raises(ValidationError, match="before the start"):
        check_end(start=START, on=date(2025, 3, 2), today=today, reason="other")
    with pytest.raises(ValidationError, match="in the future"):
        check_end(start=START, on=date(2025, 6, 2), today=today, reason="other")


def test_stage_of_an_episode() -> None:
    day = date(2025, 6, 1)
    assert episode_stage(end_date=None, as_of=day, stepping_down=False) is Stage.ACTIVE
    assert episode_stage(end_date=None, as_of=day, stepping_down=True) is Stage.STEPPING_DOWN
    assert episode_stage(end_date=day, as_of=day, stepping_down=True) is Stage.ENDED
    assert episode_stage(end_date=date(2025, 6, 2), as_of=day, stepping_down=False) is Stage.ACTIVE


def test_fast_reentry_follows_a_graduation_or_a_step_down_that_is_over() -> None:
    today = date(2025, 6, 1)
    check_fast_reentry(end_reason="graduated", end_date=date(2025, 1, 1), today=today)
    check_fast_reentry(end_reason="stepped_down", end_date=today, today=today)
    with pytest.raises(ConflictError, match="still open"):
        check_fast_reentry(end_reason=None, end_date=None, today=today)
    with pytest.raises(ConflictError, match="ended as 'disengaged'"):
        check_fast_reentry(end_reason="disengaged", end_date=date(2025, 1, 1), today=today)


def test_waiting_list_order_puts_fast_reentry_first_within_its_tier() -> None:
    entries = [
        WaitingEntry("r-routine-old", date(2025, 1, 1), "routine", False),
        WaitingEntry("r-routine-back", date(2025, 5, 1), "routine", True),
        WaitingEntry("r-urgent", date(2025, 5, 20), "urgent", False),
        WaitingEntry("r-emergent", date(2025, 5, 30), "emergent", False),
        WaitingEntry("r-routine-new", date(2025, 4, 1), "routine", False),
    ]
    order = [e.referral_id for e in waiting_order(entries)]
    assert order == ["r-emergent", "r-urgent", "r-routine-back", "r-routine-old", "r-routine-new"]


def test_weeks_in_care() -> None:
    assert weeks_in_care(START, START) == 0
    assert weeks_in_care(START, date(2025, 3, 9)) == 0
    assert weeks_in_care(START, date(2025, 3, 10)) == 1
    assert weeks_in_care(START, date(2025, 3, 1)) == 0
