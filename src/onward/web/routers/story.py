"""The story of this county (docs/targets.md, "The story"): the status quo in measured figures — people
stuck, case management outweighing treatment — and one click that runs the simulated alternatives side by
side: built to be left, treatment first, skills early (schools and prenatal), and all of them together.
Every simulated figure is labelled SIMULATED; voice has no lever in the simulator and the page says so."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from onward.metrics.scorecard import line
from onward.services.targets import targets_in_force
from onward.sim.scenario import load_scenario
from onward.web.deps import AggregatesUser, SessionDep
from onward.web.metrics_cache import metrics_cache
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

#: The measured figures that tell the status quo: people stuck, and where staff time goes.
STATUS_QUO_FIGURES = ("stuck_count", "stuck_share", "cm_per_treatment", "treatment_share", "graduation_rate")
#: The scenarios of the story, status quo first.
STORY = (
    "status-quo",
    "built-to-be-left",
    "treatment-first",
    "skills-schools",
    "skills-prenatal",
    "all-together",
)


@router.get("/story")
def story(request: Request, user: AggregatesUser, session: SessionDep) -> Response:
    view = metrics_cache(request).view(session)
    targets = targets_in_force(session)
    figures: list[Any] = [line(key, view.metrics, targets) for key in STATUS_QUO_FIGURES] if view else []
    scenarios = [(name, " ".join(load_scenario(name).description.split())) for name in STORY]
    context = {
        "title": "The story of this county",
        "view": view,
        "figures": figures,
        "scenarios": scenarios,
    }
    return render(request, "story.html", context, user=user)
