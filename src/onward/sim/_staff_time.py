"""Staff time in a step: admission into the treatment hours left free, and case-management hours.

The county's staff hours (`staff_hours_per_1000`) are split between treatment and case management
(`case_management_share`). A person waiting is admitted when the hours their level of care needs are
free, priority first, then longest wait. Case-management hours go first to people in case management
only and to maintenance check-ins; what is left gives people in treatment a case manager, whose
support lowers their dropout (`cm_retention_effect`, onward.sim._step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from onward.sim.states import State

if TYPE_CHECKING:
    from onward.sim._model import Model

CM_STRETCH = 3.0  # assumption: case management expands to at most 3x its basic hours per person

_Q = State.WAITING
_L1, _L2, _L3 = State.TREATMENT_OUTPATIENT, State.TREATMENT_INTENSIVE, State.TREATMENT_RESIDENTIAL
_CM, _RIS = State.CASE_MANAGEMENT_ONLY, State.RECOVERED_IN_SERVICE


def cm_support(m: Model) -> float:
    """Share of people in treatment who have a case manager this step (docs/simulation.md).

    Case-management hours go first to people in case management only and to maintenance
    check-ins; what is left supports people in treatment, up to `cm_support_share` of them.
    """
    c, p = m.counts, m.p
    basic = float(c[_CM] * p.hours_case_management + c[_RIS] * p.hours_maintenance_case_management)
    treated = float(c[_L1] + c[_L2] + c[_L3]) * p.hours_treatment_case_management
    left = max(0.0, m.cm_capacity - basic)
    if treated <= 0:
        return p.cm_support_share
    return float(min(p.cm_support_share, left / treated))


def case_management_hours(m: Model, counts: npt.NDArray[np.intp], treated: float) -> float:
    """Case-management hours used in a step.

    Case-management time fills the hours set aside for it (caseloads absorb the time), up to
    CM_STRETCH times the basic need of the people in case management, maintenance or support.
    """
    p = m.p
    demand = (
        counts[_CM] * p.hours_case_management
        + counts[_RIS] * p.hours_maintenance_case_management
        + treated * m.cm_coverage * p.hours_treatment_case_management
    )
    return float(min(m.cm_capacity, CM_STRETCH * demand))


def admit(
    m: Model,
    new: npt.NDArray[np.uint8],
    others: npt.NDArray[np.intp],
    new_others: npt.NDArray[np.uint8],
    counts: npt.NDArray[np.intp],
) -> tuple[npt.NDArray[np.intp], int, float]:
    """Admit from the waiting list into free treatment hours: priority first, then longest wait.

    Emergent referrals are always admitted (crisis beds overflow rather than turn people away).
    Updates `counts` and `new_others` (the new states of `others`) in place. Returns (people
    admitted, total steps they waited, treatment hours in use).
    """
    used = float(counts @ m.level_hours)
    free = m.treatment_capacity - used
    at = np.flatnonzero(new_others == _Q)  # nobody goes from well to waiting in one step
    waiting = others[at]
    if waiting.size == 0:
        return waiting, 0, used
    # Priority first, then longest wait (earliest step in the queue), ties by slot: two stable
    # sorts, last key first. Steps in the queue fit 16 bits in any run shorter than 65,536 steps,
    # and NumPy sorts 8- and 16-bit keys by radix.
    since = m.entered[waiting]
    order = np.argsort(since.astype(np.uint16) if m.t_global < 1 << 16 else since, kind="stable")
    order = order[np.argsort(m.priority[waiting[order]], kind="stable")]
    ranked = waiting[order]
    need = np.cumsum(m.level_hours[m.admit_level[ranked]])
    take = max(int(np.searchsorted(need, free, side="right")), int(np.count_nonzero(m.priority[ranked] == 0)))
    admitted = ranked[:take]
    new[admitted] = m.admit_level[admitted]
    new_others[at[order[:take]]] = new[admitted]
    t = m.t_global
    waited = int((t - m.entered[admitted]).sum())
    m.entered[admitted] = t
    m.admitted_at[admitted] = t  # admission is the only way into service from outside
    m.episode_at[admitted] = t
    m.prog_state[admitted] = new[admitted]
    np.add.at(counts, new[admitted], 1)
    counts[_Q] -= admitted.size
    m.phq_base[admitted] = m.phq[admitted]
    used += float(need[take - 1]) if take else 0.0
    return admitted, waited, used
