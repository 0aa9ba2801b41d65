"""Outcome instruments as data, with pure scoring: totals, bands, caseness, reliable change, risk items.

Cut-offs are those of docs/references.md ("Outcome instruments" and "NHS Talking Therapies definitions");
each spec names its source. Item text is not here: its licence decides whether it may ship
(docs/references.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from onward.errors import ValidationError
from onward.model.eventlog import Instrument, Sex


@dataclass(frozen=True, slots=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """Scoring rules of one instrument. `item_values[i]` lists the scores item i can take."""

    id: Instrument
    name: str
    item_values: tuple[tuple[int, ...], ...]
    bands: tuple[Band, ...]
    caseness: int  # a total at or above this is "a case" (positive screen)
    source: str
    licence: str
    reliable_change: int | None = None  # smallest change in points that counts as reliable
    caseness_female: int | None = None  # a different cut-off for women (AUDIT-C)
    risk_item: int | None = None  # 1-based item whose answer > 0 needs a same-day risk review
    reversed_items: tuple[int, ...] = ()  # 1-based items scored in reverse of the printed answer order
    loinc: str | None = None  # LOINC code of the total score, when there is one

    @property
    def n_items(self) -> int:
        return len(self.item_values)

    @property
    def max_total(self) -> int:
        return sum(max(v) for v in self.item_values)


def _same(n: int, high: int) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(range(high + 1)) for _ in range(n))


_PHQ = "Kroenke, Spitzer & Williams 2001 (PHQ-9); phqscreeners.com; docs/references.md"
_NHS = "NHS Talking Therapies manual: caseness PHQ-9 >= 10, GAD-7 >= 8; reliable change 6 / 4 points"
_FREE = "free, no permission needed (Pfizer / phqscreeners.com)"

INSTRUMENTS: dict[Instrument, InstrumentSpec] = {
    spec.id: spec
    for spec in (
        InstrumentSpec(
            Instrument.PHQ9,
            "Patient Health Questionnaire-9",
            _same(9, 3),
            (
                Band(0, 4, "minimal"),
                Band(5, 9, "mild"),
                Band(10, 14, "moderate"),
                Band(15, 19, "moderately severe"),
                Band(20, 27, "severe"),
            ),
            caseness=10,
            reliable_change=6,
            risk_item=9,
            loinc="44261-6",
            source=f"{_PHQ}; {_NHS}",
            licence=_FREE,
        ),
        InstrumentSpec(
            Instrument.PHQ2,
            "Patient Health Questionnaire-2",
            _same(2, 3),
            (Band(0, 2, "negative"), Band(3, 6, "positive")),
            caseness=3,
            loinc="58120-7",
            source="Kroenke et al. 2003 (PHQ-2 >= 3); docs/references.md",
            licence=_FREE,
        ),
        InstrumentSpec(
            Instrument.GAD7,
            "Generalized Anxiety Disorder-7",
            _same(7, 3),
            (Band(0, 4, "minimal"), Band(5, 9, "mild"), Band(10, 14, "moderate"), Band(15, 21, "severe")),
            caseness=8,
            reliable_change=4,
            loinc="70274-6",
            source=f"Spitzer et al. 2006 (GAD-7); {_NHS}",
            licence=_FREE,
        ),
        InstrumentSpec(
            Instrument.GAD2,
            "Generalized Anxiety Disorder-2",
            _same(2, 3),
            (Band(0, 2, "negative"), Band(3, 6, "positive")),
            caseness=3,
            source="Kroenke et al. 2007 (GAD-2 >= 3); docs/references.md",
            licence=_FREE,
        ),
        InstrumentSpec(
            Instrument.AUDIT,
            "Alcohol Use Disorders Identification Test",
            (*_same(8, 4), (0, 2, 4), (0, 2, 4)),
            (Band(0, 7, "zone I"), Band(8, 15, "zone II"), Band(16, 19, "zone III"), Band(20, 40, "zone IV")),
            caseness=8,
            source="WHO 2001 AUDIT manual (zones 0-7, 8-15, 16-19, 20-40); docs/references.md",
            licence="WHO 2001, free to reproduce, not for sale",
        ),
        InstrumentSpec(
            Instrument.AUDITC,
            "AUDIT-C (AUDIT items 1-3)",
            _same(3, 4),
            (Band(0, 2, "negative"), Band(3, 3, "positive for women"), Band(4, 12, "positive")),
            caseness=4,
            caseness_female=3,
            source="Bush et al. 1998; Bradley et al. 2007 (US VA): >= 4 men, >= 3 women; docs/references.md",
            licence="public domain (SAMHSA)",
        ),
        InstrumentSpec(
            Instrument.DAST10,
            "Drug Abuse Screening Test-10",
            _same(10, 1),
            (
                Band(0, 0, "none"),
                Band(1, 2, "low"),
                Band(3, 5, "moderate"),
                Band(6, 8, "substantial"),
                Band(9, 10, "severe"),
            ),
            caseness=3,
            reversed_items=(3,),
            source="Skinner 1982 (DAST-10 bands); docs/references.md",
            licence="(c) Skinner 1982; non-commercial use with credit",
        ),
        InstrumentSpec(
            Instrument.PCL5,
            "PTSD Checklist for DSM-5",
            _same(20, 4),
            (Band(0, 32, "below cut-off"), Band(33, 80, "provisional PTSD")),
            caseness=33,
            source="US National Center for PTSD: provisional PTSD 31-33 (33 used); docs/references.md",
            licence="US government work",
        ),
        InstrumentSpec(
            Instrument.EPDS,
            "Edinburgh Postnatal Depression Scale",
            _same(10, 3),
            (
                Band(0, 9, "below cut-off"),
                Band(10, 12, "possible depression"),
                Band(13, 30, "probable depression"),
            ),
            caseness=10,
            risk_item=10,
            reversed_items=(3, 5, 6, 7, 8, 9, 10),
            source="Cox, Holden & Sagovsky 1987 (EPDS >= 10 possible, >= 13 probable); docs/references.md",
            licence="(c) Royal College of Psychiatrists: metadata and scoring only",
        ),
    )
}


def spec(instrument: Instrument | str) -> InstrumentSpec:
    try:
        return INSTRUMENTS[Instrument(instrument)]
    except ValueError:
        raise ValidationError(
            f"unknown instrument {instrument!r}",
            column="instrument",
            expected=", ".join(i.value for i in Instrument),
        ) from None


def validate_items(instrument: Instrument | str, items: Sequence[int]) -> tuple[int, ...]:
    """Item scores checked against the instrument (count and allowed values)."""
    s = spec(instrument)
    if len(items) != s.n_items:
        raise ValidationError(f"{s.id} has {s.n_items} items, got {len(items)}", column="items")
    for i, (value, allowed) in enumerate(zip(items, s.item_values, strict=True), start=1):
        if isinstance(value, bool) or value not in allowed:
            raise ValidationError(
                f"{s.id} item {i} is {value!r}",
                column="items",
                expected=f"one of {', '.join(map(str, allowed))}",
            )
    return tuple(int(v) for v in items)


def item_scores(instrument: Instrument | str, answers: Sequence[int]) -> tuple[int, ...]:
    """Item scores from answers in printed order: reverse-scored items are flipped (EPDS, DAST-10 item 3)."""
    s = spec(instrument)
    flipped = [
        max(s.item_values[i - 1]) - a if i in s.reversed_items else a for i, a in enumerate(answers, start=1)
    ]
    return validate_items(s.id, flipped)


def total(instrument: Instrument | str, items: Sequence[int]) -> int:
    """The total score: the sum of validated item scores."""
    return sum(validate_items(instrument, items))


def _check_total(s: InstrumentSpec, score: int) -> None:
    if not 0 <= score <= s.max_total:
        raise ValidationError(
            f"{s.id} total {score} out of range", column="score", expected=f"0..{s.max_total}"
        )


def band(instrument: Instrument | str, score: int) -> str:
    """The severity band label of a total."""
    s = spec(instrument)
    _check_total(s, score)
    return next(b.label for b in s.bands if b.low <= score <= b.high)


def is_case(instrument: Instrument | str, score: int, *, sex: Sex | str | None = None) -> bool:
    """At or above the caseness / positive-screen cut-off (AUDIT-C uses the women's cut-off for women)."""
    s = spec(instrument)
    _check_total(s, score)
    cut = s.caseness_female if s.caseness_female is not None and sex == Sex.FEMALE else s.caseness
    return score >= cut


def risk_flag(instrument: Instrument | str, items: Sequence[int]) -> bool:
    """True when the instrument's risk item (PHQ-9 item 9, EPDS item 10) is answered above 0."""
    s = spec(instrument)
    scores = validate_items(s.id, items)
    return s.risk_item is not None and scores[s.risk_item - 1] > 0


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
