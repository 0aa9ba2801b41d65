"""What-if one click away from a direction number (docs/targets.md, docs/whatif.md): the form pre-filled
for the metric, a calibration of the simulator on this county's own data run in the background and cached
per data version, levers named in plain words with their sources, and the simulated change shown beside
the figure's target.

The calibration (`onward.sim.calibrate`, the same fit as `onward calibrate`) runs on a worker thread the
first time a what-if page is opened for the current data; pages say whether it is running, ready or
failed, and runs use it only when it is ready. Nothing here holds personal data: the fit is a handful of
rates.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from onward.metrics.registry import METRICS
from onward.model.own_page_metrics import OWN_PAGE_METRICS
from onward.sim.calibrate import Calibration, calibrate_event_log
from onward.sim.scenario import Scenario
from onward.web.metrics_cache import DataVersion, MetricsView, data_version

#: Each lever in plain words (the parameter's own description and source are shown beside it).
LEVER_NAMES: dict[str, str] = {
    "step_up": "Step up to more intensive care when someone is not improving",
    "cm_step_up": "Send people in case management only back to treatment",
    "graduate_after_months": "Graduate people after this many stable recovered months",
    "cm_review_months": "Review case management only after this many months",
    "fast_return_share": "Graduates who relapse come straight back (share)",
    "case_management_share": "Share of staff hours spent on case management",
    "school_coverage": "School-age residents taking a skills curriculum each year (share)",
    "prenatal_coverage": "Pregnancies whose parent takes a perinatal skills course (share)",
    "skills_phase_in_months": "Months to phase skills coverage in",
}


@dataclass(frozen=True, slots=True)
class MetricLink:
    """What a direction number opens: the scenarios to compare and the simulated figure that moves it."""

    scenarios: tuple[str, ...]
    simulated: str  # a key of onward.sim.montecarlo.SUMMARY_KEYS
    why: str


_BUILT = ("status-quo", "built-to-be-left", "treatment-first")
#: Direction numbers -> scenarios and the simulated figure read beside their target.
METRIC_LINKS: dict[str, MetricLink] = {
    "recovery_rate": MetricLink(_BUILT, "recoveries", "recoveries in service move with treatment capacity"),
    "reliable_improvement_rate": MetricLink(_BUILT, "recoveries", "improvement follows treatment received"),
    "reliable_recovery_rate": MetricLink(_BUILT, "recoveries", "recovery follows treatment received"),
    "reliable_deterioration_rate": MetricLink(_BUILT, "recoveries", "deterioration falls as treatment works"),
    "remission_6m": MetricLink(_BUILT, "recoveries", "remission follows treatment received"),
    "response_6m": MetricLink(_BUILT, "recoveries", "response follows treatment received"),
    "graduation_rate": MetricLink(_BUILT, "graduations", "graduations follow the discharge policy"),
    "stuck_count": MetricLink(_BUILT, "stuck", "people stuck fall with planned exits and reviews"),
    "stuck_share": MetricLink(_BUILT, "stuck", "people stuck fall with planned exits and reviews"),
    "reentry_12m_rate": MetricLink(
        ("status-quo", "built-to-be-left", "fast-return"), "relapses", "relapses after graduating"
    ),
    # Published on its own page (onward.model.own_page_metrics); the simulator's skills levers move it.
    "skills_coverage": MetricLink(
        ("status-quo", "skills-schools", "skills-prenatal"),
        "new_cases",
        "skills taught early prevent some new cases",
    ),
}
#: Ideas implemented (the other number on its own page) has no lever in the simulator: a voice plan
#: carries its own what-if run instead (docs/voice.md).


def link_for(metric: str | None) -> MetricLink | None:
    return METRIC_LINKS.get(metric or "")


def form_for(metric: str) -> dict[str, Any]:
    """The what-if form pre-filled for a direction number: its scenarios, calibrated on this county."""
    link = METRIC_LINKS[metric]
    return {
        "scenarios": list(link.scenarios),
        "people": 20_000,
        "years": 3,
        "runs": 10,
        "metric": metric,
        "calibrated": "1",
    }


@dataclass
class _Fit:
    status: str  # running, ready, failed
    fit: Calibration | None = None
    error: str = ""


class CalibrationCache:
    """One calibration per data version, run on a worker thread; older versions are dropped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.lock = threading.Lock()
        self.fits: dict[DataVersion, _Fit] = {}

    def get(self, version: DataVersion) -> _Fit | None:
        with self.lock:
            return self.fits.get(version)

    def start(self, version: DataVersion) -> _Fit:
        """The calibration of this data version, started in the background when there is none."""
        with self.lock:
            held = self.fits.get(version)
            if held is not None:
                return held
            self.fits = {version: _Fit("running")}
            held = self.fits[version]
        threading.Thread(target=self._run, args=(held,), name="whatif-calibration", daemon=True).start()
        return held

    def _run(self, held: _Fit) -> None:
        from onward.metrics.backends import open_event_log

        try:
            held.fit = calibrate_event_log(open_event_log(db=self.url))
            held.status = "ready"
        except Exception as error:  # shown on the page; runs then use the default parameters
            held.error = f"{type(error).__name__}: {error}"
            held.status = "failed"


