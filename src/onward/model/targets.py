"""Targets and their status: is a published figure where the system wants it? (docs/targets.md)

Pure rules, no storage. Every metric has a *direction of good* (higher, lower, or none for a volume such
as admissions, which has no good direction and takes no target). A target is a value the figure should
reach ("at least 50 %", "at most 14 days"), for the whole system or one program. Its status is read the
same way everywhere (pages, reports, the API, the CLI), always as words and a sign, never as a colour
alone:

- **on track** (✓): the figure meets the target;
- **at risk** (!): the figure misses the target, but by no more than the target's margin — the margin a
  leader set with the target, else, for a rate whose denominator is shown, the 95 % Wilson score
  interval of the figure (the target lies inside it, so the shortfall may be chance);
- **off track** (✗): the figure misses the target by more than that;
- **no status** (–): no target, or the figure is suppressed or has nothing to measure.

Default targets (used where no one has set one) exist only where a public standard says the number; each
names its source, listed in docs/references.md ("Default targets"). Every other metric starts without one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from onward.errors import ValidationError
from onward.model.metric_registry import MetricDefinition
from onward.model.own_page_metrics import any_definition, system_only

Good = Literal["higher", "lower"]
StatusKey = Literal["on_track", "at_risk", "off_track", "none"]

#: The 95 % two-sided normal quantile for the Wilson score interval (Wilson, JASA 1927).
Z_95 = 1.959963984540054

#: What each status says, as words and a sign (readable without colour and by a screen reader).
STATUS_WORDS: dict[StatusKey, str] = {
    "on_track": "on track",
    "at_risk": "at risk",
    "off_track": "off track",
    "none": "no status",
}
STATUS_SIGNS: dict[StatusKey, str] = {"on_track": "✓", "at_risk": "!", "off_track": "✗", "none": "–"}

#: The rule in one sentence, printed beside every status legend.
STATUS_RULE = (
    "On track: the figure meets its target. At risk: it misses the target by no more than the target's "
    "margin (set with the target; for a rate without one, the target lies inside the figure's 95 % "
    "confidence interval, so the shortfall may be chance). Off track: it misses by more. No status: no "
    "target, or the figure is suppressed or has nothing to measure."
)


@dataclass(frozen=True, slots=True)
class DefaultTarget:
    """A target that applies where nobody has set one: only where a public standard gives the number."""

    metric_key: str
    value: float
    source: str  # the public standard, listed in docs/references.md ("Default targets")


#: Default targets, each from a public standard (docs/references.md, "Default targets").
DEFAULT_TARGETS: dict[str, DefaultTarget] = {
    t.metric_key: t
    for t in (
        DefaultTarget(
            "recovery_rate",
            0.50,
            "NHS Talking Therapies (IAPT) standard: at least 50 % of people who finish treatment recover",
        ),
        DefaultTarget(
            "reliable_improvement_rate",
            0.67,
            "NHS England 2024/25 priorities and operational planning guidance: reliable improvement 67 %",
        ),
        DefaultTarget(
            "reliable_recovery_rate",
            0.48,
            "NHS England 2024/25 priorities and operational planning guidance: reliable recovery 48 %",
        ),
        DefaultTarget(
            "days_to_first_treatment_median",
            14,
            "CCBHC certification criteria (SAMHSA 2023): routine needs evaluated within 10 business days "
            "(14 calendar days)",
        ),
        DefaultTarget(
            "days_to_first_treatment_p90",
            126,
            "NHS Talking Therapies waiting standard: 95 % start treatment within 18 weeks (126 days), so "
            "the 90th percentile is within 126 days",
        ),
    )
}


def direction_of_good(metric_key: str) -> Good | None:
    """Whether a higher or a lower value is better; None for a volume with no good direction."""
    definition = any_definition(metric_key)
    if definition is None:
        raise ValidationError(f"unknown metric {metric_key!r}", column="metric")
    return definition.good


def targetable(metric_key: str) -> MetricDefinition:
    """The metric's definition, refusing one that cannot take a target (unknown, or no direction): a metric
    of the cube or a direction number published on its own page (`onward.model.own_page_metrics`)."""
    definition = any_definition(metric_key)
    if definition is None:
        raise ValidationError(
            f"unknown metric {metric_key!r}", column="metric", expected="a key of docs/metrics.md"
        )
    if definition.good is None:
        raise ValidationError(
            f"{metric_key} ({definition.title}) is a volume with no direction of good and takes no target",
            column="metric",
        )
    return definition


def check_scope(definition: MetricDefinition, program_id: str | None) -> None:
    """Refuse a program's target for a number that exists for the whole system only."""
    if program_id is not None and system_only(definition.key):
        raise ValidationError(
            f"{definition.key} ({definition.title}) is published for the whole system only: its target is "
            "the system's, not a program's",
            column="program",
            expected="the whole system",
        )


