"""Every open episode-month of a recorded run, sorted by person then step: the raw material of the log."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from onward.sim.result import EventRecord


@dataclass(frozen=True, slots=True)
class Rows:
    """Every open episode-month of a run, sorted by person then step."""

    person: npt.NDArray[np.int64]
    step: npt.NDArray[np.int64]
    state: npt.NDArray[np.uint8]
    phq: npt.NDArray[np.int64]
    base: npt.NDArray[np.int64]
    sud: npt.NDArray[np.bool_]
    cm: npt.NDArray[np.bool_]  # in treatment with a case manager that step

    @classmethod
    def from_events(cls, ev: EventRecord) -> Rows:
        order = np.lexsort((ev.svc_step, ev.svc_person))
        return cls(
            person=ev.svc_person[order].astype(np.int64),
            step=ev.svc_step[order].astype(np.int64),
            state=ev.svc_state[order],
            phq=ev.svc_phq[order].astype(np.int64),
            base=ev.svc_base[order].astype(np.int64),
            sud=ev.svc_sud[order],
            cm=ev.svc_cm[order],
        )
