"""The states a simulated person can be in (docs/simulation.md), as small integers for NumPy arrays."""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class State(IntEnum):
    """One state per person per step; the values index the engine's uint8 state array."""

    WELL = 0
    UNWELL = 1  # unwell, not in contact with services
    WAITING = 2  # referred, on the waiting list
    TREATMENT_OUTPATIENT = 3  # in treatment, level of care 1
    TREATMENT_INTENSIVE = 4  # in treatment, level of care 2 (intensive outpatient)
    TREATMENT_RESIDENTIAL = 5  # in treatment, level of care 3 (inpatient or residential)
    CASE_MANAGEMENT_ONLY = 6
    RECOVERED_IN_SERVICE = 7  # recovered, episode still open (maintenance)
    GRADUATED = 8
    LEFT = 9  # moved away or died; absorbing


N_STATES = len(State)

TREATMENT_STATES: tuple[State, ...] = (
    State.TREATMENT_OUTPATIENT,
    State.TREATMENT_INTENSIVE,
    State.TREATMENT_RESIDENTIAL,
)
"""States in which a person receives treatment, by rising level of care."""

SERVICE_STATES: tuple[State, ...] = (
    *TREATMENT_STATES,
    State.CASE_MANAGEMENT_ONLY,
    State.RECOVERED_IN_SERVICE,
)
"""States with an open episode of care."""

IN_SERVICE = np.zeros(N_STATES, dtype=bool)
IN_SERVICE[list(SERVICE_STATES)] = True
IN_TREATMENT = np.zeros(N_STATES, dtype=bool)
IN_TREATMENT[list(TREATMENT_STATES)] = True


def level_of_care(state: State) -> int:
    """Treatment level 1-3 of a treatment state (0 for any other state)."""
    return TREATMENT_STATES.index(state) + 1 if state in TREATMENT_STATES else 0
