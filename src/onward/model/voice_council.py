"""The council's composition rule and quorum, as pure functions (docs/voice.md, "The council").

The council is made of people with lived experience of services and clinicians (and others, e.g. a
family member who is not a person in services, or a manager). The default rule: at least a third of the
seated members have lived experience, at least a third are clinicians, and a co-chair has lived
experience. Sites set their own shares, e.g. the Medicaid Advisory Committee's share of Beneficiary
Advisory Council members under 42 CFR 431.12(d) as amended in 2024 (docs/references.md).

A decision is valid only when the seated council meets the rule, and the members present make a quorum
(more than `quorum_share` of the seated members, by default a majority, and at least one of each group)
and themselves meet the shares. Anything else is refused with every reason at once, so the council knows
what to fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from onward.errors import ValidationError


class Group(StrEnum):
    """What a member brings to the council."""

    LIVED_EXPERIENCE = "lived_experience"  # a person who is or was in services (or their family/carer)
    CLINICIAN = "clinician"
    OTHER = "other"


class Seat(StrEnum):
    CO_CHAIR = "co_chair"
    MEMBER = "member"


GROUP_LABELS = {
    Group.LIVED_EXPERIENCE: "lived experience",
    Group.CLINICIAN: "clinician",
    Group.OTHER: "other",
}


@dataclass(frozen=True, slots=True)
class Member:
    member_id: str
    name: str
    group: Group
    seat: Seat


@dataclass(frozen=True, slots=True)
class CompositionRule:
    """Shares are fractions of the seated (or present) members; more than `quorum_share` of the seated
    members must be present."""

    lived_experience_min_share: float = 1 / 3
    clinician_min_share: float = 1 / 3
    co_chair_lived_experience: bool = True
    quorum_share: float = 0.5

    def __post_init__(self) -> None:
        for name in ("lived_experience_min_share", "clinician_min_share", "quorum_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValidationError(f"{name} is {value}", column=name, expected="a share from 0 to 1")
        if self.lived_experience_min_share + self.clinician_min_share > 1:
            raise ValidationError(
                "the lived-experience and clinician shares add up to more than the whole council",
                column="clinician_min_share",
            )

    def describe(self) -> str:
        parts = [
            f"at least {_percent(self.lived_experience_min_share)} of members with lived experience",
            f"at least {_percent(self.clinician_min_share)} clinicians",
        ]
        if self.co_chair_lived_experience:
            parts.append("a co-chair with lived experience")
        quorum = (
            f"a quorum of more than {_percent(self.quorum_share)} of seated members, with at least one "
            "member with lived experience and one clinician present, who meet the same shares"
        )
        return "; ".join(parts) + "; " + quorum + "."


def _percent(share: float) -> str:
    fraction = Fraction(share).limit_denominator(12)
    if abs(float(fraction) - share) < 1e-9 and fraction.denominator in (2, 3, 4, 6, 12):
        return f"{fraction.numerator}/{fraction.denominator}"
    return f"{share * 100:g} %"


def _meets(count: int, total: int, share: float) -> bool:
    # Compare as fractions so that 1 of 3 meets "a third" whatever the float rounding of 1/3.
    return total > 0 and Fraction(count, total) >= Fraction(share).limit_denominator(1000)


@dataclass(frozen=True, slots=True)
class Composition:
    """Counts of one set of members (seated, or present at a meeting)."""

    total: int
    lived_experience: int
    clinicians: int
    other: int
    co_chair_lived: bool

    def to_text(self) -> str:
        return (
            f"{self.total} members: {self.lived_experience} with lived experience, {self.clinicians} "
            f"clinicians, {self.other} other"
        )


def composition(members: list[Member]) -> Composition:
    return Composition(
        total=len(members),
        lived_experience=sum(m.group is Group.LIVED_EXPERIENCE for m in members),
        clinicians=sum(m.group is Group.CLINICIAN for m in members),
        other=sum(m.group is Group.OTHER for m in members),
        co_chair_lived=any(m.seat is Seat.CO_CHAIR and m.group is Group.LIVED_EXPERIENCE for m in members),
    )


def share_problems(counts: Composition, rule: CompositionRule, *, who: str) -> list[str]:
    problems = []
    if counts.total == 0:
        return [f"{who}: nobody"]
    if not _meets(counts.lived_experience, counts.total, rule.lived_experience_min_share):
        problems.append(
            f"{who}: {counts.lived_experience} of {counts.total} have lived experience; the rule asks for "
            f"at least {_percent(rule.lived_experience_min_share)}"
        )
    if not _meets(counts.clinicians, counts.total, rule.clinician_min_share):
        problems.append(
            f"{who}: {counts.clinicians} of {counts.total} are clinicians; the rule asks for at least "
            f"{_percent(rule.clinician_min_share)}"
        )
    return problems


def council_problems(seated: list[Member], rule: CompositionRule) -> list[str]:
    """Why the seated council does not meet the rule (empty when it does)."""
    counts = composition(seated)
    problems = share_problems(counts, rule, who="the council")
    if rule.co_chair_lived_experience and not counts.co_chair_lived:
        problems.append("the council has no co-chair with lived experience")
    return problems


def quorum_size(seated: int, rule: CompositionRule) -> int:
    """More than `quorum_share` of the seated members (default: a majority, Robert's Rules of Order 40:3);
    a share of 1 means everyone."""
    if rule.quorum_share >= 1:
        return seated
    return math.floor(seated * rule.quorum_share + 1e-9) + 1


def decision_problems(seated: list[Member], present_ids: list[str], rule: CompositionRule) -> list[str]:
    """Every reason a decision by the members `present_ids` may not be taken (empty: it may)."""
    problems = council_problems(seated, rule)
    by_id = {m.member_id: m for m in seated}
    unknown = [p for p in present_ids if p not in by_id]
    if unknown:
        problems.append(f"not seated on the council: {', '.join(sorted(unknown))}")
    present = [by_id[p] for p in dict.fromkeys(present_ids) if p in by_id]
    needed = quorum_size(len(seated), rule)
    if len(present) < needed:
        problems.append(f"no quorum: {len(present)} present of {len(seated)} seated; {needed} needed")
    counts = composition(present)
    if counts.lived_experience == 0:
        problems.append("no member with lived experience is present")
    if counts.clinicians == 0:
        problems.append("no clinician is present")
    if present:
        problems.extend(share_problems(counts, rule, who="those present"))
    return problems
