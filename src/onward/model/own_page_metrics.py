"""Direction numbers published on their own pages, outside the metric cube (docs/targets.md): prevention
coverage (the skills lessons delivered of those due, `onward.metrics.skills`) and ideas implemented (the
voice metrics, `onward.metrics.voice`).

They are shares of the whole system (the cube's per-program rows do not hold them), higher is better,
and no public standard gives a number for them: a leader may set a target for the system, never for one
program, and none applies by default. They are kept out of `METRICS` so nothing that computes the cube
iterates over them. Pure: definitions and the monthly tally, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from onward.model.metric_registry import METRICS, MetricDefinition

_SKILLS = "Onward definition (docs/metrics.md, Skills metrics)"
_VOICE = "Onward definition (docs/metrics.md, Voice metrics)"

#: The direction numbers published on their own pages, in display order (each a system-wide share).
OWN_PAGE_METRICS: dict[str, MetricDefinition] = {
    m.key: m
    for m in (
        MetricDefinition(
            "skills_coverage",
            "Prevention coverage (skills lessons)",
            "prevention",
            "rate",
            "Skills lessons planned in the calendar year up to the month end (their day has come) and "
            "delivered by then / those lessons.",
            _SKILLS,
            "the month a lesson was planned for (delivered by the month end the figures are read as of)",
            good="higher",
            purpose="direction",
        ),
        MetricDefinition(
            "voice_share_implemented",
            "Ideas implemented",
            "voice",
            "rate",
            "Ideas accepted by the council (decided and not declined) with decided_on in the period: "
            "implemented_on on or before the period's end / those ideas.",
            _VOICE,
            "the month an idea was decided (implemented by the month end the figures are read as of)",
            good="higher",
            purpose="direction",
        ),
    )
}
assert not set(OWN_PAGE_METRICS) & set(METRICS), "a number is in the cube or on its own page, not both"

#: What their links lead to: the page each is published on.
OWN_PAGES: dict[str, str] = {
    "skills_coverage": "/skills/coverage",
    "voice_share_implemented": "/voice/metrics",
}


def system_only(metric_key: str) -> bool:
    """Whether the number exists for the whole system only (no target per program)."""
    return metric_key in OWN_PAGE_METRICS


def any_definition(metric_key: str) -> MetricDefinition | None:
    """The definition of a cube metric or of a number published on its own page; None if unknown."""
    return METRICS.get(metric_key) or OWN_PAGE_METRICS.get(metric_key)


#: Every number a target can name: the cube's metrics, then those published on their own pages.
ALL_METRICS: Mapping[str, MetricDefinition] = {**METRICS, **OWN_PAGE_METRICS}


def months_ending(as_of: date, count: int = 12) -> list[date]:
    """The first days of the `count` calendar months ending with the month of `as_of`, oldest first."""
    index = as_of.year * 12 + as_of.month - 1
    return [date((i // 12), i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


@dataclass(frozen=True, slots=True)
class MonthShare:
    """One month of a share: what was due (or decided) in the month, and of it what was done."""

    month: date  # the month's first day
    numerator: int
    denominator: int

    @property
    def label(self) -> str:
        return f"{self.month.year:04d}-{self.month.month:02d}"

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


def monthly_shares(items: Iterable[tuple[date, bool]], months: list[date]) -> list[MonthShare]:
    """Tally (day, done) pairs into the given months: the items of each month and how many are done.
    Items outside the months are left out."""
    due = dict.fromkeys(months, 0)
    done = dict.fromkeys(months, 0)
    for day, finished in items:
        month = date(day.year, day.month, 1)
        if month in due:
            due[month] += 1
            done[month] += int(finished)
    return [MonthShare(m, done[m], due[m]) for m in months]
