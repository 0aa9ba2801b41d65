"""What a run remembers: everyone who ever lived in the county, and (when asked) every event.

People are numbered in the order they arrive (the starting residents, then births and newcomers);
their fixed attributes, arrival, departure and latest pregnancy are kept per person number for the
whole run, so the event log can list everyone who lived in the county during the recorded years.
Events (referrals, state changes, open episode-months, departures) are kept only once recording has
started, with steps counted from the start of the recorded run. At that moment a snapshot of the
people waiting or in services keeps their true (earlier) referral, admission and episode dates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from onward.sim.result import EventRecord, Population
from onward.sim.states import IN_SERVICE, State

if TYPE_CHECKING:
    from onward.sim._model import Model

_NEVER = np.iinfo(np.int32).max
Chunks = list[tuple[npt.NDArray[Any], ...]]


class Recorder:
    """Per-person attributes (growing arrays) and, once `start` is called, per-step event chunks."""

    def __init__(self) -> None:
        self.n = 0
        self.birth_year = np.zeros(0, np.int16)
        self.female = np.zeros(0, bool)
        self.arrived = np.zeros(0, np.int32)
        self.left = np.zeros(0, np.int32)
        self.died = np.zeros(0, bool)
        self.due = np.zeros(0, np.int32)
        self.on = False
        self.start_step = 0
        self.chunks: dict[str, Chunks] = {"ref": [], "chg": [], "svc": [], "gone": []}
        self.snapshot: dict[str, npt.NDArray[Any]] = {}

    def new_people(
        self, birth_year: npt.NDArray[Any], female: npt.NDArray[Any], step: int
    ) -> npt.NDArray[np.int32]:
        k = birth_year.size
        if self.n + k > self.birth_year.size:
            # Room for as many again (newcomers over a run); the arrays are filled only as
            # people arrive, so memory not yet needed is never touched.
            size = max(2 * (self.n + k), 2 * self.birth_year.size)

            def grown(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
                out = np.empty(size, dtype=a.dtype)
                out[: self.n] = a[: self.n]
                return out

            self.birth_year, self.female = grown(self.birth_year), grown(self.female)
            self.arrived, self.left = grown(self.arrived), grown(self.left)
            self.died, self.due = grown(self.died), grown(self.due)
        new = slice(self.n, self.n + k)
        self.birth_year[new] = birth_year
        self.female[new] = female
        self.arrived[new] = step
        self.left[new] = _NEVER
        self.died[new] = False
        self.due[new] = -1
        self.n += k
        return np.arange(new.start, new.stop, dtype=np.int32)

    def pregnancies(self, pids: npt.NDArray[np.int32], due: int) -> None:
        self.due[pids] = due

    def gone(self, t: int, pids: npt.NDArray[np.int32], died: npt.NDArray[np.bool_], step: int) -> None:
        self.left[pids] = step
        self.died[pids] = died
        if self.on and pids.size:
            self.chunks["gone"].append((np.full(pids.size, t, np.int32), pids.copy(), died.copy()))

    def start(self, m: Model) -> None:
        """Start recording at the model's current step; snapshot who is waiting or in services."""
        self.on, self.start_step = True, m.t_global
        open_ = np.flatnonzero(IN_SERVICE[m.state] | (m.state == State.WAITING))
        open_ = open_[np.argsort(m.pid[open_], kind="stable")]
        rel = m.t_global

        def since(a: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
            return (a[open_].astype(np.int64) - rel).astype(np.int32)

        # the open episodes' state at the end of the burn-in: step -1 of the recorded run
        svc = open_[IN_SERVICE[m.state[open_]]]
        self.step(m, -1, m.state, np.zeros(0, dtype=np.intp), svc)
        self.snapshot = {
            "person": m.pid[open_].copy(),
            "state": m.state[open_].copy(),
            "referred": since(m.referred_at),
            "admitted": since(m.admitted_at),
            "episode": since(m.episode_at),
            "priority": m.priority[open_].copy(),
            "reason": m.ref_reason[open_].copy(),
            "sud": m.sud[open_].copy(),
            "base": np.rint(m.phq_base[open_]).astype(np.uint8),
        }

    def referral(
        self,
        t: int,
        pids: npt.NDArray[np.int32],
        priority: npt.NDArray[np.uint8],
        reason: int,
        sud: npt.NDArray[Any],
    ) -> None:
        self.chunks["ref"].append(
            (
                np.full(pids.size, t, np.int32),
                pids.copy(),
                priority.copy(),
                np.full(pids.size, reason, np.uint8),
                sud.copy(),
            )
        )

    def step(
        self,
        m: Model,
        t: int,
        old: npt.NDArray[np.uint8],
        changed: npt.NDArray[np.intp],
        svc: npt.NDArray[np.intp],
    ) -> None:
        new = m.state
        self.chunks["chg"].append(
            (np.full(changed.size, t, np.int32), m.pid[changed], old[changed], new[changed])
        )
        in_treatment = (new[svc] >= State.TREATMENT_OUTPATIENT) & (new[svc] <= State.TREATMENT_RESIDENTIAL)
        self.chunks["svc"].append(
            (
                np.full(svc.size, t, np.int32),
                m.pid[svc],
                new[svc],
                np.rint(m.phq[svc]).astype(np.uint8),
                m.sud[svc].copy(),
                np.rint(m.phq_base[svc]).astype(np.uint8),
                in_treatment & (m.cm_need[svc] < m.cm_coverage),
            )
        )

    def population(self, start_year: int) -> Population:
        n, start = self.n, np.int32(self.start_step)
        # int32 throughout (steps are small and start >= 0, so nothing overflows): no int64 copies
        left = self.left[:n] - start
        left[self.left[:n] == _NEVER] = _NEVER
        due = self.due[:n] - start
        due[self.due[:n] < 0] = _NEVER
        return Population(
            birth_year=self.birth_year[:n].copy(),
            female=self.female[:n].copy(),
            start_year=start_year,
            arrived=self.arrived[:n] - start,
            left=left,
            died=self.died[:n].copy(),
            due=due,
            record_start=self.start_step,
        )

    def events(self) -> EventRecord:
        def cat(name: str, i: int, dtype: type[np.generic]) -> npt.NDArray[Any]:
            parts = [row[i] for row in self.chunks[name]]
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)

        snap = self.snapshot
        return EventRecord(
            ref_step=cat("ref", 0, np.int32),
            ref_person=cat("ref", 1, np.int32),
            ref_priority=cat("ref", 2, np.uint8),
            ref_reason=cat("ref", 3, np.uint8),
            ref_sud=cat("ref", 4, np.bool_),
            chg_step=cat("chg", 0, np.int32),
            chg_person=cat("chg", 1, np.int32),
            chg_from=cat("chg", 2, np.uint8),
            chg_to=cat("chg", 3, np.uint8),
            svc_step=cat("svc", 0, np.int32),
            svc_person=cat("svc", 1, np.int32),
            svc_state=cat("svc", 2, np.uint8),
            svc_phq=cat("svc", 3, np.uint8),
            svc_sud=cat("svc", 4, np.bool_),
            svc_base=cat("svc", 5, np.uint8),
            svc_cm=cat("svc", 6, np.bool_),
            gone_step=cat("gone", 0, np.int32),
            gone_person=cat("gone", 1, np.int32),
            gone_died=cat("gone", 2, np.bool_),
            pre_person=snap["person"],
            pre_state=snap["state"],
            pre_referred=snap["referred"],
            pre_admitted=snap["admitted"],
            pre_episode=snap["episode"],
            pre_priority=snap["priority"],
            pre_reason=snap["reason"],
            pre_sud=snap["sud"],
            pre_base=snap["base"],
        )
