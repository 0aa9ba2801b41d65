"""Who lives in the county: ages, deaths by age, births after pregnancies, moves in and out.

The population is open: residents die at US age-specific rates, move out and in at the county-level
migration rate, and women aged 15-44 become pregnant at the US general fertility rate; a birth follows
nine months later and the newborn joins the county. Everyone ages with the calendar, so children age
into and through school. Sources are in docs/references.md ("Simulation defaults").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from onward.sim.states import State

if TYPE_CHECKING:
    from onward.sim._model import Model

_X = State.LEFT
_SCHOOL_PURPOSE, _PRENATAL_PURPOSE = 8, 9  # per-person stream purposes (onward.sim._model uses 0-7)

# US age structure (Census 2020: under 5 ≈ 6 %, 5-17 ≈ 16.5 %, 18-64 ≈ 61 %, 65+ ≈ 16.5 %).
AGE_BANDS = np.array([[0, 5], [5, 18], [18, 45], [45, 65], [65, 90]])
AGE_SHARES = np.array([0.06, 0.165, 0.36, 0.25, 0.165])
FEMALE_SHARE = 0.505  # Census 2020
FEMALE_AT_BIRTH = 0.488  # CDC NCHS: about 1,048 boys per 1,000 girls born
PREGNANCY_MONTHS = 9.0
FERTILE_AGES = (15, 45)  # the general fertility rate's denominator: women aged 15-44
MAX_AGE = 110

# Deaths per 100,000 a year by age (lower bound of each band), CDC NCHS, Mortality in the United
# States 2023 (age-specific death rates; docs/references.md).
_DEATH_BANDS = (
    (0, 560.0),
    (1, 23.0),
    (5, 14.0),
    (15, 78.0),
    (25, 158.0),
    (35, 240.0),
    (45, 410.0),
    (55, 880.0),
    (65, 1740.0),
    (75, 4000.0),
    (85, 13200.0),
)


def annual_death_rate_by_age() -> npt.NDArray[np.float64]:
    """Deaths per person-year at each age 0..MAX_AGE."""
    rate = np.zeros(MAX_AGE + 1)
    for low, per_100k in _DEATH_BANDS:
        rate[low:] = per_100k / 100_000
    return rate


def monthly_death_by_age(scale: float, steps_per_month: float) -> npt.NDArray[np.float64]:
    """Chance of dying in one step at each age: 1 - (1 - annual)^(1 / steps per year), times `scale`."""
    annual = np.clip(annual_death_rate_by_age() * scale, 0.0, 1.0)
    out: npt.NDArray[np.float64] = 1.0 - (1.0 - annual) ** (1.0 / (12.0 * steps_per_month))
    return out


def draw_ages(rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
    """Ages of `n` residents from the Census 2020 age structure (uniform within each band)."""
    u = rng.random(n)
    u *= AGE_SHARES.sum()
    band = np.searchsorted(np.cumsum(AGE_SHARES), u, side="right")
    bands = AGE_BANDS.astype(np.int16)  # (smaller temporaries than int64 for a million people)
    low = bands[band, 0]
    u = rng.random(n)
    u *= bands[band, 1] - low
    ages: npt.NDArray[np.int64] = low + np.floor(u, out=u).astype(np.int64)
    return ages


def pick_eligible(
    rng: np.random.Generator,
    k: int,
    size: int,
    accept: Callable[[npt.NDArray[np.intp]], npt.NDArray[np.bool_]],
    *,
    tries: int = 8,
) -> npt.NDArray[np.intp]:
    """`k` distinct indices below `size` that `accept`, drawn uniformly by rejection (no full pass)."""
    picked: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)
    if k <= 0 or size == 0:
        return picked
    for _ in range(tries):
        cand = rng.integers(0, size, size=8 * (k - picked.size) + 16).astype(np.intp)
        merged = np.concatenate((picked, cand[accept(cand)]))
        _, first = np.unique(merged, return_index=True)
        picked = merged[np.sort(first)][:k]
        if picked.size == k:
            break
    return picked


def school_exposure(m: Model) -> None:
    """Once a school year, a share of residents aged 5-18 take the curriculum and are protected."""
    p, t = m.p, m.t_global
    if p.school_coverage <= 0 or t % m.steps_per_year:
        return
    age = m.year - m.birth_year.astype(np.int64)
    school = np.flatnonzero((m.protected_until <= t) & (m.state != _X) & (age >= 5) & (age < 19))
    hit = school[m._uniform(school, _SCHOOL_PURPOSE) < m._coverage(p.school_coverage)]
    m.protected_until[hit] = t + round(p.school_protection_months * m.spm)
    m.onset_factor[hit] = 1.0 - p.school_incidence_reduction


def births_and_moves(m: Model) -> dict[str, int]:
    """Births due now, newcomers moving in, and new pregnancies (after the step's transitions)."""
    t, p = m.t_global, m.p
    mothers, mother_pid = m.due.pop(t, (np.zeros(0, np.intp), np.zeros(0, np.int32)))
    births = int(np.count_nonzero((m.pid[mothers] == mother_pid) & (m.state[mothers] != _X)))
    present = m.cap - int(m.counts[_X])
    k_in = int(m.rng.poisson(present * m.q["move_in"]))
    ages = np.concatenate((np.zeros(births, np.int64), draw_ages(m.rng, k_in)))
    female = m.rng.random(births + k_in) < np.repeat([FEMALE_AT_BIRTH, FEMALE_SHARE], [births, k_in])
    unwell = np.repeat([0.0, p.prevalence], [births, k_in])  # newborns start well
    m._enter(m.year - ages, female, unwell)
    moved_in = k_in
    if t % m.steps_per_year == 0:
        m.fertile = m._count_fertile()
    lo, hi = FERTILE_AGES

    def fertile(idx: npt.NDArray[np.intp]) -> npt.NDArray[np.bool_]:
        # narrowed one test at a time: each gather from the population reads only the candidates left
        at = np.flatnonzero(m.female[idx])
        age = m.year - m.birth_year[idx[at]].astype(np.int64)
        at = at[(age >= lo) & (age < hi)]
        at = at[(m.state[idx[at]] != _X) & (m.pregnant_until[idx[at]] < t)]
        ok = np.zeros(idx.size, dtype=bool)
        ok[at] = True
        return ok

    k_preg = int(m.rng.binomial(max(0, m.fertile), m.q["fertility"]))
    pregnant = pick_eligible(m.rng, k_preg, m.cap, fertile)
    due = t + m.pregnancy
    m.pregnant_until[pregnant] = due
    m.due[due] = (pregnant, m.pid[pregnant].copy())
    m.rec.pregnancies(m.pid[pregnant], due)
    if p.prenatal_coverage > 0 and pregnant.size:
        took = pregnant[m._uniform(pregnant, _PRENATAL_PURPOSE) < m._coverage(p.prenatal_coverage)]
        m.protected_until[took] = t + round(p.prenatal_protection_months * m.spm)
        m.onset_factor[took] = 1.0 - p.prenatal_incidence_reduction
    return {"births": births, "moves_in": moved_in, "pregnancies": int(pregnant.size)}
