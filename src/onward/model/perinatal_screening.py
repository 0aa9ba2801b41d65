"""EPDS screening in the perinatal tracks: when it is due, and what a result asks of the nurse.

Set points follow the visits of the tracks: a prenatal screen at the first lesson's visit (about 12
weeks) and in the third trimester (about 28 weeks), as ACOG asks for screening early and later in
pregnancy and again after the birth (ACOG Committee Opinion 757, 2018); postpartum screens at the
baby's 1-, 2-, 4- and 6-month well-child visits, where the AAP asks pediatric practices to screen
mothers (Earls et al., Pediatrics 2019). A total of 13 or more is probable depression (Cox, Holden
& Sagovsky 1987); any answer above 0 on item 10 (thoughts of self-harm) needs the risk flag at once
and a same-day safety check. Either one offers a referral into treatment, made only with the
person's consent. docs/skills.md ("Perinatal screening") gives the rules and sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from onward.model.eventlog import Instrument, Priority
from onward.model.instruments import INSTRUMENTS, item_scores

EPDS: Final = Instrument.EPDS.value
PROBABLE_DEPRESSION: Final = 13
"""EPDS total at or above which depression is probable (Cox et al. 1987; docs/references.md)."""
POSSIBLE_DEPRESSION: Final = 10
"""EPDS total at or above which depression is possible (Cox et al. 1987)."""
SELF_HARM_ITEM: Final = 10
FOLLOW_UP_DAYS: Final = 14
"""A positive screen counts as followed up when a referral or treatment contact follows within 14 days
(the project's window, matching the 14-day access measures of docs/metrics.md)."""

#: The lesson whose visit carries an EPDS screen, and why that visit (docs/skills.md).
SCREEN_POINTS: Final[dict[str, str]] = {
    "prenatal-er-1": "first prenatal screen, about 12 weeks (ACOG CO 757: screen in pregnancy)",
    "prenatal-sr-1": "third-trimester screen, about 28 weeks (ACOG CO 757: later in pregnancy)",
    "postpartum-ro-1": "1-month well-child visit (AAP, Earls et al. 2019)",
    "postpartum-ec-1": "2-month well-child visit (AAP, Earls et al. 2019)",
    "postpartum-ro-2": "4-month well-child visit (AAP, Earls et al. 2019)",
    "postpartum-ec-2": "6-month well-child visit (AAP, Earls et al. 2019)",
}


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """A scored EPDS and what it asks for."""

    items: tuple[int, ...]  # item scores (reverse-scored items already turned round)
    total: int
    band: str
    self_harm: bool  # item 10 answered above 0

    @property
    def probable_depression(self) -> bool:
        return self.total >= PROBABLE_DEPRESSION

    @property
    def positive(self) -> bool:
        """A referral into treatment is offered: probable depression or any thought of self-harm."""
        return self.probable_depression or self.self_harm

    @property
    def referral_priority(self) -> Priority | None:
        """Urgent (seen within one business day, the CCBHC urgent tier) when item 10 is positive;
        routine for probable depression alone; None when no referral is offered."""
        if self.self_harm:
            return Priority.URGENT
        return Priority.ROUTINE if self.probable_depression else None

    def summary(self) -> str:
        parts = [f"EPDS {self.total} ({self.band})"]
        if self.self_harm:
            parts.append(f"item {SELF_HARM_ITEM} scored {self.items[SELF_HARM_ITEM - 1]}")
        return "; ".join(parts)


def score_epds(answers: Sequence[int]) -> ScreenResult:
    """Score the boxes ticked (0 = top box) into item scores, total and band; refuse a bad form."""
    definition = INSTRUMENTS[Instrument.EPDS]
    scores = item_scores(EPDS, answers)
    total = sum(scores)
    band = next(b.label for b in definition.bands if b.low <= total <= b.high)
    return ScreenResult(items=scores, total=total, band=band, self_harm=scores[SELF_HARM_ITEM - 1] > 0)
