from __future__ import annotations

from onward.sim.states import IN_SERVICE, IN_TREATMENT, SERVICE_STATES, TREATMENT_STATES, State, level_of_care


def test_service_masks_match_the_state_lists() -> None:
    assert [State(i) for i in range(len(State)) if IN_SERVICE[i]] == sorted(SERVICE_STATES)
    assert [State(i) for i in range(len(State)) if IN_TREATMENT[i]] == list(TREATMENT_STATES)
    assert not IN_SERVICE[State.WAITING] and not IN_SERVICE[State.GRADUATED]


def test_levels_of_care_rise_with_intensity() -> None:
    assert [level_of_care(s) for s in TREATMENT_STATES] == [1, 2, 3]
    assert level_of_care(State.CASE_MANAGEMENT_ONLY) == 0
