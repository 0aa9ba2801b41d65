"""Who lives in the county: ages, deaths by age, births after pregnancies, moves in and out.

The population is open: residents die at US age-specific rates, move out and in at the county-level
migration rate, and women aged 15-44 become pregnant at the US general fertility rate; a birth follows
nine months later and the newborn joins the county. Everyone ages with the calendar, so children age
into and through school. Sources are in docs/references.md ("Simulation defaults").
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

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
    band = np.searchsorted(np.cumsum(AGE_SHARES), rng.random(n) * AGE_SHARES.sum(), side="right")
    low, high = AGE_BANDS[band, 0], AGE_BANDS[band, 1]
    ages: npt.NDArray[np.int64] = low + np.floor(rng.random(n) * (high - low)).astype(np.int64)
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
