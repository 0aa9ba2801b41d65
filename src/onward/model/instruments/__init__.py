"""Outcome instruments as data, with pure scoring: totals, bands, sub-scales, flags and reliable change.

Each instrument is one data file beside this module (`phq9.toml`, ...): its items and answer options, the
reverse-scored items, severity bands, sub-scales, risk items and the public source of every cut-off
(docs/instruments.md lists them). Item text ships only where its licence allows (the EPDS ships as scoring
and metadata only; a site loads the text it is licensed to use).

Two kinds of numbers are scored here. *Answers* are what a person gives, item by item, as the answer
option's value (for the EPDS: the box ticked, counted from the top); *item scores* are the points each
answer earns once reverse-scored items are turned round. A measurement's `items` list holds item scores,
which is why they add up to its `score`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from onward.errors import ValidationError
from onward.model.eventlog import Instrument, Sex
from onward.model.instruments.definition import (
    Band,
    Definition,
    DefinitionError,
    FlagRule,
    Item,
    Option,
    Subscale,
    load_all,
)

__all__ = [
    "INSTRUMENTS",
    "Band",
    "ChangeOutcome",
    "Definition",
    "DefinitionError",
    "FlagRule",
    "InstrumentSpec",
    "Item",
    "Option",
    "Score",
    "Subscale",
    "band",
    "is_case",
    "item_scores",
    "nhs_outcome",
    "risk_flag",
    "score_answers",
    "score_items",
    "spec",
    "total",
    "validate_answers",
    "validate_items",
]

#: Older name of a definition, kept for callers that only need the scoring fields.
InstrumentSpec = Definition

INSTRUMENTS: dict[Instrument, Definition] = load_all()


def spec(instrument: Instrument | str) -> Definition:
    """The definition of an instrument id (`phq9`, ...); an unknown id is refused with the known ones."""
    try:
        return INSTRUMENTS[Instrument(instrument)]
    except ValueError:
        raise ValidationError(
            f"unknown instrument {instrument!r}",
            column="instrument",
            expected=", ".join(i.value for i in Instrument),
        ) from None


def _check_count(d: Definition, given: Sequence[int], column: str) -> None:
    if len(given) != d.n_items:
        raise ValidationError(
            f"{d.short_name} has {d.n_items} items, got {len(given)}",
            column=column,
            expected=f"{d.n_items} numbers, one per item",
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_answers(instrument: Instrument | str, answers: Sequence[int]) -> tuple[int, ...]:
    """Answers checked against the instrument: one per item, each one of its item's answer values."""
    d = spec(instrument)
    _check_count(d, answers, "answers")
    for item, value in zip(d.items, answers, strict=True):
        if not _is_int(value) or value not in item.values:
            raise ValidationError(
                f"{d.short_name} item {item.number}: answer {value!r} is not one of its answers",
                column="answers",
                expected=_expected(item.values),
            )
    return tuple(int(v) for v in answers)


def validate_items(instrument: Instrument | str, items: Sequence[int]) -> tuple[int, ...]:
    """Item scores checked against the instrument: one per item, each a score that item can take."""
    d = spec(instrument)
    _check_count(d, items, "items")
    for item, value in zip(d.items, items, strict=True):
        if not _is_int(value) or value not in item.scores:
            raise ValidationError(
                f"{d.short_name} item {item.number}: score {value!r} is out of range",
                column="items",
                expected=_expected(item.scores),
            )
    return tuple(int(v) for v in items)


def _expected(values: Sequence[int]) -> str:
    return "one of " + ", ".join(map(str, values))


def item_scores(instrument: Instrument | str, answers: Sequence[int]) -> tuple[int, ...]:
    """Item scores from answers: reverse-scored items are turned round (EPDS 3 and 5-10, DAST-10 item 3)."""
    d = spec(instrument)
    checked = validate_answers(d.id, answers)
    return tuple(item.score(value) for item, value in zip(d.items, checked, strict=True))


def total(instrument: Instrument | str, items: Sequence[int]) -> int:
    """The total score: the sum of validated item scores."""
    return sum(validate_items(instrument, items))


def _check_total(d: Definition, score: int) -> None:
    if not _is_int(score) or not 0 <= score <= d.max_total:
        raise ValidationError(
            f"{d.short_name} total {score!r} out of range", column="score", expected=f"0..{d.max_total}"
        )


def band(instrument: Instrument | str, score: int) -> str:
    """The severity band label of a total."""
    d = spec(instrument)
    _check_total(d, score)
    return next(b.label for b in d.bands if b.low <= score <= b.high)


