"""Episodes built to be left: the stages of a person's way through a program, and the rules between them.

A way through a program runs referred → waiting → active → stepping down → ended. The first two stages
belong to the referral (received; then past intake and on the waiting list), the last three to the
episode of care. An episode may only become active with a primary clinician, a planned exit date and
written graduation criteria, so that from its first day everyone knows how it is meant to end. It ends
for one of the reasons of the event log (graduated, stepped down, stepped up, transferred, disengaged,
moved, died, other). docs/pathways.md explains each rule and why.

Everything here is pure: the services (`onward.services.episodes`, `onward.services.referrals`) read the
stored facts, ask these functions whether a change is allowed, and write it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from onward.errors import ConflictError, ValidationError
from onward.model.eventlog import EndReason, Priority, StaffRole


class Stage(StrEnum):
    REFERRED = "referred"  # a referral received, intake not yet done
    WAITING = "waiting"  # past intake (or a fast re-entry, which skips it): on the waiting list
    ACTIVE = "active"  # an episode of care, with its clinician, planned exit and graduation criteria
    STEPPING_DOWN = "stepping_down"  # an episode winding down towards its exit (fewer, spaced contacts)
    ENDED = "ended"  # the episode ended, for one of `EndReason`


REFERRAL_STAGES: Final = (Stage.REFERRED, Stage.WAITING)
EPISODE_STAGES: Final = (Stage.ACTIVE, Stage.STEPPING_DOWN, Stage.ENDED)

#: Which stage may follow which. A referral leaves the list through the waiting-list outcomes
#: (offered, withdrawn, declined, ...), which are recorded on the referral itself, not as a stage.
TRANSITIONS: Final[dict[Stage, frozenset[Stage]]] = {
    Stage.REFERRED: frozenset({Stage.WAITING}),
    Stage.WAITING: frozenset({Stage.ACTIVE}),
    Stage.ACTIVE: frozenset({Stage.STEPPING_DOWN, Stage.ENDED}),
    Stage.STEPPING_DOWN: frozenset({Stage.ACTIVE, Stage.ENDED}),
    Stage.ENDED: frozenset(),
}

#: Staff roles that may be an episode's primary clinician (docs/extracts.md staff roles).
CLINICAL_ROLES: Final = frozenset(
    {StaffRole.CLINICIAN, StaffRole.PRESCRIBER, StaffRole.CASE_MANAGER, StaffRole.PEER_SPECIALIST}
)

#: End reasons after which the person comes back through a fast re-entry referral (no full intake).
FAST_REENTRY_AFTER: Final = frozenset({EndReason.GRADUATED, EndReason.STEPPED_DOWN})

#: The shortest reason Onward accepts where a reason is required (a word or two, not a blank or "x").
MIN_REASON_CHARS: Final = 5
#: Written graduation criteria: at least a sentence.
MIN_CRITERIA_CHARS: Final = 20


def require_transition(current: Stage, wanted: Stage) -> None:
    """Refuse (409) a change of stage the pathway does not allow, naming what is allowed instead."""
    allowed = TRANSITIONS[current]
    if wanted not in allowed:
        options = ", ".join(sorted(s.value for s in allowed)) or "nothing (it has ended)"
        raise ConflictError(
            f"an episode or referral at stage {current.value!r} cannot move to {wanted.value!r}; "
            f"from {current.value!r} it can move to {options}"
        )


def require_reason(reason: str | None, *, field: str = "reason") -> str:
    """A required reason, stripped; refused (naming the form field) when missing or too short."""
    text = (reason or "").strip()
    if len(text) < MIN_REASON_CHARS:
        raise ValidationError(
            "a reason is required", column=field, expected=f"at least {MIN_REASON_CHARS} characters"
        )
    return text


def episode_stage(*, end_date: date | None, as_of: date, stepping_down: bool) -> Stage:
    """The stage of an episode on `as_of`: ended once its end date has come, else active or stepping
    down (the latest recorded change; an episode with none, e.g. imported, is active)."""
    if end_date is not None and end_date <= as_of:
        return Stage.ENDED
    return Stage.STEPPING_DOWN if stepping_down else Stage.ACTIVE


@dataclass(frozen=True, slots=True)
class StartCheck:
    """What an episode needs before it may become active; `missing` names each absent piece."""

    primary_staff_id: str | None
    staff_role: str | None
    staff_program_id: str | None
    program_id: str
    planned_exit: date | None
    start: date
    criteria: str | None

    @property
    def missing(self) -> list[str]:
        out = []
        if not self.primary_staff_id:
            out.append("a primary clinician")
        if self.planned_exit is None:
            out.append("a planned exit date")
        if len((self.criteria or "").strip()) < MIN_CRITERIA_CHARS:
            out.append(f"written graduation criteria (at least {MIN_CRITERIA_CHARS} characters)")
        return out


def check_start(check: StartCheck) -> None:
    """Refuse to activate an episode without a primary clinician, a planned exit and written criteria;
    the clinician must be clinical staff of the episode's program, and the exit after the start."""
    if check.missing:
        raise ValidationError(
            "an episode cannot become active without " + ", ".join(check.missing),
            column=_first_missing_field(check),
        )
    if check.staff_role is None:
        raise ValidationError(
            f"there is no staff member {check.primary_staff_id!r}", column="primary_staff_id"
        )
    if check.staff_role not in {r.value for r in CLINICAL_ROLES}:
        raise ValidationError(
            f"staff member {check.primary_staff_id} is a {check.staff_role}, not clinical staff",
            column="primary_staff_id",
            expected=", ".join(sorted(r.value for r in CLINICAL_ROLES)),
        )
    if check.staff_program_id != check.program_id:
        raise ValidationError(
            f"staff member {check.primary_staff_id} works in program {check.staff_program_id}, "
            f"not {check.program_id}",
            column="primary_staff_id",
        )
    if check.planned_exit is not None and check.planned_exit <= check.start:
        raise ValidationError(
            f"the planned exit {check.planned_exit} is not after the start {check.start}",
            column="planned_exit",
        )


