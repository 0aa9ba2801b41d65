"""What if? Leaders pick scenarios and levers, a Monte Carlo run goes in the background, the page follows it
and compares the results with uncertainty bands. Every figure is labelled SIMULATED.

Runs live in memory (per app process): they are cheap to redo and hold no personal data. Charts are Vega-
Lite specs rendered to SVG on the server with vl-convert, since the app vendors no Vega JavaScript.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.responses import Response

from onward.errors import NotFoundError, OnwardError, ValidationError
from onward.model.roles import Role
from onward.sim.montecarlo import INTERVAL_TEXT, SUMMARY_KEYS, SUMMARY_LABELS, MonteCarloResult, run_scenarios
from onward.sim.parameters import ParameterSpec, load_specs
from onward.sim.report import BANNER, SERIES_CHARTS, chart_specs, format_interval, to_svg
from onward.sim.scenario import Scenario, builtin_scenarios, load_scenario, parse_scenario
from onward.web.deps import NowDep, SessionDep, WhatIfUser, verify_csrf_form
from onward.web.skills_levers import skills_levers_from_logs
from onward.web.templating import render
from onward.web.whatif_links import (
    LEVER_NAMES,
    calibrated,
    calibration_context,
    figure_beside_target,
    form_for,
    link_for,
)

router = APIRouter(prefix="/whatif", tags=["pages"], include_in_schema=False)

#: Limits that keep a shared server responsive (a run of the maximum takes about a minute on 2 cores).
MAX_PEOPLE, MAX_YEARS, MAX_RUNS, MAX_ACTIVE, KEEP = 200_000, 10, 50, 2, 20
PEOPLE_CHOICES = (10_000, 20_000, 50_000, 100_000, 200_000)
WORKERS = 2  # local worker processes per run
CUSTOM = "my-levers"


@dataclass
class Job:
    """One background Monte Carlo run and what the page shows about it."""

    id: str
    owner: str
    scenarios: list[str]
    people: int
    years: float
    runs: int
    seed: int
    created: datetime
    status: str = "queued"  # queued, running, done, failed
    done: int = 0
    total: int = 0
    error: str = ""
    result: MonteCarloResult | None = None
    charts: dict[str, str] = field(default_factory=dict)  # chart key -> SVG
    metric: str = ""  # the direction number the run was opened from (docs/targets.md)
    beside: dict[str, Any] = field(default_factory=dict)  # that figure, its target and status, as shown

    def status_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "scenarios": self.scenarios,
            "people": self.people,
            "years": self.years,
            "runs": self.runs,
            "seed": self.seed,
            "simulated": True,
            "interval": INTERVAL_TEXT,
        }
        if self.error:
            out["error"] = self.error
        if self.result is not None:
            out["summary"] = {
                name: {k: iv.to_json() for k, iv in sc.summary.items()}
                for name, sc in self.result.scenarios.items()
            }
        return out


class JobStore:
    """The app's runs, newest last; a lock guards every change because runs finish on other threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: OrderedDict[str, Job] = OrderedDict()

    def add(self, job: Job) -> None:
        with self.lock:
            active = sum(j.status in ("queued", "running") for j in self.jobs.values())
            if active >= MAX_ACTIVE:
                raise ValidationError(f"{active} simulations are already running; wait for one to finish")
            self.jobs[job.id] = job
            while len(self.jobs) > KEEP:
                oldest = next(iter(self.jobs))
                if self.jobs[oldest].status in ("queued", "running"):
                    break
                self.jobs.pop(oldest)

    def get(self, job_id: str, user: Any) -> Job:
        with self.lock:
            job = self.jobs.get(job_id)
        if job is None or (job.owner != user.user_id and user.role != Role.ADMIN.value):
            raise NotFoundError(f"no simulation {job_id!r}")
        return job

    def of(self, user: Any) -> list[Job]:
        with self.lock:
            return [j for j in reversed(self.jobs.values()) if j.owner == user.user_id]


