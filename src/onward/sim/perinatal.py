"""Perinatal depression within 12 months of birth, with and without the prenatal skills course.

The prenatal lever (`prenatal_coverage`) changes an outcome that shows within a what-if's horizon: of
the parents who give birth, how many have perinatal depression in the year after the birth. Each
replication follows every birth of the run whose 12 months after birth end within the horizon:

- births: the county's births when the run simulates them (series `births`), otherwise births at the
  US crude birth rate (CDC NCHS, Births: Final Data for 2023);
- each parent takes the course with the lever's coverage, phased in from the start of the run over
  `skills_phase_in_months` (the course is offered from the first simulated month);
- without the course, perinatal depression within 12 months of birth has probability `baseline`
  (CDC PRAMS: about 13 % report postpartum depressive symptoms, MMWR 2020;69(19));
- with it, that probability is multiplied by the risk ratio of counselling interventions, 0.61 (95 %
  CI 0.47-0.78; USPSTF 2019, O'Connor et al. JAMA 2019). Each replication draws its own risk ratio
  from that interval (log-normal), so the band carries effect-size uncertainty as well as chance.

The same uniform draw decides each parent's outcome with and without the course (common random
numbers), so `perinatal_cases_prevented` is the difference within one replication. The risk ratio was
measured in people at increased risk; offered to everyone, the effect may be smaller (docs/whatif.md).
Pure NumPy on its own Generator: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

CRUDE_BIRTH_RATE = 10.7 / 1000
"""Births per resident per year, US 2023 (CDC NCHS, Births: Final Data for 2023; docs/references.md)."""


@dataclass(frozen=True, slots=True)
class PerinatalEffect:
    """The outcome's parameters, each with its public source (docs/whatif.md, "Skills levers")."""

    baseline: float = 0.13  # CDC PRAMS, MMWR 2020;69(19): ~1 in 8 with postpartum depressive symptoms
    risk_ratio: float = 0.61  # USPSTF 2019 (O'Connor et al. 2019): counselling interventions
    risk_ratio_low: float = 0.47
    risk_ratio_high: float = 0.78
    window_months: int = 12  # perinatal depression: in pregnancy or the 12 months after birth (ACOG CO 757)

    @property
    def log_sd(self) -> float:
        """The risk ratio's 95 % interval as a log-normal spread: (ln high - ln low) / (2 × 1.96)."""
        return (math.log(self.risk_ratio_high) - math.log(self.risk_ratio_low)) / (2 * 1.959964)


PERINATAL_KEYS: tuple[str, ...] = (
    "perinatal_births",
    "perinatal_depression",
    "perinatal_depression_rate",
    "perinatal_cases_prevented",
)
PERINATAL_LABELS: dict[str, str] = {
    "perinatal_births": "Births followed for 12 months",
    "perinatal_depression": "Parents with perinatal depression within 12 months of birth",
    "perinatal_depression_rate": "Perinatal depression within 12 months of birth (share of births)",
    "perinatal_cases_prevented": "Perinatal depression prevented by the prenatal course",
}


def coverage_by_month(target: float, phase_in_months: float, months: int) -> npt.NDArray[np.float64]:
    """The share of parents offered and taking the course in each month of the run (linear phase-in)."""
    phase = max(1.0, phase_in_months)
    return target * np.minimum(1.0, (np.arange(months) + 1) / phase)


def perinatal_outcome(
    *,
    births: npt.NDArray[Any],
    coverage: npt.NDArray[np.float64],
    rng: np.random.Generator,
    effect: PerinatalEffect = PerinatalEffect(),
) -> dict[str, float]:
    """Cases among the births of months whose 12-month window ends within the run."""
    followed = max(0, births.size - effect.window_months)
    counts = np.asarray(births[:followed], dtype=np.int64)
    total = int(counts.sum())
    risk_ratio = float(np.exp(rng.normal(math.log(effect.risk_ratio), effect.log_sd)))
    if total == 0:
        return dict.fromkeys(PERINATAL_KEYS, 0.0) | {"perinatal_depression_rate": math.nan}
    took = rng.random(total) < np.repeat(coverage[:followed], counts)
    u = rng.random(total)
    without_course = u < effect.baseline
    cases = int(np.count_nonzero(np.where(took, u < effect.baseline * risk_ratio, without_course)))
    return {
        "perinatal_births": float(total),
        "perinatal_depression": float(cases),
        "perinatal_depression_rate": cases / total,
        "perinatal_cases_prevented": float(np.count_nonzero(without_course) - cases),
    }


def births_per_month(
    series: Mapping[str, npt.NDArray[Any]], people: int, steps_per_month: float, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Births by month of the run: the simulated county's, or Poisson at the crude birth rate."""
    steps = len(series["month"])
    months = max(1, int(round(steps / steps_per_month)))
    if "births" in series:
        month_of_step = np.minimum((np.arange(steps) / steps_per_month).astype(np.int64), months - 1)
        per_step = np.asarray(series["births"], dtype=np.float64)
        return np.bincount(month_of_step, weights=per_step, minlength=months).round().astype(np.int64)
    return rng.poisson(people * CRUDE_BIRTH_RATE / 12, size=months).astype(np.int64)


def perinatal_summary(
    *,
    series: Mapping[str, npt.NDArray[Any]],
    people: int,
    steps_per_month: float,
    prenatal_coverage: float,
    phase_in_months: float,
    seed: int,
) -> dict[str, float]:
    """The perinatal figures of one replication, on a Generator of their own (seed, 11)."""
    rng = np.random.default_rng([seed, 11])
    births = births_per_month(series, people, steps_per_month, rng)
    coverage = coverage_by_month(prenatal_coverage, phase_in_months, births.size)
    return perinatal_outcome(births=births, coverage=coverage, rng=rng)
