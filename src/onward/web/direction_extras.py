"""Direction numbers published outside the cube (docs/targets.md): prevention coverage (the skills lessons
delivered of those due) and ideas implemented (the voice metrics), shown on the leader's home beside the
cube's direction cards, each with its own period and its own small-cell rule, computed once per version
of the published figures (the cube's data version: clinical writes are folded in with the cube's own
background refresh, docs/metrics.md "Refresh") and period, one computation at a time (the engine's DuckDB
connection serves one call at a time), and kept in memory (only suppressed figures are kept)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from onward.metrics.regulator import hide as _hide
from onward.metrics.regulator import plain as _plain
from onward.web.metrics_cache import MetricsView


@dataclass(frozen=True, slots=True)
class Extra:
    title: str
    figure: str  # "suppressed" when a count behind it is from 1 to 10
    basis: str  # what it counts, over which period
    link: str


def _skills(url: str, as_of: date) -> Extra:
    from onward.metrics.backends import open_event_log
    from onward.metrics.period import Period
    from onward.metrics.skills import compute_skills_metrics

    year = as_of.year
    found = compute_skills_metrics(
        open_event_log(db=url), period=Period(date(year, 1, 1), as_of, as_of), db=url
    ).overall["skills_coverage"]
    hidden = _hide(found.numerator, found.denominator)
    return Extra(
        "Prevention coverage (skills lessons)",
        "suppressed" if hidden else _plain(found.value, True),
        f"lessons delivered of lessons due, {year} to {as_of}"
        + ("" if hidden or not found.denominator else f" ({found.denominator:,} due)"),
        "/skills/coverage",
    )


def _voice(url: str, start: date, end: date, title: str) -> Extra | None:
    try:
        from onward.metrics.voice import voice_metrics_of_database
    except ImportError:  # an installation without voice
        return None
    figure = voice_metrics_of_database(url, start, end).figures["voice_share_implemented"]
    hidden = _hide(figure.numerator, figure.denominator)
    return Extra(
        "Ideas implemented",
        "suppressed" if hidden else _plain(figure.value, True),
        f"accepted ideas decided in {title}, implemented by {end}",
        "/voice/metrics",
    )


_CACHE: dict[tuple[Any, ...], list[Extra]] = {}
_LOCK = threading.Lock()
_COMPUTE = threading.Lock()


def direction_extras(request: Request, session: Session, view: MetricsView) -> list[Extra]:
    """The extra direction numbers of the view's period (cached per data version and period)."""
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
        return _compute(url, key, view)


def _compute(url: str, key: tuple[Any, ...], view: MetricsView) -> list[Extra]:
    as_of = date.fromisoformat(view.period["as_of"])
    start, end = date.fromisoformat(view.period["from"]), date.fromisoformat(view.period["to"])
    out = [_skills(url, as_of)]
    voice = _voice(url, start, end, view.period["title"])
    if voice is not None:
        out.append(voice)
    with _LOCK:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = out
    return out
