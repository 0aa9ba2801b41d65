"""Referrals of a recorded run: those made during it, those still open when it started, and outcomes.

A referral made before the recorded years is written when its person was still waiting when they
began, or was admitted into the episode still open then (with its true, earlier date), so the first
month of the log looks like every other month. Each referral's outcome is what happened to the person
on the waiting list (the engine's next move out of `waiting`): admitted; back to well while waiting
(the person withdrew it, declined the offer or could not be reached); died or moved away (withdrawn,
with the reason); or still waiting at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from onward.model.eventlog import ReferralOutcome
from onward.sim._arrow import Calendar
from onward.sim.result import EventRecord
from onward.sim.states import IN_SERVICE, State

Arr = npt.NDArray[Any]
_OUTCOMES = [o.value for o in ReferralOutcome]
_CODE = {o: i for i, o in enumerate(ReferralOutcome)}
#: How a referral closes when the person got better while waiting (assumption: NHS Talking Therapies
#: reports about a third of referrals ending before treatment, for these reasons among others).
_BETTER_SPLIT = (
    (ReferralOutcome.WITHDRAWN, 0.5, "no longer wanted: feeling better"),
    (ReferralOutcome.DECLINED, 0.2, "declined the offered appointment"),
    (ReferralOutcome.NOT_REACHED, 0.3, "no response to 3 calls and a letter"),
)
REASON_DIED = "the person died"
REASON_MOVED = "moved out of the area"
#: Days from referral to the first appointment when a place is free, by priority (emergent, urgent,
#: routine): CCBHC criteria — emergent at once, urgent within 1 business day, routine initial
#: evaluation within 10 business days (docs/references.md). Drawn uniformly in [low, high].
FIRST_APPOINTMENT_DAYS = np.array([[0, 1], [1, 3], [3, 14]])


@dataclass(frozen=True, slots=True)
class Referrals:
    """Every referral of the log, ordered by (step, person); steps may be negative (before the run)."""

    step: Arr
    person: Arr  # person number
    priority: Arr
    reason: Arr
    sud: Arr
    day: Arr
    delay: Arr  # days to a first appointment once a place is free

    @property
    def size(self) -> int:
        return int(self.step.size)


def gather(ev: EventRecord, rng: np.random.Generator, cal: Calendar) -> Referrals:
    """Referrals of the run plus those still open at its start (waiting, or admitted into an open episode)."""
    pre = IN_SERVICE[ev.pre_state] | (ev.pre_state == State.WAITING)
    pre &= (ev.pre_state == State.WAITING) | (ev.pre_episode == ev.pre_admitted)
    pre &= ev.pre_referred >= -(2**30)  # a referral happened (people on the waiting list always have one)
    step = np.concatenate((ev.pre_referred[pre], ev.ref_step)).astype(np.int64)
    person = np.concatenate((ev.pre_person[pre], ev.ref_person)).astype(np.int64)
    priority = np.concatenate((ev.pre_priority[pre], ev.ref_priority))
    reason = np.concatenate((ev.pre_reason[pre], ev.ref_reason))
    sud = np.concatenate((ev.pre_sud[pre], ev.ref_sud))
    order = np.lexsort((person, step))
    step, person, priority, reason, sud = (a[order] for a in (step, person, priority, reason, sud))
    day = cal.within(step, rng.random(step.size))
    low, high = FIRST_APPOINTMENT_DAYS[priority, 0], FIRST_APPOINTMENT_DAYS[priority, 1]
    delay = low + np.floor(rng.random(step.size) * (high - low + 1)).astype(np.int64)
    return Referrals(step, person, priority, reason, sud, day, delay)


def outcomes(
    refs: Referrals,
    ev: EventRecord,
    rng: np.random.Generator,
    cal: Calendar,
    admitted_on: Arr,
) -> tuple[Arr, Arr, Arr]:
    """(outcome code, outcome day or -1, reason text or None) of every referral.

    `admitted_on` is the start day of the first episode naming the referral (int64 max when none).
    """
    n = refs.size
    # the person's first move out of the waiting list at or after the referral's step
    leave_q = ev.chg_from == State.WAITING
    c_person, c_step, c_to = ev.chg_person[leave_q].astype(np.int64), ev.chg_step[leave_q], ev.chg_to[leave_q]
    order = np.lexsort((c_step, c_person))
    c_person, c_step, c_to = c_person[order], c_step[order].astype(np.int64), c_to[order]
    base = int(min(0, refs.step.min(initial=0))) - 1
    span = int(max(cal.n_steps, 1)) - base + 1
    keys = c_person * span + (c_step - base)
    i = np.searchsorted(keys, refs.person * span + (refs.step - base), side="left")
    found = i < keys.size
    i = np.minimum(i, max(keys.size - 1, 0))
    found &= (keys.size > 0) & (c_person[i] == refs.person) if keys.size else np.zeros(n, bool)
    to = np.where(found, c_to[i] if keys.size else 0, 255)
    when = np.where(found, c_step[i] if keys.size else 0, -1)
    # who died (a move to `left` is a death or a move away)
    g_key = ev.gone_person.astype(np.int64) * span + (ev.gone_step.astype(np.int64) - base)
    g_order = np.argsort(g_key, kind="stable")
    j = np.searchsorted(g_key[g_order], refs.person * span + (when - base))
    j = np.minimum(j, max(g_key.size - 1, 0))
    died = (
        (g_key.size > 0)
        & (g_key[g_order][j] == refs.person * span + (when - base))
        & ev.gone_died[g_order][j]
        if g_key.size
        else np.zeros(n, bool)
    )

    code = np.full(n, _CODE[ReferralOutcome.WAITING], dtype=np.int64)
    reason = np.full(n, None, dtype=object)
    closed_day = np.maximum(cal.within(np.maximum(when, 0), rng.random(n)), refs.day)
    treated = (to >= State.TREATMENT_OUTPATIENT) & (to <= State.TREATMENT_RESIDENTIAL)
    admitted = admitted_on < np.iinfo(np.int64).max
    code[treated | admitted] = _CODE[ReferralOutcome.ADMITTED]
    day = np.where(admitted, admitted_on, np.where(treated, closed_day, -1))
    better = to == State.WELL
    pick = rng.random(n)
    low = 0.0
    for outcome, share, text in _BETTER_SPLIT:
        sel = better & ~admitted & (pick >= low) & (pick < low + share)
        code[sel], reason[sel] = _CODE[outcome], text
        low += share
    day = np.where(better & ~admitted, closed_day, day)
    gone = (to == State.LEFT) & ~admitted
    code[gone] = _CODE[ReferralOutcome.WITHDRAWN]
    reason[gone] = np.where(died[gone], REASON_DIED, REASON_MOVED)
    day = np.where(gone, closed_day, day)
    return code, day, reason


__all__ = ["FIRST_APPOINTMENT_DAYS", "Referrals", "gather", "outcomes", "_OUTCOMES"]
