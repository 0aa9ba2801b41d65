"""One step's transitions: everyone's move out of their current state, by competing risks.

Each person draws one uniform from their own stream (onward.sim._streams); the risks of their state
are stacked in a fixed order and the draw picks one (or none). Dying (US age-specific rates) and
moving away compete with every other move in every state, so leaving services by death or moving is
an exit like any other.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from onward.sim._staff_time import cm_support
from onward.sim.result import ReferralReason
from onward.sim.states import N_STATES, State

if TYPE_CHECKING:
    from onward.sim._model import Model

_W, _U, _Q = State.WELL, State.UNWELL, State.WAITING
_L1, _L2, _L3 = State.TREATMENT_OUTPATIENT, State.TREATMENT_INTENSIVE, State.TREATMENT_RESIDENTIAL
_CM, _RIS, _G, _X = State.CASE_MANAGEMENT_ONLY, State.RECOVERED_IN_SERVICE, State.GRADUATED, State.LEFT
_MAIN, _PRIORITY, _DRIFT = 0, 1, 5
_TO_FLOAT = 1.0 / 2.0**32

Moves = list[npt.NDArray[np.intp]]
# States in which the step a person entered is read (admission order, course length, review,
# graduation) or that set an episode's program: only moves into these record the step.
_TIMED = np.zeros(N_STATES, dtype=bool)
_TIMED[[_Q, _L1, _L2, _L3, _CM, _RIS]] = True


def _choose(u: npt.NDArray[np.float64], probs: list[Any]) -> npt.NDArray[np.int8]:
    """Competing risks with one uniform: outcome j when sum(p[:j]) <= u < sum(p[:j+1]); -1 = stay.

    The running sum starts as a float64 scalar and stays one while the risks are scalars, so a step
    touches each person's draw once per risk and never builds a (risks × people) table.
    """
    out = np.zeros(u.size, dtype=np.int8)
    high: Any = np.float64(0.0)
    for p in probs:
        high = high + p
        out += u >= high  # the number of bounds passed
    out[out == len(probs)] = -1
    return out


class Outcome(NamedTuple):
    """What one step's transitions did (before admission from the waiting list)."""

    new: npt.NDArray[np.uint8]  # everyone's state after the step
    others: npt.NDArray[np.intp]  # the people looked at, ascending (nobody else moved)
    before: npt.NDArray[np.intp]  # how many of them were in each state at the start
    moved: Moves  # who changed state
    timed: Moves  # of those, who moved into a state whose time in state counts (_TIMED)
    flows: dict[str, int]
    gone: npt.NDArray[np.intp]  # who died or moved away
    died: npt.NDArray[np.bool_]  # of those, who died


