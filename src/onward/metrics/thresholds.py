"""Clinical thresholds and measure windows the metrics use, each with its public source.

Kept here (not inlined) so a reviewer can check every number against docs/references.md in one place;
instrument cut-offs come from `onward.model.instruments`.
"""

from __future__ import annotations

from typing import Final

from onward.model.eventlog import Instrument
from onward.model.instruments import INSTRUMENTS


def _reliable_change(instrument: Instrument) -> int:
    points = INSTRUMENTS[instrument].reliable_change
    if points is None:  # pragma: no cover - PHQ-9 and GAD-7 both define it
        raise ValueError(f"{instrument} has no reliable-change threshold")
    return points


# NHS Talking Therapies manual (caseness and reliable change), read from the instrument definitions in
# onward.model.instruments so that flags, scoring and metrics cannot disagree.
PHQ9_CASENESS: Final = INSTRUMENTS[Instrument.PHQ9].caseness  # PHQ-9 >= 10 is "at caseness"
GAD7_CASENESS: Final = INSTRUMENTS[Instrument.GAD7].caseness  # GAD-7 >= 8 is "at caseness"
PHQ9_RELIABLE_CHANGE: Final = _reliable_change(Instrument.PHQ9)  # a change of >= 6 PHQ-9 points is reliable
GAD7_RELIABLE_CHANGE: Final = _reliable_change(Instrument.GAD7)  # a change of >= 4 GAD-7 points is reliable

# HEDIS MY2024 DRR-E (Depression Remission or Response), docs/references.md "US quality measures".
DRR_INDEX_ABOVE: Final = 9  # index event: PHQ-9 > 9
DRR_FOLLOWUP_FIRST_DAY: Final = 120  # follow-up window opens 120 days after the index
DRR_FOLLOWUP_LAST_DAY: Final = 240  # and closes 240 days after it
DRR_REMISSION_BELOW: Final = 5  # remission: last PHQ-9 in the window < 5
# response: last PHQ-9 in the window <= half the index score (a >= 50 % drop), DRR-E.

# HEDIS MY2024 IET (Initiation and Engagement of SUD Treatment).
IET_INITIATION_LAST_DAY: Final = 13  # initiation on days 0-13 after the episode starts (within 14 days)
IET_ENGAGEMENT_LAST_DAY: Final = 34  # engagement services on days 1-34 after initiation
IET_ENGAGEMENT_SERVICES: Final = 2  # at least 2 further treatment services
IET_LOOKAHEAD_DAYS: Final = 48  # 14 + 34: the whole window must lie before data_end (docs/metrics.md)

# HEDIS MY2024 FUH (Follow-Up After Hospitalization for Mental Illness): days 1-7 and 1-30,
# never the discharge day.
FUH_SHORT_DAYS: Final = 7
FUH_LONG_DAYS: Final = 30

# NHS Talking Therapies waiting standards are in weeks; docs/metrics.md sets 14 days for the access share.
TREATED_WITHIN_DAYS: Final = 14
#: NHS Talking Therapies waiting-time standards: treatment within 6 weeks (75 %) and 18 weeks (95 %).
TREATED_WITHIN_6_WEEKS_DAYS: Final = 6 * 7
TREATED_WITHIN_18_WEEKS_DAYS: Final = 18 * 7

# Onward's own definitions (docs/metrics.md, "built to be left").
STUCK_MIN_OPEN_DAYS: Final = 365  # open for at least a year
STUCK_MEASURE_RECENT_DAYS: Final = 90  # a PHQ-9 / GAD-7 measurement within the last 90 days
REENTRY_WINDOW_DAYS: Final = 365  # re-entry on days 1-365 after graduating
