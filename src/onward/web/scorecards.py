"""The two kinds of number on the role homes (docs/targets.md): the leader's "direction" cards for the
system and the manager's "running the ship" tables for their programs, each figure with its monthly trend,
target and status in words, and links down to programs and months.

Figures come from the suppressed published view (`onward.web.metrics_cache`), so a hidden figure is never
drawn or compared; trends are small server-drawn SVG lines (no script, under the strict CSP) with a text
description that says every month's value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from onward.metrics.registry import METRICS, MetricDefinition
from onward.metrics.scorecard import Line, line
from onward.model.targets import Targets, format_value
from onward.security.suppression import SUPPRESSED
from onward.web.metrics_cache import MetricsView

#: The direction numbers a leader's home shows, in this order (every "direction" metric of the registry).
DIRECTION_KEYS: tuple[str, ...] = tuple(k for k, d in METRICS.items() if d.purpose == "direction")
#: The ship numbers a manager's home shows per program.
SHIP_KEYS: tuple[str, ...] = tuple(k for k, d in METRICS.items() if d.purpose == "ship")

_W, _H, _PAD = 160.0, 40.0, 4.0


@dataclass(frozen=True, slots=True)
class Card:
    """One figure of one scope as a home page shows it."""

    line: Line
    trend_svg: Markup
    trend_text: str
    months: list[str]  # the trend's months (YYYY-MM), for drill-down links


def _value(definition: MetricDefinition, row: Mapping[str, Any]) -> float | None:
    if definition.key in (row.get(SUPPRESSED) or ()):
        return None
    value = row.get(definition.key)
    return None if value is None else float(value)


def _month_text(definition: MetricDefinition, row: Mapping[str, Any]) -> str:
    if definition.key in (row.get(SUPPRESSED) or ()):
        return "suppressed"
    value = row.get(definition.key)
    return "no data" if value is None else format_value(definition, float(value))


def trend_svg(
    definition: MetricDefinition, rows: Sequence[Mapping[str, Any]], target: float | None
) -> Markup:
    """A small line of the monthly values (gaps where hidden or empty) and the target as a dashed line;
    empty when fewer than two months can be drawn."""
    values = [_value(definition, r) for r in rows]
    shown = [v for v in values if v is not None]
    if len(shown) < 2:
        return Markup("")
    low, high = min(shown), max(shown)
    if target is not None:
        low, high = min(low, target), max(high, target)
    span = (high - low) or 1.0
    step = (_W - 2 * _PAD) / max(1, len(values) - 1)

    def y(v: float) -> float:
        return _H - _PAD - (v - low) / span * (_H - 2 * _PAD)

    paths: list[str] = []
    current: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                paths.append(" ".join(current))
            current = []
            continue
        current.append(f"{'M' if not current else 'L'}{_PAD + i * step:.1f},{y(v):.1f}")
    if current:
        paths.append(" ".join(current))
    pieces = [Markup('<path class="trend-line" d="{}"/>').format(d) for d in paths]
    dots = [
        Markup('<circle class="trend-dot" cx="{:.1f}" cy="{:.1f}" r="2"/>').format(_PAD + i * step, y(v))
        for i, v in enumerate(values)
        if v is not None
    ]
    if target is not None:
        pieces.insert(
            0,
            Markup('<line class="trend-target" x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}"/>').format(
                _PAD, _W - _PAD, y(target), y(target)
            ),
        )
    return Markup(
        '<svg class="trend" viewBox="0 0 {:.0f} {:.0f}" width="{:.0f}" height="{:.0f}" aria-hidden="true" '
        'focusable="false">{}</svg>'
    ).format(_W, _H, _W, _H, Markup("").join([*pieces, *dots]))


def card(
    key: str,
    row: Mapping[str, Any],
    trend: Sequence[Mapping[str, Any]],
    targets: Targets,
    program: str | None,
) -> Card:
    item = line(key, row, targets, program)
    target = item.target.value if item.target is not None else None
    definition = item.definition
    text = "; ".join(f"{r['month']} {_month_text(definition, r)}" for r in trend)
    return Card(item, trend_svg(definition, trend, target), text, [str(r["month"]) for r in trend])


def direction_cards(view: MetricsView, targets: Targets) -> list[Card]:
    """The leader's home: every direction number for the system."""
    return [card(key, view.metrics, view.trend, targets, None) for key in DIRECTION_KEYS]


@dataclass(frozen=True, slots=True)
class ProgramShip:
    """One program's ship numbers on the manager's home."""

    program_id: str
    name: str
    cards: list[Card]


def ship_tables(view: MetricsView, targets: Targets, program_ids: Sequence[str]) -> list[ProgramShip]:
    """The manager's home: every ship number for each of their programs."""
    rows = {str(g["program_id"]): g for g in view.by_program}
    out: list[ProgramShip] = []
    for program in program_ids:
        row = rows.get(program, {})
        trend = view.program_trends.get(program, [])
        cards = [card(key, row, trend, targets, program) for key in SHIP_KEYS]
        out.append(ProgramShip(program, view.programs.get(program, program), cards))
    return out
