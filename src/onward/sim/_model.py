"""The population model behind the engine: state arrays and one step of everyone at once.

A step (a month by default) does, in order: (1) skills exposure, (2) each person's transition out of
their current state (one uniform draw per person, competing risks in a fixed order), (3) admission
from the waiting list into the treatment hours left free, by priority then time waited. No Python
loop runs over people, so Numba is not used (docs/simulation.md, "Performance").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from onward.sim.parameters import Parameters
from onward.sim.result import Population, ReferralReason
from onward.sim.states import IN_SERVICE, N_STATES, State

DAYS_PER_MONTH = 365.25 / 12
RELIABLE_CHANGE_PHQ9 = 6  # NHS Talking Therapies reliable change on PHQ-9 (docs/references.md)
STUCK_MONTHS = 12  # docs/metrics.md: open >= 365 days without reliable improvement
BURN_IN_MONTHS = 60  # fills waiting list, caseloads and maintenance before the recorded run starts
CM_STRETCH = 3.0  # assumption: case management expands to at most 3x its basic hours per person

# US age structure (Census 2020: under 5 ≈ 6 %, 5-17 ≈ 16.5 %, 18-64 ≈ 61 %, 65+ ≈ 16.5 %).
_AGE_BANDS = np.array([[0, 5], [5, 18], [18, 45], [45, 65], [65, 90]])
_AGE_SHARES = np.array([0.06, 0.165, 0.36, 0.25, 0.165])
_FEMALE_SHARE = 0.505  # Census 2020

_W, _U, _Q = State.WELL, State.UNWELL, State.WAITING
_L1, _L2, _L3 = State.TREATMENT_OUTPATIENT, State.TREATMENT_INTENSIVE, State.TREATMENT_RESIDENTIAL
_CM, _RIS, _G, _X = State.CASE_MANAGEMENT_ONLY, State.RECOVERED_IN_SERVICE, State.GRADUATED, State.LEFT
_LEVEL_BY_PRIORITY = np.array([_L3, _L2, _L1], dtype=np.uint8)  # emergent, urgent, routine


def per_step(p: float, steps_per_month: float) -> float:
    """A monthly probability as a per-step probability: 1 - (1 - p)^(1/steps_per_month)."""
    return float(1.0 - (1.0 - p) ** (1.0 / steps_per_month))


def _choose(u: npt.NDArray[np.float32], probs: list[npt.NDArray[np.float64] | float]) -> npt.NDArray[np.int8]:
    """Competing risks with one uniform: outcome j when sum(p[:j]) <= u < sum(p[:j+1]); -1 = stay."""
    out = np.full(u.shape, -1, dtype=np.int8)
    low: npt.NDArray[np.float64] | float = 0.0
    for j, p in enumerate(probs):
        high = low + p
        out[(u >= low) & (u < high)] = j
        low = high
    return out


class Model:
    """Arrays of one population and the per-step parameters; `step` advances everyone once."""

    def __init__(self, params: Parameters, *, people: int, seed: int, spm: float, start_year: int) -> None:
        self.p, self.n, self.spm = params, people, spm
        self.rng = np.random.default_rng(seed)
        rng = self.rng
        band = np.searchsorted(np.cumsum(_AGE_SHARES), rng.random(people) * _AGE_SHARES.sum(), side="right")
        low, high = _AGE_BANDS[band, 0], _AGE_BANDS[band, 1]
        age = low + np.floor(rng.random(people) * (high - low)).astype(np.int64)
        self.population = Population(
            birth_year=(start_year - age).astype(np.int16),
            female=rng.random(people) < _FEMALE_SHARE,
            start_year=start_year,
        )
        self.state = np.where(rng.random(people) < params.prevalence, _U, _W).astype(np.uint8)
        self.counts = np.bincount(self.state, minlength=N_STATES)  # people per state, kept up to date
        # Step (t_global) in which each person's current state began, and their admission step: time in
        # state is t - entered - 1 at the start of step t, so nothing needs updating every step.
        self.entered = np.full(people, -1, dtype=np.int32)
        self.admitted_at = np.full(people, -1, dtype=np.int32)
        self.priority = np.full(people, 2, dtype=np.uint8)
        self.admit_level = np.full(people, _L1, dtype=np.uint8)  # treatment state on admission
        self.sud = rng.random(people) < params.sud_share
        self.phq = np.zeros(people, dtype=np.float32)
        self.phq_base = np.zeros(people, dtype=np.float32)
        unwell = self.state == _U
        self.phq[unwell] = self._phq_unwell(int(unwell.sum()))
        self.protected_until = np.zeros(people, dtype=np.int32)
        self.onset_factor = np.ones(people, dtype=np.float32)
        self.skills = params.school_coverage > 0 or params.prenatal_coverage > 0
        self.t_global = 0  # steps since the burn-in started (for skills phase-in and protection)
        self.rec: dict[str, list[tuple[npt.NDArray[Any], ...]]] | None = None
        self.t_rec = 0
        self.referrals_this_step = 0
        self.q = {
            name: per_step(getattr(params, name), spm)
            for name in (
                "incidence",
                "remission_untreated",
                "help_seeking",
                "leave",
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
        self.graduate_after = steps(params.graduate_after_months) if params.graduate_after_months > 0 else 0
        self.cm_review = steps(params.cm_review_months) if params.cm_review_months > 0 else 0
        self.stuck_steps = round(STUCK_MONTHS * spm)
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

    # -- draws ----------------------------------------------------------------------------------
    def _phq_unwell(self, k: int) -> npt.NDArray[np.float32]:
        """PHQ-9 of a person at caseness: moderate to severe (NHS caseness >= 10; bands of Kroenke 2001).

        Mean 15.5, SD 4 is an assumption: about the middle of the moderate-to-severe bands.
        """
        return np.clip(np.rint(self.rng.normal(15.5, 4.0, k)), 10, 27).astype(np.float32)

    def _phq_recovered(self, k: int) -> npt.NDArray[np.float32]:
        """PHQ-9 after recovery: below caseness (< 10), mostly minimal or mild (assumption: N(4.5, 2))."""
        return np.clip(np.rint(self.rng.normal(4.5, 2.0, k)), 0, 9).astype(np.float32)

    def _new_case(self, idx: npt.NDArray[np.intp]) -> None:
        self.phq[idx] = self._phq_unwell(idx.size)
        self.sud[idx] = self.rng.random(idx.size) < self.p.sud_share

    def _refer(self, idx: npt.NDArray[np.intp], priority: npt.NDArray[np.uint8] | int, reason: int) -> None:
        self.priority[idx] = priority
        # New referrals start at the level their priority needs; returning people resume outpatient care.
        self.admit_level[idx] = _LEVEL_BY_PRIORITY[priority] if reason == ReferralReason.NEW else _L1
        self.phq_base[idx] = self.phq[idx]
        self.referrals_this_step += idx.size
        if self.rec is not None and idx.size:
            pr = np.broadcast_to(np.asarray(priority, dtype=np.uint8), idx.shape)
            self.rec["ref"].append(
                (
                    np.full(idx.size, self.t_rec, np.int32),
                    idx.astype(np.int32),
                    pr.copy(),
                    np.full(idx.size, reason, np.uint8),
                    self.sud[idx].copy(),
                )
            )

    def _coverage(self, target: float) -> float:
        phase = max(1.0, self.p.skills_phase_in_months * self.spm)
        return target * min(1.0, (self.t_global + 1) / phase)

    # -- one step -------------------------------------------------------------------------------
    def _skills(self) -> None:
        p, t, rng = self.p, self.t_global, self.rng
        year_now = self.population.start_year + t / (12 * self.spm)
        age = year_now - self.population.birth_year
        free = self.protected_until <= t
        steps_per_year = round(12 * self.spm)
        if p.school_coverage > 0 and t % steps_per_year == 0:
            school = np.flatnonzero(free & (age >= 5) & (age < 19))
            hit = school[rng.random(school.size) < self._coverage(p.school_coverage)]
            self.protected_until[hit] = t + round(p.school_protection_months * self.spm)
            self.onset_factor[hit] = 1.0 - p.school_incidence_reduction
        if p.prenatal_coverage > 0:
            women = np.flatnonzero(free & self.population.female & (age >= 15) & (age < 45))
            hit = women[rng.random(women.size) < self.q["fertility"] * self._coverage(p.prenatal_coverage)]
            self.protected_until[hit] = t + round(p.prenatal_protection_months * self.spm)
            self.onset_factor[hit] = 1.0 - p.prenatal_incidence_reduction

    def step(self, out: dict[str, npt.NDArray[np.float64]] | None, t: int) -> None:
        q, rng, s = self.q, self.rng, self.state
        if self.skills:
            self._skills()
        u = rng.random(self.n, dtype=np.float32)
        new = s.copy()
        # Group people by state: most are well, so only the others need sorting.
        # Only people neither well nor gone are grouped (states 1-8: the uint8 subtraction wraps 0 to 255).
        others = np.flatnonzero((s - np.uint8(1)) < np.uint8(_X - 1))
        order = others[np.argsort(s[others], kind="stable")]
        bounds = np.concatenate(([0], np.cumsum(np.bincount(s[order], minlength=N_STATES))))
        group = [order[bounds[k] : bounds[k + 1]] for k in range(N_STATES)]
        moved: list[npt.NDArray[np.intp]] = []
        flows = dict.fromkeys(
            ("new_cases", "new_cases_school_age", "recoveries", "graduations", "relapses"), 0
        )
        self.t_rec, self.referrals_this_step = t, 0

        def move(
            idx: npt.NDArray[np.intp], outcome: npt.NDArray[np.int8], j: int, to: State
        ) -> npt.NDArray[np.intp]:
            chosen: npt.NDArray[np.intp] = idx[outcome == j]
            new[chosen] = to
            moved.append(chosen)
            return chosen

        # well: new case, leave (only people whose draw is below the largest total risk can move)
        g = np.flatnonzero(u < q["incidence"] + q["leave"])
        g = g[s[g] == _W]
        onset: npt.NDArray[np.float64] | float = q["incidence"]
        if self.skills:
            protected = self.protected_until[g] > self.t_global
            onset = np.where(protected, q["incidence"] * self.onset_factor[g], q["incidence"])
        o = _choose(u[g], [onset, q["leave"]])
        cases = move(g, o, 0, _U)
        self._new_case(cases)
        flows["new_cases"] = cases.size
        year_now = self.population.start_year + self.t_global / (12 * self.spm)
        age = year_now - self.population.birth_year[cases]
        flows["new_cases_school_age"] = int(
            np.count_nonzero((age >= 5) & (age < 19))
        )  # the school lever's ages
        well_left = move(g, o, 1, _X).size
        # unwell, not in contact: referral, remission, leave
        g = group[_U]
        g = g[u[g] < q["help_seeking"] + q["remission_untreated"] + q["leave"]]  # the rest stay
        o = _choose(u[g], [q["help_seeking"], q["remission_untreated"], q["leave"]])
        ref = move(g, o, 0, _Q)
        pr = np.searchsorted(
            np.cumsum([self.p.emergent_share, self.p.urgent_share]), rng.random(ref.size), side="right"
        ).astype(np.uint8)
        self._refer(ref, pr, ReferralReason.NEW)
        move(g, o, 1, _W)
        move(g, o, 2, _X)
        # waiting: remission while waiting, leave
        g = group[_Q]
        o = _choose(u[g], [q["remission_untreated"], q["leave"]])
        move(g, o, 0, _W)
        move(g, o, 1, _X)
        # treatment, by level
        for level in (_L1, _L2, _L3):
            g = group[level]
            past = (self.t_global - self.entered[g]) >= {
                _L1: self.course,
                _L2: self.intensive_course,
                _L3: self.residential_stay,
            }[level]
            risks: list[npt.NDArray[np.float64] | float] = [q["treatment_recovery"], q["dropout"], q["leave"]]
            if level == _L1:
                risks += [np.where(past, q["to_case_management"], 0.0), np.where(past, q["step_up"], 0.0)]
            elif level == _L2:
                risks += [np.where(past, q["step_down_intensive"], 0.0)]
            else:
                risks += [np.where(past, 1.0, 0.0)]
            o = _choose(u[g], risks)
            rec = move(g, o, 0, _RIS)
            self.phq[rec] = self._phq_recovered(rec.size)
            flows["recoveries"] += rec.size
            move(g, o, 1, _U)
            move(g, o, 2, _X)
            if level == _L1:
                move(g, o, 3, _CM)
                move(g, o, 4, _L2)
            else:
                move(g, o, 3, _L1)
            stay = g[o == -1]
            # Non-responders improve a little (assumption: −0.6 ± 1.5 points a month), far below the
            # 6-point reliable change of NHS Talking Therapies.
            drift = rng.normal(-0.6 / self.spm, 1.5 / math.sqrt(self.spm), stay.size)
            self.phq[stay] = np.clip(self.phq[stay] + drift, 0, 27)
        # case management only: remission, disengage, step up, leave
        g = group[_CM]
        in_cm = self.t_global - self.entered[g]
        review = (in_cm >= self.cm_review) if self.cm_review else np.zeros(g.size, bool)
        risks = [q["cm_recovery"], q["cm_disengage"], q["cm_step_up"], q["leave"], np.where(review, 1.0, 0.0)]
        o = _choose(u[g], risks)
        rec = move(g, o, 0, _RIS)
        self.phq[rec] = self._phq_recovered(rec.size)
        flows["recoveries"] += rec.size
        move(g, o, 1, _U)
        self._refer(np.concatenate((move(g, o, 2, _Q), move(g, o, 4, _Q))), 1, ReferralReason.STEP_UP)
        move(g, o, 3, _X)
        stay = g[o == -1]
        self.phq[stay] = np.clip(
            self.phq[stay] + rng.normal(0.0, 1.0 / math.sqrt(self.spm), stay.size), 0, 27
        )
        # recovered in service: relapse, discharge, leave; built to be left graduates after N stable steps
        g = group[_RIS]
        stable = self.t_global - self.entered[g]
        due = (stable >= self.graduate_after) if self.graduate_after else np.zeros(g.size, bool)
        o = _choose(
            u[g], [q["relapse_in_service"], q["maintenance_discharge"], q["leave"], np.where(due, 1.0, 0.0)]
        )
        rel = move(g, o, 0, _L1)
        self.phq[rel] = self._phq_unwell(rel.size)
        flows["relapses"] += rel.size
        flows["graduations"] += move(g, o, 1, _G).size + move(g, o, 3, _G).size
        move(g, o, 2, _X)
        # graduated: relapse (fast return or not), leave
        g = group[_G]
        g = g[u[g] < max(q["relapse_sud"], q["relapse_after_discharge"]) + q["leave"]]  # the rest stay
        relapse = np.where(self.sud[g], q["relapse_sud"], q["relapse_after_discharge"])
        fast = self.p.fast_return_share
        o = _choose(u[g], [relapse * fast, relapse * (1.0 - fast), q["leave"]])
        back = move(g, o, 0, _Q)
        self.phq[back] = self._phq_unwell(back.size)
        self._refer(back, 1, ReferralReason.FAST_RETURN)
        unwell = move(g, o, 1, _U)
        self.phq[unwell] = self._phq_unwell(unwell.size)
        flows["relapses"] += back.size + unwell.size
        move(g, o, 2, _X)

        changed = np.concatenate(moved)
        self.entered[changed] = self.t_global
        # Counts after the transitions: `others` were neither well nor gone at the start; the well stayed
        # well or moved, and the gone stay gone.
        counts = np.bincount(new[others], minlength=N_STATES)
        counts[_W] += self.counts[_W] - cases.size - well_left
        counts[_U] += cases.size
        counts[_X] += self.counts[_X] + well_left
        admitted, wait_steps, treat_hours = self._admit(new, others, counts)
        self.counts = counts
        self.state = new
        if out is None:
            return
        # Admitted people who were already waiting did not move before; everyone else who moved did.
        changed = np.concatenate((changed, admitted[s[admitted] == _Q]))
        self._record_step(
            out, t, s, new, others, counts, changed, flows, admitted.size, wait_steps, treat_hours
        )

    def _admit(
        self, new: npt.NDArray[np.uint8], others: npt.NDArray[np.intp], counts: npt.NDArray[np.intp]
    ) -> tuple[npt.NDArray[np.intp], int, float]:
        """Admit from the waiting list into free treatment hours: priority first, then longest wait.

        Emergent referrals are always admitted (crisis beds overflow rather than turn people away).
        Updates `counts` in place. Returns (people admitted, total steps they waited, treatment hours in use).
        """
        used = float(counts @ self.level_hours)
        free = self.treatment_capacity - used
        waiting = others[new[others] == _Q]  # nobody goes from well to waiting in one step
        if waiting.size == 0:
            return waiting, 0, used
        order = np.lexsort((self.entered[waiting], self.priority[waiting]))
        ranked = waiting[order]
        need = np.cumsum(self.level_hours[self.admit_level[ranked]])
        take = max(
            int(np.searchsorted(need, free, side="right")), int(np.count_nonzero(self.priority[ranked] == 0))
        )
        admitted = ranked[:take]
        new[admitted] = self.admit_level[admitted]
        t = self.t_global
        waited = int((t - self.entered[admitted]).sum())
        self.entered[admitted] = t
        self.admitted_at[admitted] = t  # admission is the only way into service from outside
        np.add.at(counts, new[admitted], 1)
        counts[_Q] -= admitted.size
        self.phq_base[admitted] = self.phq[admitted]
        used += float(need[take - 1]) if take else 0.0
        return admitted, waited, used

    def _record_step(
        self,
        out: dict[str, npt.NDArray[np.float64]],
        t: int,
        old: npt.NDArray[np.uint8],
        new: npt.NDArray[np.uint8],
        others: npt.NDArray[np.intp],
        counts: npt.NDArray[np.intp],
        changed: npt.NDArray[np.intp],
        flows: dict[str, int],
        admissions: int,
        wait_steps: int,
        treat_hours: float,
    ) -> None:
        for key, state in (
            ("well", _W),
            ("unwell", _U),
            ("waiting", _Q),
            ("treatment_outpatient", _L1),
            ("treatment_intensive", _L2),
            ("treatment_residential", _L3),
            ("case_management_only", _CM),
            ("recovered_in_service", _RIS),
            ("graduated", _G),
            ("left", _X),
        ):
            out[key][t] = counts[state]
        out["in_treatment"][t] = counts[[_L1, _L2, _L3]].sum()
        out["month"][t] = (t + 1) / self.spm
        for key, value in flows.items():
            out[key][t] = value
        out["referrals"][t] = self.referrals_this_step
        out["admissions"][t] = admissions
        out["exits"][t] = np.count_nonzero(IN_SERVICE[old[changed]] & ~IN_SERVICE[new[changed]])
        out["wait_steps"][t] = wait_steps
        out["treatment_hours"][t] = treat_hours / self.spm
        cm_demand = (
            counts[_CM] * self.p.hours_case_management
            + counts[_RIS] * self.p.hours_maintenance_case_management
        )
        # Case-management time fills the hours set aside for it (caseloads absorb the time), up to
        # CM_STRETCH times the basic need of the people in case management or maintenance.
        out["case_management_hours"][t] = min(self.cm_capacity, CM_STRETCH * cm_demand) / self.spm
        out["skills_protected"][t] = (
            np.count_nonzero(self.protected_until > self.t_global) if self.skills else 0
        )
        svc = others[IN_SERVICE[new[others]]]  # nobody goes from well into service in one step
        out["stuck"][t] = np.count_nonzero(
            (self.t_global - self.admitted_at[svc] >= self.stuck_steps)
            & (np.rint(self.phq_base[svc] - self.phq[svc]) < RELIABLE_CHANGE_PHQ9)
        )
        if self.rec is not None:
            moved = changed
            self.rec["chg"].append(
                (np.full(moved.size, t, np.int32), moved.astype(np.int32), old[moved], new[moved])
            )
            self.rec["svc"].append(
                (
                    np.full(svc.size, t, np.int32),
                    svc.astype(np.int32),
                    new[svc],
                    np.rint(self.phq[svc]).astype(np.uint8),
                    self.sud[svc].copy(),
                    np.rint(self.phq_base[svc]).astype(np.uint8),
                )
            )
