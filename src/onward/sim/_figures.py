"""One recorded step's figures for the run's series: stocks, flows, staff hours and the stuck count.

The series keys are those of onward.sim.result (SERIES_KEYS); the engine sums and reads them for its
summary, and the what-if pages chart them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from onward.sim._staff_time import case_management_hours
from onward.sim.states import State

if TYPE_CHECKING:
    from onward.sim._model import Model

RELIABLE_CHANGE_PHQ9 = 6  # NHS Talking Therapies reliable change on PHQ-9 (docs/references.md)
STUCK_MONTHS = 12  # docs/metrics.md: open >= 365 days without reliable improvement

_STOCKS = (
    ("well", State.WELL),
    ("unwell", State.UNWELL),
    ("waiting", State.WAITING),
    ("treatment_outpatient", State.TREATMENT_OUTPATIENT),
    ("treatment_intensive", State.TREATMENT_INTENSIVE),
    ("treatment_residential", State.TREATMENT_RESIDENTIAL),
    ("case_management_only", State.CASE_MANAGEMENT_ONLY),
    ("recovered_in_service", State.RECOVERED_IN_SERVICE),
    ("graduated", State.GRADUATED),
)
_TREATMENT = [State.TREATMENT_OUTPATIENT, State.TREATMENT_INTENSIVE, State.TREATMENT_RESIDENTIAL]
_SERVICE = [*_TREATMENT, State.CASE_MANAGEMENT_ONLY, State.RECOVERED_IN_SERVICE]


def record_step(
    m: Model,
    out: dict[str, npt.NDArray[np.float64]],
    t: int,
    old: npt.NDArray[np.uint8],
    svc: npt.NDArray[np.intp],
    changed: npt.NDArray[np.intp],
    flows: dict[str, int],
    wait_steps: int,
    treat_hours: float,
) -> None:
    """Write step `t` of the series (`svc`: everyone with an open episode, ascending)."""
    counts = m.counts
    for key, state in _STOCKS:
        out[key][t] = counts[state]
    out["left"][t] = m.departed
    out["residents"][t] = m.cap - counts[State.LEFT]
    out["in_treatment"][t] = counts[_TREATMENT].sum()
    out["in_services"][t] = counts[_SERVICE].sum()
    out["month"][t] = (t + 1) / m.spm
    for key in out:
        if key in flows:
            out[key][t] = flows[key]
    out["referrals"][t] = m.referrals_this_step
    out["wait_steps"][t] = wait_steps
    out["treatment_hours"][t] = treat_hours / m.spm
    out["case_management_hours"][t] = case_management_hours(m, counts, float(out["in_treatment"][t])) / m.spm
    out["cm_support"][t] = m.cm_coverage
    out["skills_protected"][t] = np.count_nonzero(m.protected_until > m.t_global) if m.skills else 0
    long = svc[m.t_global - m.admitted_at[svc] >= m.stuck_steps]  # open a year or more
    improved = np.rint(m.phq_base[long] - m.phq[long]) >= RELIABLE_CHANGE_PHQ9
    out["stuck"][t] = long.size - np.count_nonzero(improved)
    if m.rec.on:
        m.rec.step(m, t, old, changed, svc)
