"""Direction numbers published outside the cube (docs/targets.md): prevention coverage (the skills lessons
delivered of those due) and ideas implemented (the voice metrics), shown on the leader's home beside the
cube's direction cards, each with its own period and its own small-cell rule, its target and status and a
12-month trend (`onward.metrics.direction_extras`).

The figures and their trends are computed once per version of the published figures (the cube's data
version: clinical writes are folded in with the cube's own background refresh, docs/metrics.md
"Refresh") and period, one computation at a time (the engine's DuckDB connection serves one call at a
time), and kept in memory; a hidden figure or month is never shown, drawn or compared. Targets are read
on every request, as for the cube's cards, so a new target shows at once; the status and the trend line
are cheap to draw."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from markupsafe import Markup

from onward.metrics.direction_extras import ExtraFigure, own_page_figures
from onward.model.targets import Status, Targets, TargetView
from onward.web.metrics_cache import MetricsView
from onward.web.scorecards import trend_svg


@dataclass(frozen=True, slots=True)
class ExtraCard:
    """One number published on its own page, as the leader's home shows it (`status` and `target` as on
    a cube card's line, for the shared status partial)."""

    extra: ExtraFigure
    target: TargetView | None
    status: Status
    trend_svg: Markup
    trend_text: str

    @property
    def title(self) -> str:
        return self.extra.definition.title

    @property
    def figure(self) -> str:
        return self.extra.figure

    @property
    def basis(self) -> str:
        return self.extra.basis

    @property
    def link(self) -> str:
        return self.extra.link


_CACHE: dict[tuple[Any, ...], list[ExtraFigure]] = {}
_LOCK = threading.Lock()
_COMPUTE = threading.Lock()


def extra_figures(request: Request, view: MetricsView) -> list[ExtraFigure]:
    """The figures and trends of the view's period (cached per data version and period)."""
    url = request.app.state.settings.resolved_database_url
    key = (url, view.version, view.period["period"], view.period["as_of"])
    with _LOCK:
        held = _CACHE.get(key)
    if held is not None:
        return held
    with _COMPUTE:  # concurrent first requests compute once; the others then find it cached
        with _LOCK:
            held = _CACHE.get(key)
        if held is not None:
            return held
        out = own_page_figures(url, view.period)
        with _LOCK:
            if len(_CACHE) > 16:
                _CACHE.clear()
            _CACHE[key] = out
        return out


def cards(figures: list[ExtraFigure], targets: Targets) -> list[ExtraCard]:
    """Each figure with the system's target in force, its status and its trend line."""
    out = []
    for extra in figures:
        target, state = extra.against(targets)
        line = trend_svg(extra.definition, extra.trend_rows(), None if target is None else target.value)
        out.append(ExtraCard(extra, target, state, line, extra.trend_text()))
    return out


def direction_extras(request: Request, view: MetricsView, targets: Targets) -> list[ExtraCard]:
    """The extra direction numbers of the view's period with their targets in force."""
    return cards(extra_figures(request, view), targets)