def is_case(instrument: Instrument | str, score: int, *, sex: Sex | str | None = None) -> bool:
    """At or above the caseness / positive-screen cut-off (AUDIT-C uses the women's cut-off for women)."""
    d = spec(instrument)
    _check_total(d, score)
    cut = d.caseness_female if d.caseness_female is not None and sex == Sex.FEMALE else d.caseness
    return score >= cut


def risk_flag(instrument: Instrument | str, items: Sequence[int]) -> bool:
    """True when the instrument's risk item (PHQ-9 item 9, EPDS item 10) scores above 0."""
    d = spec(instrument)
    scores = validate_items(d.id, items)
    return "risk" in _flags(d, scores, None)


@dataclass(frozen=True, slots=True)
class Score:
    """A scored form: what `onward instruments score` prints."""

    instrument: str
    total: int
    band: str
    subscales: dict[str, int] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    items: tuple[int, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "instrument": self.instrument,
            "total": self.total,
            "band": self.band,
            "subscales": dict(self.subscales),
            "flags": list(self.flags),
        }


def _flags(d: Definition, scores: Sequence[int], sex: Sex | str | None) -> tuple[str, ...]:
    out: list[str] = []
    total_ = sum(scores)
    for rule in d.flags:
        if _holds(rule, d, scores, total_, sex):
            out.append(rule.name)
    return tuple(out)


def _holds(rule: FlagRule, d: Definition, scores: Sequence[int], total_: int, sex: Sex | str | None) -> bool:
    if rule.kind == "item_above":
        assert rule.item is not None and rule.above is not None
        return scores[rule.item - 1] > rule.above
    if rule.kind == "total_at_least":
        assert rule.at_least is not None
        cut = (
            rule.at_least_female if rule.at_least_female is not None and sex == Sex.FEMALE else rule.at_least
        )
        return total_ >= cut
    assert rule.item_at_least is not None
    for sub in d.subscales:
        endorsed = sum(1 for n in sub.items if scores[n - 1] >= rule.item_at_least)
        if endorsed < (sub.minimum_items or 0):
            return False
    return True


def score_items(instrument: Instrument | str, items: Sequence[int], *, sex: Sex | str | None = None) -> Score:
    """Total, band, sub-scale sums and flags from item scores (a measurement's `items`)."""
    d = spec(instrument)
    scores = validate_items(d.id, items)
    total_ = sum(scores)
    subscales = {s.name: sum(scores[n - 1] for n in s.items) for s in d.subscales}
    return Score(d.id.value, total_, band(d.id, total_), subscales, _flags(d, scores, sex), scores)


def score_answers(
    instrument: Instrument | str, answers: Sequence[int], *, sex: Sex | str | None = None
) -> Score:
    """Score a completed form from its answers (reverse-scored items are turned round first)."""
    return score_items(instrument, item_scores(instrument, answers), sex=sex)


@dataclass(frozen=True, slots=True)
class ChangeOutcome:
    """NHS Talking Therapies outcome of one finished episode (first vs last of PHQ-9 and GAD-7)."""

    at_caseness_first: bool
    recovered: bool
    reliable_improvement: bool
    reliable_deterioration: bool

    @property
    def reliable_recovery(self) -> bool:
        return self.recovered and self.reliable_improvement


def nhs_outcome(phq9: tuple[int, int] | None, gad7: tuple[int, int] | None) -> ChangeOutcome:
    """Recovery and reliable change from (first, last) totals of PHQ-9 and/or GAD-7 (None = not measured).

    Caseness PHQ-9 >= 10 or GAD-7 >= 8; reliable change 6 and 4 points. Reliable improvement: a reliable
    drop on at least one measure and no reliable rise on the other; deterioration is the mirror image.
    """
    pairs = [(INSTRUMENTS[Instrument.PHQ9], phq9), (INSTRUMENTS[Instrument.GAD7], gad7)]
    measured = [(s, pair) for s, pair in pairs if pair is not None]
    if not measured:
        raise ValidationError("needs PHQ-9 and/or GAD-7 first and last totals", column="score")
    for s, (first, last) in measured:
        _check_total(s, first)
        _check_total(s, last)
    case_first = any(first >= s.caseness for s, (first, _) in measured)
    case_last = any(last >= s.caseness for s, (_, last) in measured)
    change = [(first - last, s.reliable_change or 0) for s, (first, last) in measured]
    drop = any(d >= rc for d, rc in change)
    rise = any(-d >= rc for d, rc in change)
    return ChangeOutcome(
        at_caseness_first=case_first,
        recovered=case_first and not case_last,
        reliable_improvement=drop and not rise,
        reliable_deterioration=rise and not drop,
    )