def calibration_cache(request: Request) -> CalibrationCache:
    state = request.app.state
    with _LOCK:
        cache: CalibrationCache | None = getattr(state, "whatif_calibration", None)
        if cache is None:
            cache = CalibrationCache(state.settings.resolved_database_url)
            state.whatif_calibration = cache
    return cache


_LOCK = threading.Lock()


def calibration_context(request: Request, session: Session, *, start: bool) -> dict[str, Any]:
    """What the form says about the calibration (started when `start`)."""
    cache = calibration_cache(request)
    version = data_version(session)
    held = cache.start(version) if start else cache.get(version)
    if held is None:
        return {"calibration": None}
    fitted = []
    if held.fit is not None:
        fitted = [
            {"name": p.name, "value": p.value, "default": p.default, "source": p.source}
            for p in held.fit.parameters
        ]
    return {"calibration": {"status": held.status, "error": held.error, "fitted": fitted}}


def calibrated(request: Request, session: Session, scenarios: list[Scenario]) -> list[Scenario]:
    """Each scenario on this county's calibrated parameters (the fit first, the scenario's own evidence
    and levers after); unchanged when the calibration of the current data is not ready."""
    held = calibration_cache(request).get(data_version(session))
    if held is None or held.fit is None:
        return scenarios
    overrides = held.fit.overrides
    return [
        Scenario(
            name=f"{s.name} (calibrated)",
            description=f"{s.description} On this county's calibrated flow parameters.",
            levers=dict(s.levers),
            overrides={**overrides, **s.overrides},
            path=s.path,
        )
        for s in scenarios
    ]


def metric_title(metric: str) -> str:
    definition = METRICS.get(metric) or OWN_PAGE_METRICS.get(metric)
    return definition.title if definition else metric


def figure_beside_target(request: Request, session: Session, metric: str) -> dict[str, Any]:
    """The direction number as published now (latest complete quarter), its target and status, and which
    simulated figure moves it: what the what-if form and its results show beside each other."""
    from onward.metrics.scorecard import line
    from onward.services.targets import targets_in_force
    from onward.web.metrics_cache import metrics_cache

    link = METRIC_LINKS[metric]
    view = metrics_cache(request).view(session)
    if view is None:
        return {
            "title": metric_title(metric),
            "figure": "no data",
            "period": None,
            "simulated": link.simulated,
        }
    if metric in OWN_PAGE_METRICS:
        return _own_page_beside(request, session, metric, view, link)
    item = line(metric, view.metrics, targets_in_force(session))
    return {
        "title": item.definition.title,
        "figure": item.figure,
        "target": item.target.phrase if item.target else "no target",
        "status": item.status.label,
        "explanation": item.status.explanation,
        "period": view.period["title"],
        "data_end": view.period["as_of"],
        "simulated": link.simulated,
        "why": link.why,
    }


def _own_page_beside(
    request: Request, session: Session, metric: str, view: MetricsView, link: MetricLink
) -> dict[str, Any]:
    """`figure_beside_target` for a number published on its own page, over the leader's home period."""
    from onward.services.targets import targets_in_force
    from onward.web.direction_extras import extra_figures

    extra = next(f for f in extra_figures(request, view) if f.key == metric)
    target, state = extra.against(targets_in_force(session))
    return {
        "title": extra.definition.title,
        "figure": extra.figure,
        "target": target.phrase if target else "no target",
        "status": state.label,
        "explanation": state.explanation,
        "period": extra.basis,
        "data_end": view.period["as_of"],
        "simulated": link.simulated,
        "why": link.why,
    }
