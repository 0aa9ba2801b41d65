"""The population model behind the engine: state arrays and one step of everyone at once.

A step (a month by default) does, in order: (1) skills exposure, (2) each person's transition out of
their current state (one uniform draw per person from their own random stream, competing risks in a
fixed order; dying and moving away compete with every other move), (3) admission from the waiting
list into the treatment hours left free, by priority then time waited, (4) births, moves into the
county and new pregnancies. People are stored in slots; a slot freed by a death or a move is reused by
a later newcomer, who gets a new person number (and stream). No Python loop runs over people, so
Numba is not used (docs/simulation.md, "Performance").

This module holds the arrays and the order of a step; the parts live beside it: transitions in
`_step`, admission and case-management hours in `_staff_time`, ages, births and moves in
`_population`, the step's figures in `_figures`, per-person draws in `_streams`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from onward.sim._figures import STUCK_MONTHS, record_step
from onward.sim._population import (
    FEMALE_SHARE,
    FERTILE_AGES,
    MAX_AGE,
    PREGNANCY_MONTHS,
    births_and_moves,
    draw_ages,
    monthly_death_by_age,
    school_exposure,
)
from onward.sim._recorder import Recorder
from onward.sim._staff_time import admit
from onward.sim._streams import Streams
from onward.sim.parameters import Parameters
from onward.sim.result import ReferralReason
from onward.sim.states import IN_SERVICE, N_STATES, SERVICE_STATES, State

DAYS_PER_MONTH = 365.25 / 12
BURN_IN_MONTHS = 60  # fills waiting list, caseloads and maintenance before the recorded run starts

_W, _U, _Q = State.WELL, State.UNWELL, State.WAITING
_L1, _L2, _L3 = State.TREATMENT_OUTPATIENT, State.TREATMENT_INTENSIVE, State.TREATMENT_RESIDENTIAL
_CM, _RIS, _G, _X = State.CASE_MANAGEMENT_ONLY, State.RECOVERED_IN_SERVICE, State.GRADUATED, State.LEFT
_LEVEL_BY_PRIORITY = np.array([_L3, _L2, _L1], dtype=np.uint8)  # emergent, urgent, routine
_PROGRAM_STATES = np.zeros(N_STATES, dtype=bool)  # states that set the program of an episode
_PROGRAM_STATES[[_L1, _L2, _L3, _CM]] = True
# Purposes of the per-person streams (docs/simulation.md, "Random streams").
_MAIN, _PRIORITY, _PHQ_NEW, _SUD, _PHQ_REC, _DRIFT, _CM_NEED, _START = range(8)
_FIRST_SERVICE = np.uint8(min(SERVICE_STATES))
assert set(SERVICE_STATES) == set(range(int(_FIRST_SERVICE), int(_FIRST_SERVICE) + len(SERVICE_STATES)))


def per_step(p: float, steps_per_month: float) -> float:
    """A monthly probability as a per-step probability: 1 - (1 - p)^(1/steps_per_month)."""
    return float(1.0 - (1.0 - p) ** (1.0 / steps_per_month))


_SLOT_FIELDS: dict[str, tuple[type[np.generic], int | float]] = {
    "state": (np.uint8, int(_X)),
    "pid": (np.int32, -1),
    "key": (np.uint32, 0),
    "birth_year": (np.int16, 0),
    "female": (np.bool_, False),
    "entered": (np.int32, -1),
    "admitted_at": (np.int32, -1),
    "referred_at": (np.int32, -1),
    "episode_at": (np.int32, -1),
    "prog_state": (np.uint8, 0),
    "priority": (np.uint8, 2),
    "ref_reason": (np.uint8, 0),
    "admit_level": (np.uint8, int(_L1)),
    "sud": (np.bool_, False),
    "phq": (np.float32, 0.0),
    "phq_base": (np.float32, 0.0),
    "protected_until": (np.int32, 0),
    "onset_factor": (np.float32, 1.0),
    "pregnant_until": (np.int32, -1),
    "cm_need": (np.float32, 1.0),
    "bound": (np.uint32, 0),
}
"""Per-slot arrays and the value of an empty slot (state LEFT = nobody lives there)."""


def _phq_at_caseness(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """PHQ-9 at caseness from a standard normal draw (Model._phq_unwell says why)."""
    return np.clip(np.rint(15.5 + 4.0 * z), 10, 27).astype(np.float32)


class Model:
    """Arrays of one population and the per-step parameters; `step` advances everyone once."""

    state: npt.NDArray[np.uint8]
    pid: npt.NDArray[np.int32]
    key: npt.NDArray[np.uint32]
    birth_year: npt.NDArray[np.int16]
    female: npt.NDArray[np.bool_]
    entered: npt.NDArray[np.int32]
    admitted_at: npt.NDArray[np.int32]
    referred_at: npt.NDArray[np.int32]
    episode_at: npt.NDArray[np.int32]
    prog_state: npt.NDArray[np.uint8]
    priority: npt.NDArray[np.uint8]
    ref_reason: npt.NDArray[np.uint8]
    admit_level: npt.NDArray[np.uint8]
    sud: npt.NDArray[np.bool_]
    phq: npt.NDArray[np.float32]
    phq_base: npt.NDArray[np.float32]
    protected_until: npt.NDArray[np.int32]
    onset_factor: npt.NDArray[np.float32]
    pregnant_until: npt.NDArray[np.int32]
    cm_need: npt.NDArray[np.float32]
    bound: npt.NDArray[np.uint32]  # a person can move this step only when their bits fall below this

    def __init__(self, params: Parameters, *, people: int, seed: int, spm: float, start_year: int) -> None:
        self.p, self.n, self.spm = params, people, spm
        self.rng = np.random.default_rng(seed)  # population-level draws: counts and picks
        self.streams = Streams(seed)
        self.start_year = start_year
        self.skills = params.school_coverage > 0 or params.prenatal_coverage > 0
        self.steps_per_year = max(1, round(12 * spm))
        self.cap = 0
        self._grow(people + max(64, people // 50))
        self.rec = Recorder()
        self.t_global = 0  # steps since the burn-in started (for skills phase-in and protection)
        self.t_rec = 0
        ages = draw_ages(self.rng, people)
        female = self.rng.random(people) < FEMALE_SHARE
        self.free = np.arange(self.cap - 1, people - 1, -1)  # a stack: the next slot to fill is last
        keys = self._settle(slice(0, people), start_year - ages, female)
        u = self.streams.uniform(keys, -1, _START)
        unwell = np.flatnonzero(u < params.prevalence)
        self.state[:people] = _W
        self.state[unwell] = _U
        self.phq[unwell] = self._phq_unwell(unwell)
        self.counts = np.bincount(self.state, minlength=N_STATES)  # people per state, kept up to date
        self.referrals_this_step = 0
        self.departed = 0  # people who died or moved away since the recorded run started
        self.due: dict[int, tuple[npt.NDArray[np.intp], npt.NDArray[np.int32]]] = {}
        self.q = {
            name: per_step(getattr(params, name), spm)
            for name in (
                "incidence",
                "remission_untreated",
                "help_seeking",
                "leave",
                "move_in",
                "treatment_recovery",
                "dropout",
                "step_down_intensive",
                "to_case_management",
                "step_up",
                "cm_step_up",
                "cm_recovery",
                "cm_disengage",
                "relapse_in_service",
                "relapse_after_discharge",
                "relapse_sud",
                "maintenance_discharge",
                "fertility",
            )
        }

        def steps(months: float) -> int:
            return max(1, round(months * spm))

        self.course = steps(params.course_months)
        self.intensive_course = steps(params.intensive_course_months)
        self.residential_stay = steps(params.residential_stay_months)
        self.pregnancy = steps(PREGNANCY_MONTHS)
        self.graduate_after = steps(params.graduate_after_months) if params.graduate_after_months > 0 else 0
        self.cm_review = steps(params.cm_review_months) if params.cm_review_months > 0 else 0
        self.stuck_steps = round(STUCK_MONTHS * spm)
        self.death = monthly_death_by_age(params.mortality_scale, spm)
        self._death32 = self.death.astype(np.float32)
        self._bound_flat = self._bounds().ravel()
        self._set_bounds(slice(None))
        staff = params.staff_hours_per_1000 * people / 1000.0
        self.treatment_capacity = staff * (1.0 - params.case_management_share)
        self.cm_capacity = staff * params.case_management_share
        self.level_hours = np.zeros(N_STATES)
        self.level_hours[[_L1, _L2, _L3, _RIS]] = (
            params.hours_outpatient,
            params.hours_intensive,
            params.hours_residential,
            params.hours_maintenance,
        )
        self.cm_coverage = params.cm_support_share
        self.fertile = self._count_fertile()

    # -- slots and people ---------------------------------------------------------------------
    def _grow(self, cap: int) -> None:
        """Make room for `cap` slots (new slots are empty)."""
        extra = cap - self.cap
        # All fields share one block: one large allocation is backed by huge pages where the system
        # offers them, so filling a million slots costs a few hundred page faults, not tens of thousands.
        sizes = [-(-cap * np.dtype(dtype).itemsize // 64) * 64 for dtype, _ in _SLOT_FIELDS.values()]
        block = np.empty(sum(sizes), dtype=np.uint8)
        at = 0
        for size, (name, (dtype, empty)) in zip(sizes, _SLOT_FIELDS.items(), strict=True):
            field = block[at : at + cap * np.dtype(dtype).itemsize].view(dtype)
            at += size
            if self.cap:
                field[: self.cap] = getattr(self, name)
            field[self.cap :] = empty
            setattr(self, name, field)
        if self.cap:
            self.free = np.concatenate((np.arange(cap - 1, self.cap - 1, -1), self.free))
            self.counts[_X] += extra
        self.cap = cap

    def _settle(
        self, slots: npt.NDArray[np.intp] | slice, birth_year: npt.NDArray[Any], female: npt.NDArray[Any]
    ) -> npt.NDArray[np.uint32]:
        """New people in empty slots: fresh person numbers, streams and attributes; returns their keys.

        Only the fields read before they are next written are reset (the rest are set on referral,
        admission or onset).
        """
        pids = self.rec.new_people(birth_year, female, self.t_global)
        keys = self.streams.keys(pids)
        self.pid[slots] = pids
        self.key[slots] = keys
        self.birth_year[slots] = birth_year
        self.female[slots] = female
        if self.skills:  # (read only when a skills programme runs)
            self.protected_until[slots] = 0
        self.pregnant_until[slots] = -1
        self.sud[slots] = self.streams.uniform(keys, -1, _SUD) < self.p.sud_share
        self.cm_need[slots] = self.streams.uniform(keys, -1, _CM_NEED)
        return keys

    def _age_of(self, slots: npt.NDArray[np.intp] | slice) -> npt.NDArray[np.intp]:
        """Ages in whole years, as indices (NumPy gathers fastest with its own index type)."""
        age = np.subtract(self.year, self.birth_year[slots], dtype=np.intp)
        return np.clip(age, 0, MAX_AGE, out=age)

    def _death_risk(self, slots: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        """Each person's chance of dying this step, at their age."""
        risk: npt.NDArray[np.float32] = self._death32[self._age_of(slots)]
        return risk

    def _set_bounds(self, slots: npt.NDArray[np.intp] | slice) -> None:
        """The bound of each person's draw, by their state and age (Model._bounds)."""
        row = self._age_of(slots)
        row += self.state[slots] * np.intp(MAX_AGE + 1)  # row of the state in the flat table
        self.bound[slots] = self._bound_flat.take(row)

    def _bounds(self) -> npt.NDArray[np.uint32]:
        """[state, age] → the largest 32-bit draw that can move a person: the sum of the state's risks.

        Most residents are well, unwell, graduated or in maintenance and stay so; only people whose
        draw falls below their bound are grouped and looked at. People waiting (for admission) and in
        treatment or case management (their symptoms change every step) always are, and so is
        maintenance when it ends after a set time; empty slots never.
        """
        q = self.q
        death = self._death32.astype(np.float64)  # the risk each person's draw is compared with
        top = np.full((N_STATES, death.size), 2.0**32)
        top[_W] = (q["incidence"] + q["leave"] + death) * 2.0**32
        top[_U] = (q["help_seeking"] + q["remission_untreated"] + q["leave"] + death) * 2.0**32
        relapse = max(q["relapse_sud"], q["relapse_after_discharge"])
        top[_G] = (relapse + q["leave"] + death) * 2.0**32
        if not self.graduate_after:
            top[_RIS] = (q["relapse_in_service"] + q["maintenance_discharge"] + q["leave"] + death) * 2.0**32
        top[_X] = 0.0
        table: npt.NDArray[np.uint32] = np.minimum(np.ceil(top), 2.0**32 - 1).astype(np.uint32)
        return table

    def _enter(
        self, birth_year: npt.NDArray[Any], female: npt.NDArray[Any], unwell_share: npt.NDArray[np.float64]
    ) -> int:
        """Newcomers (born here or moved in) take empty slots; returns how many came."""
        k = birth_year.size
        if k == 0:
            return 0
        if self.free.size < k:
            self._grow(self.cap + max(k, self.n // 20))
        slots = self.free[-k:][::-1].copy()
        self.free = self.free[:-k]
        keys = self._settle(slots, birth_year, female)
        ill = self.streams.uniform(keys, -1, _START) < unwell_share
        state = np.where(ill, _U, _W).astype(np.uint8)
        self.state[slots] = state
        row = np.clip(self.year - birth_year, 0, MAX_AGE).astype(np.intp)  # as _set_bounds, from values
        row += state * np.intp(MAX_AGE + 1)
        self.bound[slots] = self._bound_flat.take(row)
        self.phq[slots[ill]] = _phq_at_caseness(self.streams.normal(keys[ill], self.t_global, _PHQ_NEW))
        self.counts[_X] -= k
        self.counts[_U] += int(ill.sum())
        self.counts[_W] += k - int(ill.sum())
        return k

    def _count_fertile(self) -> int:
        lo, hi = FERTILE_AGES
        age = (self.year - lo) - self.birth_year  # int16: ages lo..hi-1 become 0..hi-lo-1
        fertile = age.view(np.uint16) < np.uint16(hi - lo)
        return int(np.count_nonzero(fertile & self.female & (self.state != _X)))

    @property
    def year(self) -> int:
        return self.start_year + self.t_global // self.steps_per_year

    # -- draws ----------------------------------------------------------------------------------
    def _uniform(self, idx: npt.NDArray[np.intp], purpose: int) -> npt.NDArray[np.float64]:
        return self.streams.uniform(self.key[idx], self.t_global, purpose)

    def _phq_unwell(self, idx: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        """PHQ-9 of a person at caseness: moderate to severe (NHS caseness >= 10; bands of Kroenke 2001).

        Mean 15.5, SD 4 is an assumption: about the middle of the moderate-to-severe bands.
        """
        return _phq_at_caseness(self.streams.normal(self.key[idx], self.t_global, _PHQ_NEW))

    def _phq_recovered(self, idx: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        """PHQ-9 after recovery: below caseness (< 10), mostly minimal or mild (assumption: N(4.5, 2))."""
        z = self.streams.normal(self.key[idx], self.t_global, _PHQ_REC)
        return np.clip(np.rint(4.5 + 2.0 * z), 0, 9).astype(np.float32)

    def _new_case(self, idx: npt.NDArray[np.intp]) -> None:
        keys = self.key[idx]
        z = self.streams.normal(keys, self.t_global, _PHQ_NEW)
        self.phq[idx] = _phq_at_caseness(z)
        self.sud[idx] = self.streams.uniform(keys, self.t_global, _SUD) < self.p.sud_share

    def _refer(self, idx: npt.NDArray[np.intp], priority: npt.NDArray[np.uint8] | int, reason: int) -> None:
        self.priority[idx] = priority
        # New referrals start at the level their priority needs; returning people resume outpatient care.
        self.admit_level[idx] = _LEVEL_BY_PRIORITY[priority] if reason == ReferralReason.NEW else _L1
        self.phq_base[idx] = self.phq[idx]
        self.referred_at[idx] = self.t_global
        self.ref_reason[idx] = reason
        self.referrals_this_step += idx.size
        if self.rec.on and idx.size:
            pr = np.broadcast_to(np.asarray(priority, dtype=np.uint8), idx.shape)
            self.rec.referral(self.t_rec, self.pid[idx], pr, reason, self.sud[idx])

    def _coverage(self, target: float) -> float:
        phase = max(1.0, self.p.skills_phase_in_months * self.spm)
        return target * min(1.0, (self.t_global + 1) / phase)

    # -- one step -------------------------------------------------------------------------------
    def step(self, out: dict[str, npt.NDArray[np.float64]] | None, t: int) -> None:
        from onward.sim._step import transitions

        if self.t_global % self.steps_per_year == 0:
            self._set_bounds(slice(None))  # everyone is a year older
        if self.skills:
            school_exposure(self)
        self.t_rec, self.referrals_this_step = t, 0
        s = self.state
        done = transitions(self)
        new, others, flows, dead, died = done.new, done.others, done.flows, done.gone, done.died
        changed = np.concatenate(done.moved) if done.moved else np.zeros(0, dtype=np.intp)
        timed = np.concatenate(done.timed) if done.timed else np.zeros(0, dtype=np.intp)
        self.entered[timed] = self.t_global  # (well, unwell, graduated and gone never read it)
        # only the people looked at (`others`) can have moved; their new states are gathered once
        new_others = new[others]
        counts = self.counts - done.before + np.bincount(new_others, minlength=N_STATES)
        admitted, wait_steps, treat_hours = admit(self, new, others, new_others, counts)
        # The program of an episode changes when the person moves to another level of care or to
        # case management (maintenance stays in the program where the person was last treated).
        prog = timed[_PROGRAM_STATES[new[timed]] & (new[timed] != self.prog_state[timed])]
        self.episode_at[prog] = self.t_global
        self.prog_state[prog] = new[prog]
        self.counts = counts
        self.state = new
        # Their state, so their bound, changed (admission, from waiting to treatment, keeps it: both
        # are always looked at).
        self._set_bounds(changed)
        self.rec.gone(t, self.pid[dead], died, self.t_global)
        self.departed += dead.size
        population = births_and_moves(self)
        self.free = np.concatenate((dead[::-1], self.free))  # freed slots are reused from later steps
        if out is None:
            return
        changed = np.concatenate((changed, admitted[s[admitted] == _Q]))
        old_in, new_in = IN_SERVICE[s[changed]], IN_SERVICE[new[changed]]  # nobody else moved
        flows |= population
        flows["deaths"] = int(np.count_nonzero(died))
        flows["moves_out"] = int(dead.size - flows["deaths"])
        flows["admissions"] = int(np.count_nonzero(~old_in & new_in))
        flows["exits"] = int(np.count_nonzero(old_in & ~new_in))
        flows["queue_admissions"] = admitted.size
        svc = self._in_service()
        record_step(self, out, t, s, svc, changed, flows, wait_steps, treat_hours)

    def _in_service(self) -> npt.NDArray[np.intp]:
        """Everyone with an open episode, ascending (maintenance is not always looked at in a step)."""
        return np.flatnonzero(np.subtract(self.state, _FIRST_SERVICE, dtype=np.uint8) < len(SERVICE_STATES))


__all__ = ["BURN_IN_MONTHS", "DAYS_PER_MONTH", "Model", "per_step"]