def transitions(m: Model) -> Outcome:
    """Everyone's move out of their current state this step."""
    q, s, T = m.q, m.state, m.t_global
    m.cm_coverage = cm_support(m)
    bits = m.streams.bits(m.key, T, _MAIN)
    new = s.copy()
    # Only people whose draw falls below their state's total risk can move (Model.bound: everyone in
    # services or waiting, the few well, unwell or graduated people who move, never an empty slot);
    # they are grouped by state.
    others = np.flatnonzero(bits < m.bound)
    # Gathers from the whole population follow `others` (ascending, so memory is read in order);
    # the reordering by state then works on these small arrays.
    s_others = s[others]
    perm = np.argsort(s_others, kind="stable")
    order = others[perm]
    before = np.bincount(s_others, minlength=N_STATES)
    bounds = np.concatenate(([0], np.cumsum(before)))
    spans = [slice(bounds[k], bounds[k + 1]) for k in range(N_STATES)]
    group = [order[span] for span in spans]
    # Each grouped person's uniform and chance of dying, gathered once and sliced by state.
    u_all = bits[others][perm].astype(np.float64)
    u_all += 0.5
    u_all *= _TO_FLOAT
    death_all = m._death_risk(others)[perm]
    moved: Moves = []
    timed: Moves = []
    gone: Moves = []
    died: list[npt.NDArray[np.bool_]] = []
    flows = dict.fromkeys(
        ("new_cases", "new_cases_school_age", "recoveries", "graduations", "relapses", "dropouts"), 0
    )

    def u_of(state: State) -> npt.NDArray[np.float64]:
        return u_all[spans[state]]

    def death(state: State) -> npt.NDArray[np.float32]:
        return death_all[spans[state]]

    def move(g: npt.NDArray[np.intp], o: npt.NDArray[np.int8], j: int, to: State) -> npt.NDArray[np.intp]:
        chosen: npt.NDArray[np.intp] = g[o == j]
        new[chosen] = to
        moved.append(chosen)
        if _TIMED[to]:
            timed.append(chosen)
        return chosen

    def leave(g: npt.NDArray[np.intp], o: npt.NDArray[np.int8], j: int) -> int:
        """Outcome j is death, j + 1 moving away."""
        dead, away = move(g, o, j, _X), move(g, o, j + 1, _X)
        gone.extend((dead, away))
        died.extend((np.ones(dead.size, bool), np.zeros(away.size, bool)))
        return dead.size + away.size

    # well: new case, death, moving away (only people whose draw is below the largest total risk move)
    g = group[_W]
    onset: npt.NDArray[np.float64] | float = q["incidence"]
    if m.skills:
        protected = m.protected_until[g] > T
        onset = np.where(protected, q["incidence"] * m.onset_factor[g], q["incidence"])
    o = _choose(u_of(_W), [onset, death(_W), q["leave"]])
    cases = move(g, o, 0, _U)
    m._new_case(cases)
    flows["new_cases"] = cases.size
    age = m._age_of(cases)
    flows["new_cases_school_age"] = int(np.count_nonzero((age >= 5) & (age < 19)))  # the school lever's ages
    leave(g, o, 1)
    # unwell, not in contact: referral, remission, death, moving away
    g = group[_U]
    o = _choose(u_of(_U), [q["help_seeking"], q["remission_untreated"], death(_U), q["leave"]])
    ref = move(g, o, 0, _Q)
    pr = np.searchsorted(
        np.cumsum([m.p.emergent_share, m.p.urgent_share]), m._uniform(ref, _PRIORITY), side="right"
    ).astype(np.uint8)
    m._refer(ref, pr, ReferralReason.NEW)
    move(g, o, 1, _W)
    leave(g, o, 2)
    # waiting: remission while waiting, death, moving away
    g = group[_Q]
    o = _choose(u_of(_Q), [q["remission_untreated"], death(_Q), q["leave"]])
    move(g, o, 0, _W)
    leave(g, o, 1)
    # treatment, by level; a case manager's support lowers dropout (cm_retention_effect)
    retained = 1.0 - m.p.cm_retention_effect
    stays: Moves = []
    for level in (_L1, _L2, _L3):
        g = group[level]
        past = (T - m.entered[g]) >= {_L1: m.course, _L2: m.intensive_course, _L3: m.residential_stay}[level]
        dropout = np.where(m.cm_need[g] < m.cm_coverage, q["dropout"] * retained, q["dropout"])
        risks: list[Any] = [q["treatment_recovery"], dropout, death(level), q["leave"]]
        if level == _L1:
            risks += [np.where(past, q["to_case_management"], 0.0), np.where(past, q["step_up"], 0.0)]
        elif level == _L2:
            risks += [np.where(past, q["step_down_intensive"], 0.0)]
        else:
            risks += [np.where(past, 1.0, 0.0)]
        o = _choose(u_of(level), risks)
        rec = move(g, o, 0, _RIS)
        m.phq[rec] = m._phq_recovered(rec)
        flows["recoveries"] += rec.size
        flows["dropouts"] += move(g, o, 1, _U).size
        leave(g, o, 2)
        if level == _L1:
            move(g, o, 4, _CM)
            move(g, o, 5, _L2)
        else:
            move(g, o, 4, _L1)
        stays.append(g[o == -1])
    # People not (yet) recovered improve a little (assumption: −1 ± 1.5 points a month), so some
    # reach the 6-point reliable change of NHS Talking Therapies without recovering (tests/sim/
    # test_plausible.py checks reliable improvement against NHS Talking Therapies' published rates).
    stay = np.concatenate(stays)
    z = m.streams.normal(m.key[stay], T, _DRIFT)
    m.phq[stay] = np.clip(m.phq[stay] + (-1.0 / m.spm + z * 1.5 / math.sqrt(m.spm)), 0, 27)
    # case management only: remission, disengage, step up, death, moving away, review
    g = group[_CM]
    review = (T - m.entered[g] >= m.cm_review) if m.cm_review else np.zeros(g.size, bool)
    risks = [
        q["cm_recovery"],
        q["cm_disengage"],
        q["cm_step_up"],
        death(_CM),
        q["leave"],
        np.where(review, 1.0, 0.0),
    ]
    o = _choose(u_of(_CM), risks)
    rec = move(g, o, 0, _RIS)
    m.phq[rec] = m._phq_recovered(rec)
    flows["recoveries"] += rec.size
    move(g, o, 1, _U)
    m._refer(np.concatenate((move(g, o, 2, _Q), move(g, o, 5, _Q))), 1, ReferralReason.STEP_UP)
    leave(g, o, 3)
    stay = g[o == -1]
    z = m.streams.normal(m.key[stay], T, _DRIFT)
    m.phq[stay] = np.clip(m.phq[stay] + z / math.sqrt(m.spm), 0, 27)
    # recovered in service: relapse, discharge, death, moving away; built to be left graduates after N steps
    g = group[_RIS]
    due = (T - m.entered[g] >= m.graduate_after) if m.graduate_after else np.zeros(g.size, bool)
    graduate = np.where(due, 1.0, 0.0)
    risks = [q["relapse_in_service"], q["maintenance_discharge"], death(_RIS), q["leave"], graduate]
    o = _choose(u_of(_RIS), risks)
    rel = move(g, o, 0, _L1)
    m.phq[rel] = m._phq_unwell(rel)
    flows["relapses"] += rel.size
    flows["graduations"] += move(g, o, 1, _G).size + move(g, o, 4, _G).size
    leave(g, o, 2)
    # graduated: relapse (fast return or not), death, moving away
    g = group[_G]
    relapse = np.where(m.sud[g], q["relapse_sud"], q["relapse_after_discharge"])
    fast = m.p.fast_return_share
    o = _choose(u_of(_G), [relapse * fast, relapse * (1.0 - fast), death(_G), q["leave"]])
    back = move(g, o, 0, _Q)
    m.phq[back] = m._phq_unwell(back)
    m._refer(back, 1, ReferralReason.FAST_RETURN)
    unwell = move(g, o, 1, _U)
    m.phq[unwell] = m._phq_unwell(unwell)
    flows["relapses"] += back.size + unwell.size
    leave(g, o, 2)
    dead = np.concatenate(gone) if gone else np.zeros(0, np.intp)
    was_death = np.concatenate(died) if died else np.zeros(0, bool)
    return Outcome(new, others, before, moved, timed, flows, dead, was_death)