def check_value(definition: MetricDefinition, value: float, margin: float | None) -> None:
    """A target value (and margin) the metric can take: a rate in [0, 1], days and counts >= 0."""
    if not math.isfinite(value):
        raise ValidationError("the target is not a number", column="value")
    if definition.kind == "rate" and not 0.0 <= value <= 1.0:
        raise ValidationError(
            f"a rate's target is a share from 0 to 1 (got {value})", column="value", expected="e.g. 0.5"
        )
    if value < 0:
        raise ValidationError(f"the target cannot be negative (got {value})", column="value")
    if margin is not None:
        if not math.isfinite(margin) or margin < 0:
            raise ValidationError(f"the margin must be 0 or more (got {margin})", column="margin")
        if definition.kind == "rate" and margin > 1.0:
            raise ValidationError(f"a rate's margin is a share from 0 to 1 (got {margin})", column="margin")


def wilson_interval(successes: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (Wilson, JASA 1927); (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - half) / scale), min(1.0, (centre + half) / scale)


@dataclass(frozen=True, slots=True)
class Status:
    """A figure against its target: the status and the sentence that explains it."""

    key: StatusKey
    explanation: str

    @property
    def words(self) -> str:
        return STATUS_WORDS[self.key]

    @property
    def sign(self) -> str:
        return STATUS_SIGNS[self.key]

    @property
    def label(self) -> str:
        """Sign and words, e.g. '✗ off track': what a page, report or terminal prints."""
        return f"{self.sign} {self.words}"


def format_value(definition: MetricDefinition, value: float) -> str:
    """A figure or target in the metric's unit: '50.0 %', '14 days', '0.80', '1,234'."""
    if definition.kind == "rate":
        return f"{100 * value:.1f} %"
    if definition.kind == "days":
        return f"{value:g} days"
    if definition.kind == "ratio":
        return f"{value:.2f}"
    return f"{value:,.0f}"


def target_phrase(definition: MetricDefinition, value: float) -> str:
    """'at least 50.0 %' or 'at most 14 days'."""
    if definition.good is None:
        return format_value(definition, value)
    word = "at least" if definition.good == "higher" else "at most"
    return f"{word} {format_value(definition, value)}"