def _store(request: Request) -> JobStore:
    store = getattr(request.app.state, "whatif_jobs", None)
    if store is None:
        with _STORE_LOCK:
            store = getattr(request.app.state, "whatif_jobs", None)
            if store is None:
                store = JobStore()
                request.app.state.whatif_jobs = store
    return store


_STORE_LOCK = threading.Lock()


def _execute(job: Job, scenarios: list[Scenario]) -> None:
    """Run on a worker thread: the simulation, then the charts (rendered once, served many times)."""

    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    job.status = "running"
    try:
        result = run_scenarios(
            scenarios,
            people=job.people,
            years=job.years,
            runs=job.runs,
            seed=job.seed,
            workers=WORKERS,
            progress=progress,
        )
        job.charts = {key: to_svg(spec) for key, spec in chart_specs(result).items()}
        job.result = result
        job.status = "done"
    except Exception as error:  # shown on the page; the server keeps running
        job.error = str(error) if isinstance(error, OnwardError) else f"{type(error).__name__}: {error}"
        job.status = "failed"


def _lever_specs() -> dict[str, ParameterSpec]:
    return {name: spec for name, spec in load_specs().items() if spec.lever}


def _form_page(
    request: Request,
    user: Any,
    *,
    error: str = "",
    form: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    chosen = form or {
        "scenarios": ["status-quo", "built-to-be-left"],
        "people": 20_000,
        "years": 3,
        "runs": 10,
    }
    descriptions = {name: " ".join(load_scenario(name).description.split()) for name in builtin_scenarios()}
    context = {
        "title": "What if?",
        "builtins": descriptions,
        "levers": _lever_specs(),
        "form": chosen,
        "people_choices": PEOPLE_CHOICES,
        "limits": {"years": MAX_YEARS, "runs": MAX_RUNS},
        "jobs": _store(request).of(user),
        "error": error,
        "interval": INTERVAL_TEXT,
        "custom": CUSTOM,
        "lever_names": LEVER_NAMES,
        "summary_labels": SUMMARY_LABELS,
        "request_query": str(request.url.query),
        "calibration": None,
        "beside": None,
        **(extra or {}),
    }
    return render(request, "whatif.html", context, user=user, status_code=400 if error else 200)


@router.get("")
def whatif_page(request: Request, user: WhatIfUser, session: SessionDep, now: NowDep) -> Response:
    """`?coverage=logs` fills the skills levers from the delivery logs (docs/whatif.md, "Skills levers");
    `?metric=KEY` (a direction number) pre-fills the scenarios that move it, on this county's calibration
    (started in the background), with the figure and its target (docs/targets.md); `?lever_NAME=VALUE`
    fills levers given by a link (docs/access.md, "Capacity")."""
    metric = request.query_params.get("metric")
    if link_for(metric) is not None:
        assert metric is not None
        extra = {
            **calibration_context(request, session, start=True),
            "beside": figure_beside_target(request, session, metric),
        }
        return _form_page(request, user, form=form_for(metric), extra=extra)
    levers = {
        k: v for k, v in request.query_params.items() if k.startswith("lever_") and k[6:] in _lever_specs()
    }
    if levers:  # a link from another page (e.g. a program's capacity) with the levers to try
        chosen = request.query_params.getlist("scenarios") or ["status-quo", CUSTOM]
        form = {"scenarios": chosen, "people": 20_000, "years": 3, "runs": 10, **levers}
        return _form_page(request, user, form=form, extra=calibration_context(request, session, start=False))
    if request.query_params.get("coverage") != "logs":
        return _form_page(request, user, extra=calibration_context(request, session, start=False))
    return _form_page(request, user, form=skills_levers_from_logs(session, now.date(), CUSTOM))


def _custom_scenario(form: dict[str, Any]) -> Scenario:
    """The user's own levers as a scenario, validated like a scenario file (field and reason on error)."""
    levers: dict[str, float] = {}
    for name in _lever_specs():
        raw = str(form.get(f"lever_{name}", "")).strip()
        if raw:
            try:
                levers[name] = float(raw)
            except ValueError:
                raise ValidationError(f"{raw!r} is not a number", column=f"levers.{name}") from None
    return parse_scenario(
        {"name": CUSTOM, "description": "Levers set on this page.", "levers": levers},
        file="form",
        fallback_name=CUSTOM,
    )


@router.post("", dependencies=[Depends(verify_csrf_form)])
async def start_run(
    request: Request,
    user: WhatIfUser,
    session: SessionDep,
    people: Annotated[int, Form()],
    years: Annotated[float, Form()],
    runs: Annotated[int, Form()],
    scenarios: Annotated[list[str] | None, Form()] = None,
    seed: Annotated[int, Form()] = 1,
) -> Response:
    form = dict((await request.form()).multi_items())
    chosen = list(scenarios or [])
    shown = {**form, "scenarios": chosen, "people": people, "years": years, "runs": runs, "seed": seed}
    try:
        if (
            people not in PEOPLE_CHOICES
            or not 0 < years <= MAX_YEARS
            or not 1 <= runs <= MAX_RUNS
            or seed < 0
        ):
            raise ValidationError(
                "out of range",
                column="people, years, runs or seed",
                expected=f"people one of {PEOPLE_CHOICES}, 0 < years <= {MAX_YEARS}, 1 <= runs <= {MAX_RUNS}",
            )
        known = set(builtin_scenarios())
        picked = [load_scenario(name) for name in chosen if name in known]
        if CUSTOM in chosen:
            picked.append(_custom_scenario(form))
        if not picked:
            raise ValidationError("pick at least one scenario")
        if form.get("calibrated") == "1":
            picked = calibrated(request, session, picked)
        metric = str(form.get("metric", ""))
        job = Job(
            id=uuid.uuid4().hex[:12],
            owner=user.user_id,
            scenarios=[s.name for s in picked],
            people=people,
            years=years,
            runs=runs,
            seed=seed,
            created=datetime.now(UTC),
            total=runs * len(picked),
            metric=metric if link_for(metric) else "",
            beside=figure_beside_target(request, session, metric) if link_for(metric) else {},
        )
        _store(request).add(job)
    except OnwardError as error:
        return _form_page(request, user, error=str(error), form=shown)
    threading.Thread(target=_execute, args=(job, picked), name=f"whatif-{job.id}", daemon=True).start()
    return RedirectResponse(f"/whatif/runs/{job.id}", status_code=303)


@router.get("/runs/{job_id}")
def run_page(request: Request, user: WhatIfUser, job_id: str) -> Response:
    job = _store(request).get(job_id, user)
    rows = []
    if job.result is not None:
        for key in SUMMARY_KEYS:
            cells = [
                format_interval(key, sc.summary[key].mean, sc.summary[key].low, sc.summary[key].high)
                for sc in job.result.scenarios.values()
            ]
            rows.append({"label": SUMMARY_LABELS[key], "cells": cells})
    context = {
        "title": "What if? (simulated)",
        "job": job,
        "rows": rows,
        "banner": BANNER,
        "summary_charts": [job.charts[f"summary-{k}"] for k in SUMMARY_KEYS if f"summary-{k}" in job.charts],
        "series_charts": [job.charts[f"series-{k}"] for k in SERIES_CHARTS if f"series-{k}" in job.charts],
        "descriptions": {n: " ".join(sc.description.split()) for n, sc in job.result.scenarios.items()}
        if job.result
        else {},
        "simulated_beside": _simulated_beside(job),
    }
    return render(request, "whatif_run.html", context, user=user)


def _simulated_beside(job: Job) -> list[dict[str, str]]:
    """The simulated figure that moves the run's direction number, per scenario, to read beside its target."""
    link = link_for(job.metric)
    if link is None or job.result is None:
        return []
    key = link.simulated
    return [
        {
            "scenario": name,
            "value": format_interval(key, sc.summary[key].mean, sc.summary[key].low, sc.summary[key].high),
        }
        for name, sc in job.result.scenarios.items()
        if key in sc.summary
    ]


@router.get("/runs/{job_id}/status")
def run_status(request: Request, user: WhatIfUser, job_id: str) -> JSONResponse:
    """Progress and, when done, the summary (mean, low, high per key): what the page polls."""
    return JSONResponse(_store(request).get(job_id, user).status_json())
