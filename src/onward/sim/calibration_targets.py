"""What calibration compares: its targets, measured on an event log and on a simulated run alike.

Each target is measured on the event log and computed the same way from a simulated run:

- ``referrals_per_1000_person_months``: referrals / (residents × months);
- ``disengaged_per_1000_person_months``: episodes ended ``disengaged``;
- ``graduated_per_1000_person_months``: episodes ended ``graduated``;
- ``returns_per_1000_graduate_months``: after an episode ends ``graduated``, the person's next referral,
  per 1,000 months at risk (graduation to that referral, or to data_end);
- ``disengaged_ratio_with_case_manager``: of treatment episodes that ended, the share ended
  ``disengaged`` with a case manager / that share without one (optional: a log without
  case-management services lacks it).

The period is the whole data range as the metric library resolves it (`Period().resolve`: data_end is the
latest recorded event). onward.sim.calibrate fits the parameters these targets move.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from onward.errors import ValidationError
from onward.metrics.backends import EventLog, quiet_engine_warnings
from onward.metrics.period import Period
from onward.metrics.suite import compute_metrics
from onward.sim.engine import DAYS_PER_MONTH
from onward.sim.result import RunResult
from onward.sim.states import TREATMENT_STATES, State

__all__ = [
    "OPTIONAL",
    "TARGET_TEXT",
    "Observed",
    "cm_dropout_ratio",
    "measure_targets",
    "simulated_targets",
]

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