def status(
    definition: MetricDefinition,
    value: float | None,
    target: float | None,
    *,
    margin: float | None = None,
    numerator: float | None = None,
    denominator: float | None = None,
    hidden: bool = False,
) -> Status:
    """The status of one figure against its target (the rule in STATUS_RULE).

    `numerator`/`denominator` (a rate's counts, when shown) give the Wilson interval used as the at-risk
    band of a rate whose target has no margin; `hidden` is a suppressed figure (never compared, so its
    status gives nothing away)."""
    if target is None or definition.good is None:
        return Status("none", "no target")
    phrase = target_phrase(definition, target)
    if hidden:
        return Status("none", f"target {phrase}; the figure is suppressed")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Status("none", f"target {phrase}; nothing to measure in the period")
    shown = format_value(definition, value)
    gap = (value - target) if definition.good == "higher" else (target - value)
    if gap >= -1e-12:
        return Status("on_track", f"{shown} meets the target of {phrase}")
    if margin is not None:
        if -gap <= margin + 1e-12:
            return Status(
                "at_risk",
                f"{shown} misses the target of {phrase} by no more than the margin of "
                f"{format_value(definition, margin)}",
            )
        return Status(
            "off_track",
            f"{shown} misses the target of {phrase} by more than the margin of "
            f"{format_value(definition, margin)}",
        )
    if definition.kind == "rate" and numerator is not None and denominator:
        low, high = wilson_interval(numerator, denominator)
        interval = f"95 % interval {100 * low:.1f}-{100 * high:.1f} %"
        if low - 1e-12 <= target <= high + 1e-12:
            return Status(
                "at_risk", f"{shown} misses the target of {phrase}, but the target is inside the {interval}"
            )
        return Status("off_track", f"{shown} misses the target of {phrase}; the {interval} excludes it")
    return Status("off_track", f"{shown} misses the target of {phrase}")


def status_in_row(
    definition: MetricDefinition, row: Mapping[str, object], target: float | None, margin: float | None = None
) -> Status:
    """The status of a metric in one published row (overall, a program or a month): its value, its
    shown numerator and denominator, and whether it is suppressed (the row's "suppressed" list)."""
    key = definition.key
    hidden_keys = row.get("suppressed") or []
    assert isinstance(hidden_keys, list | tuple | set | frozenset)
    value = row.get(key)
    numerator = row.get(f"{key}__numerator")
    denominator = row.get(f"{key}__denominator")
    shown_parts = f"{key}__numerator" not in hidden_keys and f"{key}__denominator" not in hidden_keys
    return status(
        definition,
        float(value) if isinstance(value, int | float) else None,
        target,
        margin=margin,
        numerator=float(numerator) if shown_parts and isinstance(numerator, int | float) else None,
        denominator=float(denominator) if shown_parts and isinstance(denominator, int | float) else None,
        hidden=key in hidden_keys,
    )


#: Where a target comes from: a person (a row of the targets table) or a public standard (a default).
SET_HERE, DEFAULT = "set", "default"


@dataclass(frozen=True, slots=True)
class TargetView:
    """The target in force for one metric and scope (program_id None: the whole system)."""

    metric_key: str
    program_id: str | None
    value: float
    margin: float | None
    origin: str  # SET_HERE or DEFAULT
    reason: str  # the reason given, or the public source of a default
    set_by: str | None = None
    set_at: datetime | None = None
    target_id: str | None = None

    @property
    def phrase(self) -> str:
        return target_phrase(targetable(self.metric_key), self.value)

    def to_json(self) -> dict[str, object]:
        return {
            "metric": self.metric_key,
            "program_id": self.program_id,
            "value": self.value,
            "margin": self.margin,
            "target": self.phrase,
            "origin": self.origin,
            "reason": self.reason,
            "set_by": self.set_by,
            "set_at": self.set_at.isoformat() if self.set_at else None,
            "target_id": self.target_id,
        }


Scope = tuple[str, str | None]  # (metric key, program id or None for the system)


class Targets:
    """Every target in force, with a lookup that falls back from a program to the system."""

    def __init__(self, views: Iterable[TargetView]) -> None:
        self.views: dict[Scope, TargetView] = {(v.metric_key, v.program_id): v for v in views}

    def system(self, metric_key: str) -> TargetView | None:
        return self.views.get((metric_key, None))

    def for_program(self, metric_key: str, program_id: str) -> TargetView | None:
        """The program's own target, else the system's."""
        return self.views.get((metric_key, program_id)) or self.system(metric_key)

    def __iter__(self) -> Iterator[TargetView]:
        return iter(sorted(self.views.values(), key=lambda v: (v.metric_key, v.program_id or "")))
