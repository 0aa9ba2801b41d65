"""Access rules as pure functions: wait targets, business days, the triage order of the waiting list,
and the expected wait by Little's law (docs/web.md, "Waiting list"; sources in docs/references.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from onward.model.eventlog import Priority

#: Onward's default target from referral to first appointment, in calendar days, for a routine referral.
DEFAULT_TARGET_DAYS: Final = 14
#: CCBHC criteria 2.b (SAMHSA 2023): initial evaluation within 10 business days for routine needs, within
#: 1 business day for urgent needs; emergent needs are met at once (counted here as the same day).
CCBHC_BUSINESS_DAYS: Final[dict[str, int]] = {
    Priority.EMERGENT.value: 0,
    Priority.URGENT.value: 1,
    Priority.ROUTINE.value: 10,
}
#: NHS Talking Therapies waiting-time standards: first treatment within 6 weeks (75 %) and 18 weeks (95 %).
NHS_WEEKS: Final = (6, 18)
#: Admissions counted for the expected wait (Little's law), in days before today.
LITTLE_WINDOW_DAYS: Final = 90
#: Unanswered attempts before a referral may close as `not_reached` (Onward's review point: no public
#: source sets the number; a site should review it).
NOT_REACHED_ATTEMPTS: Final = 3

_TIER = {Priority.EMERGENT.value: 0, Priority.URGENT.value: 1, Priority.ROUTINE.value: 2}


def business_days_between(start: date, end: date) -> int:
    """Weekdays (Monday to Friday) after `start` up to and including `end`; 0 when end <= start.
    Public holidays are not known to Onward and count as business days."""
    if end <= start:
        return 0
    weeks, extra = divmod((end - start).days, 7)
    count = weeks * 5
    day = start + timedelta(days=weeks * 7)
    for _ in range(extra):
        day += timedelta(days=1)
        if day.weekday() < 5:
            count += 1
    return count


@dataclass(frozen=True, slots=True)
class WaitTarget:
    """The target a referral is held to: the stricter of Onward's default (calendar days) and the
    CCBHC tier of its priority (business days)."""

    calendar_days: int
    business_days: int

    def describe(self) -> str:
        return f"{self.calendar_days} days, CCBHC {self.business_days} business day" + (
            "" if self.business_days == 1 else "s"
        )


def target_for(priority: str, default_days: int = DEFAULT_TARGET_DAYS) -> WaitTarget:
    return WaitTarget(default_days, CCBHC_BUSINESS_DAYS.get(priority, CCBHC_BUSINESS_DAYS["routine"]))


def past_target(referral_date: date, today: date, target: WaitTarget) -> bool:
    """True once the wait is longer than either limit of the target."""
    calendar = (today - referral_date).days > target.calendar_days
    business = business_days_between(referral_date, today) > target.business_days
    return calendar or business


@dataclass(frozen=True, slots=True)
class TriageKey:
    """What orders the waiting list: access tier, a positive risk item, symptom severity (0-1: the
    latest score's band over the instrument's bands), a fast re-entry, then the longest wait."""

    priority: str
    risk: bool
    severity: float
    fast_reentry: bool
    referral_date: date
    referral_id: str

    def sort_key(self) -> tuple[int, bool, float, bool, date, str]:
        return (
            _TIER.get(self.priority, len(_TIER)),
            not self.risk,
            -self.severity,
            not self.fast_reentry,
            self.referral_date,
            self.referral_id,
        )


@dataclass(frozen=True, slots=True)
class LittleEstimate:
    """Expected wait W = L / lambda (Little's law): L people waiting now, lambda admissions per day over
    the window. None when nobody was admitted in the window (no throughput to divide by)."""

    waiting: int
    admissions: int
    window_days: int

    @property
    def per_week(self) -> float:
        return self.admissions / self.window_days * 7

    @property
    def days(self) -> float | None:
        if self.admissions == 0:
            return None
        return self.waiting / (self.admissions / self.window_days)

    def basis(self) -> str:
        if self.days is None:
            return (
                f"{self.waiting} waiting and no admission in the last {self.window_days} days: "
                "the wait cannot be estimated (Little's law needs admissions)"
            )
        return (
            f"{self.waiting} waiting / {self.admissions} admissions in the last {self.window_days} days "
            f"({self.per_week:.1f} a week) = {self.days:.0f} days (Little's law, W = L / λ)"
        )


def weeks_share(waits_days: list[int], weeks: int) -> float | None:
    """Share of the waits shorter than `weeks` weeks (None for no waits)."""
    if not waits_days:
        return None
    return sum(1 for d in waits_days if d < weeks * 7) / len(waits_days)