def _first_missing_field(check: StartCheck) -> str:
    if not check.primary_staff_id:
        return "primary_staff_id"
    if check.planned_exit is None:
        return "planned_exit"
    return "criteria"


def check_extension(*, current: date | None, new: date, today: date, reason: str | None) -> str:
    """A later planned exit needs a reason (returned, stripped), a date after the current plan and
    not in the past; an episode without a planned exit gets one through the same door."""
    text = require_reason(reason)
    if current is not None and new <= current:
        raise ValidationError(
            f"the new planned exit {new} is not after the current one {current}",
            column="planned_exit",
            expected="a later date (an earlier exit is a step down or a graduation)",
        )
    if new < today:
        raise ValidationError(f"the new planned exit {new} is in the past", column="planned_exit")
    return text


def check_end(*, start: date, on: date, today: date, reason: EndReason | str) -> EndReason:
    """An end date on or after the start and not in the future, and a known end reason."""
    try:
        why = EndReason(reason)
    except ValueError:
        raise ValidationError(
            f"unknown end reason {reason!r}",
            column="end_reason",
            expected=", ".join(r.value for r in EndReason),
        ) from None
    if on < start:
        raise ValidationError(f"the end date {on} is before the start {start}", column="end_date")
    if on > today:
        raise ValidationError(f"the end date {on} is in the future", column="end_date")
    return why


def check_fast_reentry(*, end_reason: str | None, end_date: date | None, today: date) -> None:
    """A fast re-entry follows an episode that ended well: graduated or stepped down, and already over."""
    if end_date is None or end_date > today:
        raise ConflictError("a fast re-entry follows an episode that has ended; this one is still open")
    if end_reason not in {r.value for r in FAST_REENTRY_AFTER}:
        raise ConflictError(
            f"a fast re-entry follows a graduation or a step down; this episode ended as {end_reason!r} "
            "(make an ordinary referral instead)"
        )


# --- The waiting list ------------------------------------------------------------------------------

_TIER: Final = {Priority.EMERGENT.value: 0, Priority.URGENT.value: 1, Priority.ROUTINE.value: 2}


@dataclass(frozen=True, slots=True)
class WaitingEntry:
    referral_id: str
    referral_date: date
    priority: str
    fast_reentry: bool


def waiting_order(entries: Iterable[WaitingEntry]) -> list[WaitingEntry]:
    """The waiting list in the order places are offered: by access tier (emergent, urgent, routine),
    fast re-entries first within a tier, then longest waiting first."""
    return sorted(
        entries,
        key=lambda e: (_TIER.get(e.priority, len(_TIER)), not e.fast_reentry, e.referral_date, e.referral_id),
    )


def weeks_in_care(start: date, as_of: date) -> int:
    """Whole weeks since the episode started (0 in its first week)."""
    return max(0, (as_of - start).days // 7)
