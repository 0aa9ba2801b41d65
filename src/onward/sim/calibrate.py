"""Calibration: fit the main flow parameters to a system's own event log (simulated method of moments).

Targets, each measured on the event log and computed the same way from a simulated run:

- ``referrals_per_1000_person_months``: referrals / (residents × months) → fits ``help_seeking``;
- ``disengaged_per_1000_person_months``: episodes ended ``disengaged`` → fits ``dropout``;
- ``graduated_per_1000_person_months``: episodes ended ``graduated`` → fits ``treatment_recovery``
  (recovered people are the ones who graduate);
- ``returns_per_1000_graduate_months``: after an episode ends ``graduated``, the person's next referral,
  per 1,000 months at risk (graduation to that referral, or to data_end) → fits
  ``relapse_after_discharge`` (``relapse_sud`` moves by the same factor).

The period is the whole data range as the metric library resolves it (`Period().resolve`: data_end is the
latest recorded event).

``incidence`` cannot be told apart from help-seeking in an event log (people who never seek help leave no
trace), so it follows from the fitted help-seeking and the sourced prevalence (NSDUH 2023, 22.8 %) by
the steady-state balance of data/parameters.toml: incidence = p (r + h) / (1 - p).

Every evaluation runs the engine with the same seed (common random numbers) on a larger simulated
population than the data's, and steps in log-parameter space with a fixed, sourced-by-measurement
Jacobian (ELASTICITIES; a chord method with backtracking): four to eight runs. No SciPy needed.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from onward.errors import ValidationError
from onward.metrics.backends import EventLog, quiet_engine_warnings
from onward.metrics.period import Period
from onward.metrics.suite import compute_metrics
from onward.sim.engine import DAYS_PER_MONTH, run
from onward.sim.parameters import Parameters, load_parameters, load_specs
from onward.sim.result import RunResult
from onward.sim.scenario import Scenario, parse_scenario
from onward.sim.states import TREATMENT_STATES, State

__all__ = [
    "FITTED",
    "Calibration",
    "FittedParameter",
    "Target",
    "calibrate",
    "calibrate_event_log",
    "measure_targets",
    "simulated_targets",
    "write_calibrated_scenario",
]

#: Target → the parameter it mainly moves (the Jacobian is full; this is the pairing for the report).
FITTED: dict[str, str] = {
    "referrals_per_1000_person_months": "help_seeking",
    "disengaged_per_1000_person_months": "dropout",
    "graduated_per_1000_person_months": "treatment_recovery",
    "returns_per_1000_graduate_months": "relapse_after_discharge",
    "disengaged_ratio_with_case_manager": "cm_retention_effect",
}
TARGET_TEXT: dict[str, str] = {
    "referrals_per_1000_person_months": "referrals per 1,000 resident-months",
    "disengaged_per_1000_person_months": "episodes ended 'disengaged' per 1,000 resident-months",
    "graduated_per_1000_person_months": "episodes ended 'graduated' per 1,000 resident-months",
    "returns_per_1000_graduate_months": "graduates referred again, per 1,000 months after graduating",
    "disengaged_ratio_with_case_manager": (
        "share of treatment episodes ended 'disengaged' with a case manager / without one"
    ),
}
OPTIONAL = frozenset({"disengaged_ratio_with_case_manager"})
"""Targets a log may lack (no case-management services): then their parameter is not fitted."""
TOLERANCE = 0.02  # stop when every simulated target is within 2 % of the observed one (≈ the noise floor)
MAX_EVALUATIONS = 16
#: d log(target) / d log(parameter), rows in FITTED's target order, columns in its parameter order.
#: Measured by finite differences (+20 %) at the defaults with 200,000 residents over 3 years, mean of
#: seeds 1 and 2 . A fixed, well-measured
#: Jacobian (a chord method) beats re-estimating one from noisy small runs.
ELASTICITIES = np.array(
    [
        [0.88, 0.04, -0.04, 0.035, -0.02],  # referrals: mostly help-seeking
        [-0.21, 0.83, -0.48, 0.02, -0.25],  # disengaged: dropout, less when more recover first
        [-0.27, -0.05, 0.48, -0.004, 0.01],  # graduated: treatment response
        [1.12, -0.07, -0.055, 0.69, -0.06],  # returns after graduating: relapse, then seeking help again
        [0.26, 0.02, -0.28, 0.03, -0.29],  # dropout with / without a case manager: mostly the effect
    ]
)
_FLOOR, _CEIL = 1e-4, 0.9  # fitted monthly probabilities stay inside (0, 1) with room for competing risks
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    description: str
    observed: float
    simulated: float

    @property
    def relative_error(self) -> float:
        return abs(self.simulated / self.observed - 1.0) if self.observed else math.nan


@dataclass(frozen=True, slots=True)
class FittedParameter:
    name: str
    value: float
    default: float
    low: float
    high: float
    source: str


@dataclass(slots=True)
class Calibration:
    """The fit: parameters with their sourced defaults, targets observed vs simulated, and how it ran."""

    parameters: list[FittedParameter]
    targets: list[Target]
    iterations: int
    people: int
    years: float
    seed: int
    evaluations: int
    overrides: dict[str, float] = field(default_factory=dict)

    @property
    def max_relative_error(self) -> float:
        return max(t.relative_error for t in self.targets)

    def to_json(self) -> dict[str, Any]:
        return {
            "parameters": {
                p.name: {
                    "value": p.value,
                    "default": p.default,
                    "low": p.low,
                    "high": p.high,
                    "source": p.source,
                }
                for p in self.parameters
            },
            "targets": {
                t.name: {"observed": t.observed, "simulated": t.simulated, "description": t.description}
                for t in self.targets
            },
            "iterations": self.iterations,
            "evaluations": self.evaluations,
            "people": self.people,
            "years": self.years,
            "seed": self.seed,
        }


@dataclass(frozen=True, slots=True)
class Observed:
    """What the event log says: target values and the size of the system they came from."""

    targets: dict[str, float]
    people: int
    months: float
    start: date
    data_end: date


def _scalar(expr: Any) -> int:
    value = expr.execute()
    return int(value) if value is not None else 0


def measure_targets(log: EventLog, *, people: int | None = None) -> Observed:
    """The calibration targets of an event log over the whole data range (period from the metric library)."""
    with quiet_engine_warnings():
        # The period starts at the first service: records dated before it are the episodes and
        # referrals already open when the data begins (a go-live's carried-over caseload).
        first_service = log.table("services").service_date.min().execute()
        start = _as_day(first_service) if first_service is not None else None
        period = compute_metrics(log, period=Period(start=start)).period
        residents = people if people is not None else _scalar(log.table("people").count())
        referrals = log.table("referrals")
        referrals = referrals.filter(
            (referrals.referral_date >= period.start) & (referrals.referral_date <= period.end)
        )
        episodes = log.table("episodes")
        ended = episodes.filter((episodes.end_date >= period.start) & (episodes.end_date <= period.end))
        disengaged = _scalar(ended.filter(ended.end_reason == "disengaged").count())
        grads = ended.filter(ended.end_reason == "graduated").select("person_id", "end_date").to_pyarrow()
        refs = referrals.select("person_id", "referral_date").to_pyarrow()
        ratio = cm_dropout_ratio(
            ended.select("episode_id", "program_id", "end_reason").to_pyarrow(),
            log.table("services").select("episode_id", "category").to_pyarrow(),
            log.table("programs").select("program_id", "kind").to_pyarrow(),
        )
    if residents < 1:
        raise ValidationError("the event log has no people: give the number of residents (--people)")
    months = ((period.end - period.start).days + 1) / DAYS_PER_MONTH
    if months < 13:
        raise ValidationError(f"calibration needs at least 13 months of data, got {months:.1f}")
    ids, codes = np.unique(
        np.concatenate(
            [
                grads["person_id"].to_numpy(zero_copy_only=False),
                refs["person_id"].to_numpy(zero_copy_only=False),
            ]
        ),
        return_inverse=True,
    )
    del ids
    n_grad = grads.num_rows
    day = np.datetime64(period.end, "D")

    def days(column: Any) -> npt.NDArray[np.float64]:
        values: npt.NDArray[np.float64] = (
            column.to_numpy(zero_copy_only=False).astype("datetime64[D]") - day
        ).astype(np.float64)
        return values

    returns = _returns_rate(
        grad_person=codes[:n_grad],
        grad_time=days(grads["end_date"]) / DAYS_PER_MONTH,
        ref_person=codes[n_grad:],
        ref_time=days(refs["referral_date"]) / DAYS_PER_MONTH,
        end_time=0.0,
    )
    per = 1000.0 / (residents * months)
    targets = {
        "referrals_per_1000_person_months": refs.num_rows * per,
        "disengaged_per_1000_person_months": disengaged * per,
        "graduated_per_1000_person_months": n_grad * per,
        "returns_per_1000_graduate_months": returns,
        "disengaged_ratio_with_case_manager": ratio,
    }
    for name, value in targets.items():
        if name in OPTIONAL and math.isnan(value):
            continue  # no case-management services to compare: the effect keeps its default
        if not value > 0:
            raise ValidationError(f"cannot calibrate: {TARGET_TEXT[name]} is {value} in this event log")
    return Observed(targets, residents, months, period.start, period.data_end)


_TREATMENT_KINDS = ("outpatient", "intensive_outpatient", "medication_for_oud", "residential", "inpatient")


def cm_dropout_ratio(ended: pa.Table, services: pa.Table, programs: pa.Table) -> float:
    """Of treatment episodes that ended, the share ended 'disengaged' among those with any
    case-management service / that share among those without one (NaN when a group is empty)."""
    kinds = dict(zip(programs["program_id"].to_pylist(), programs["kind"].to_pylist(), strict=True))
    treatment = {p for p, k in kinds.items() if k in _TREATMENT_KINDS}
    ep = ended.filter(pc.is_in(ended["program_id"], pa.array(sorted(treatment), pa.string())))
    managed_services = services.filter(pc.equal(services["category"], "case_management"))
    managed = pc.is_in(ep["episode_id"], pc.unique(managed_services["episode_id"].drop_null()))
    managed_np = managed.to_numpy(zero_copy_only=False)
    disengaged = pc.equal(ep["end_reason"], "disengaged").to_numpy(zero_copy_only=False)
    with_cm, without = disengaged[managed_np], disengaged[~managed_np]
    if with_cm.size == 0 or without.size == 0 or not without.any():
        return math.nan
    return float(with_cm.mean() / without.mean())


def _as_day(value: Any) -> date:
    return value.date() if hasattr(value, "date") and callable(value.date) else value  # type: ignore[no-any-return]


def _returns_rate(
    *,
    grad_person: npt.NDArray[np.int64],
    grad_time: npt.NDArray[np.float64],
    ref_person: npt.NDArray[np.int64],
    ref_time: npt.NDArray[np.float64],
    end_time: float,
) -> float:
    """Next referrals after graduations per 1,000 months at risk (graduation → next referral, or → end)."""
    if grad_person.size == 0:
        return math.nan
    order = np.lexsort((ref_time, ref_person))
    r_person, r_time = ref_person[order], ref_time[order]
    # first referral of the same person strictly after the graduation: search (person, time) pairs
    i = np.searchsorted(r_person, grad_person, side="right")  # one past the person's last referral
    lo = np.searchsorted(r_person, grad_person, side="left")
    found = np.zeros(grad_person.size, dtype=bool)
    nxt = np.full(grad_person.size, end_time)
    for k in np.flatnonzero(i > lo):  # graduates with referrals: few; a loop over them stays cheap
        times = r_time[lo[k] : i[k]]
        j = np.searchsorted(times, grad_time[k], side="right")
        if j < times.size:
            found[k], nxt[k] = True, times[j]
    at_risk = np.maximum(nxt - grad_time, 0.0).sum()
    return float(1000.0 * np.count_nonzero(found) / at_risk) if at_risk > 0 else math.nan


def simulated_targets(result: RunResult) -> dict[str, float]:
    """The same targets computed from a recorded run's raw events (a step's middle stands for its days)."""
    ev = result.events
    if ev is None:
        raise ValueError("the run has no events: call engine.run(..., record_events=True)")
    spm = result.steps_per_month
    months = result.n_steps / spm
    per = 1000.0 / (result.people * months)
    open_care = np.zeros(len(State), dtype=bool)
    open_care[[*TREATMENT_STATES, State.CASE_MANAGEMENT_ONLY]] = True
    # The event log closes an episode inside the step after its last service row (exits during the
    # last step included: their end dates fall before data_end).
    counted = ev.chg_step < result.n_steps
    disengaged = np.count_nonzero(open_care[ev.chg_from] & (ev.chg_to == State.UNWELL) & counted)
    graduated = (ev.chg_to == State.GRADUATED) & counted
    returns = _returns_rate(
        grad_person=ev.chg_person[graduated].astype(np.int64),
        grad_time=(ev.chg_step[graduated] + 0.5) / spm,
        ref_person=ev.ref_person.astype(np.int64),
        ref_time=(ev.ref_step + 0.5) / spm,
        end_time=months,
    )
    from onward.sim.eventlog import to_event_log

    log = to_event_log(result)
    start = log["services"]["service_date"]
    ended = log["episodes"].filter(pc.greater_equal(log["episodes"]["end_date"], pc.min(start)))
    ratio = cm_dropout_ratio(ended, log["services"], log["programs"])
    return {
        "disengaged_ratio_with_case_manager": ratio,
        "referrals_per_1000_person_months": ev.ref_step.size * per,
        "disengaged_per_1000_person_months": disengaged * per,
        "graduated_per_1000_person_months": np.count_nonzero(graduated) * per,
        "returns_per_1000_graduate_months": returns,
    }


def _with(base: Parameters, values: dict[str, float]) -> dict[str, float]:
    """Fitted values as overrides: relapse_sud follows relapse_after_discharge, incidence the prevalence."""
    out = dict(values)
    out["relapse_sud"] = min(
        _CEIL, base.relapse_sud * values["relapse_after_discharge"] / base.relapse_after_discharge
    )
    p = base.prevalence
    out["incidence"] = p * (base.remission_untreated + values["help_seeking"]) / (1.0 - p)
    return out


def calibrate(
    observed: Observed,
    *,
    seed: int = 1,
    base: Parameters | None = None,
    simulated_people: int | None = None,
    progress: Progress | None = None,
) -> Calibration:
    """Fit FITTED's parameters so the simulated targets match the observed ones (see the module docstring).

    Targets are rates per resident, so the simulated population need not equal the observed one: by default
    it is 4x the residents (between 50,000 and 400,000) so that simulation noise stays well below the data's.
    """
    base = base or load_parameters()
    names = [n for n in FITTED if not (n in OPTIONAL and math.isnan(observed.targets[n]))]
    params = [FITTED[n] for n in names]
    rows = [list(FITTED).index(n) for n in names]
    jacobian = ELASTICITIES[np.ix_(rows, rows)]
    obs = np.log(np.array([observed.targets[n] for n in names]))
    n_people = simulated_people or min(400_000, max(50_000, 4 * observed.people))
    years = observed.months / 12.0
    evaluations = 0

    def simulate(x: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], dict[str, float]]:
        nonlocal evaluations
        values = dict(zip(params, np.exp(x).tolist(), strict=True))
        scenario = Scenario(name="calibration", overrides=_with(base, values))
        result = run(scenario, people=n_people, years=years, seed=seed, record_events=True, parameters=base)
        sim = simulated_targets(result)
        evaluations += 1
        if progress is not None:
            progress(evaluations, MAX_EVALUATIONS)
        with np.errstate(divide="ignore"):
            return np.log(np.array([sim[n] for n in names])) - obs, sim

    lo, hi = math.log(_FLOOR), math.log(_CEIL)
    x = np.log(np.array([getattr(base, p) for p in params]))
    g, sim = simulate(x)
    if not np.all(np.isfinite(g)):
        raise ValidationError("the default parameters produce no events to compare; is the population right?")
    solve = np.linalg.inv(jacobian)
    iterations = 0
    while np.abs(g).max() > math.log1p(TOLERANCE) and evaluations < MAX_EVALUATIONS:
        iterations += 1
        dx = np.clip(-solve @ g, -0.7, 0.7)  # at most a factor of 2 per step
        for t in (1.0, 0.5, 0.25):  # backtracking on the sum of squared log errors
            x_try = np.clip(x + t * dx, lo, hi)
            g_try, sim_try = simulate(x_try)
            if np.all(np.isfinite(g_try)) and float(g_try @ g_try) < float(g @ g):
                x, g, sim = x_try, g_try, sim_try
                break
        else:
            break  # no better point along the step: the simulation noise floor
    values = dict(zip(params, np.exp(x).tolist(), strict=True))
    overrides = _with(base, values)
    specs = load_specs()
    fitted = [
        FittedParameter(
            name=name,
            value=value,
            default=getattr(base, name),
            low=specs[name].low,
            high=specs[name].high,
            source=specs[name].source,
        )
        for name, value in overrides.items()
    ]
    targets = [Target(n, TARGET_TEXT[n], observed.targets[n], sim[n]) for n in names]
    return Calibration(
        parameters=fitted,
        targets=targets,
        iterations=iterations,
        people=n_people,
        years=years,
        seed=seed,
        evaluations=evaluations,
        overrides=overrides,
    )


def calibrate_event_log(
    log: EventLog, *, people: int | None = None, seed: int = 1, progress: Progress | None = None
) -> Calibration:
    """Measure the targets on `log` and fit the parameters to them."""
    return calibrate(measure_targets(log, people=people), seed=seed, progress=progress)


def write_calibrated_scenario(fit: Calibration, out: Path, *, source: str) -> Path:
    """A scenario TOML whose [parameters] are the fitted values (validated by reading it back)."""
    lines = [
        'name = "calibrated"',
        f'description = "Status quo with flow parameters calibrated on {_toml_text(source)} '
        f'(onward calibrate, seed {fit.seed}, {fit.people} residents, {fit.years:.2f} years)."',
        "",
        *(f"# target {t.name}: observed {t.observed:.5g}, simulated {t.simulated:.5g}" for t in fit.targets),
        "",
        "[parameters]",
    ]
    for p in fit.parameters:
        lines.append(f"{p.name} = {p.value:.6g}  # default {p.default:g} ({_toml_text(p.source)[:90]})")
    text = "\n".join(lines) + "\n"
    parse_scenario(tomllib.loads(text), file=str(out), fallback_name="calibrated")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def _toml_text(value: str) -> str:
    return value.replace("\\", "/").replace('"', "'").replace("\n", " ")
