"""Charts of one person's care drawn as SVG on the server: score trends, sparklines, a services timeline.

Server-side SVG needs no script, so it works under the strict content-security policy (no inline
script or style: colours come from classes in `static/pathways.css`), prints, and reads on a phone.
Each chart has a title and a description for screen readers that say in words what it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from markupsafe import Markup


@dataclass(frozen=True, slots=True)
class Point:
    day: date
    score: int


@dataclass(frozen=True, slots=True)
class TrendSpec:
    """One instrument's scores and its reference lines."""

    name: str  # "PHQ-9"
    points: Sequence[Point]
    max_score: int
    caseness: int | None = None
    reliable_change: int | None = None  # draws the band of no reliable change around the first score
    planned_exit: date | None = None


def _a(value: float) -> str:
    return f"{value:.1f}"


def _id(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower())


def sparkline(points: Sequence[Point], *, max_score: int, label: str, caseness: int | None = None) -> Markup:
    """A small line of the latest scores (oldest left), with the caseness line when known."""
    width, height, pad = 96.0, 28.0, 3.0
    if not points:
        return Markup("")
    n = len(points)
    step = (width - 2 * pad) / max(1, n - 1)

    def y(score: float) -> float:
        return height - pad - (height - 2 * pad) * min(score, max_score) / max(1, max_score)

    coords = [(pad + i * step if n > 1 else width / 2, y(p.score)) for i, p in enumerate(points)]
    words = f"{label}: " + ", ".join(str(p.score) for p in points) + f" (latest {points[-1].day})"
    parts = [
        f'<svg class="spark" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'height="{height:.0f}" role="img" aria-label="{escape(words)}">'
    ]
    if caseness is not None:
        parts.append(
            f'<line class="caseness" x1="0" x2="{_a(width)}" y1="{_a(y(caseness))}" y2="{_a(y(caseness))}"/>'
        )
    if n > 1:
        path = " ".join(f"{_a(x)},{_a(yy)}" for x, yy in coords)
        parts.append(f'<polyline class="line" points="{path}"/>')
    last_x, last_y = coords[-1]
    parts.append(f'<circle class="dot" cx="{_a(last_x)}" cy="{_a(last_y)}" r="2.5"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _ticks(first: date, last: date, count: int) -> list[date]:
    span = max(1, (last - first).days)
    return [first + timedelta(days=round(span * i / (count - 1))) for i in range(count)]


def trend_chart(spec: TrendSpec, *, plain: bool = False, today: date | None = None) -> Markup:
    """Scores over time with the caseness line and the band of no reliable change around the first
    score. `plain` words the labels for the person themselves rather than for a clinician."""
    width, height = 640.0, 260.0
    left, right, top, bottom = 40.0, 16.0, 16.0, 36.0
    points = list(spec.points)
    title = f"{spec.name} scores over time" if not plain else f"Your {spec.name} answers over time"
    chart_id = _id(f"trend-{spec.name}")
    if not points:
        return Markup("")
    days = [p.day for p in points]
    first_day = min(days)
    last_day = max([*days, *([spec.planned_exit] if spec.planned_exit else []), *([today] if today else [])])
    if last_day == first_day:
        last_day = first_day + timedelta(days=7)
    span = (last_day - first_day).days

    def x(day: date) -> float:
        return left + (width - left - right) * (day - first_day).days / span

    def y(score: float) -> float:
        return top + (height - top - bottom) * (1 - min(score, spec.max_score) / spec.max_score)

    desc = _describe(spec, plain)
    parts = [
        f'<svg class="trend" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    # The band of no reliable change: scores inside it have not moved reliably from the first one.
    if spec.reliable_change:
        base = points[0].score
        high, low = (
            min(spec.max_score, base + spec.reliable_change - 1),
            max(0, base - spec.reliable_change + 1),
        )
        parts.append(
            f'<rect class="band" x="{_a(left)}" y="{_a(y(high))}" width="{_a(width - left - right)}" '
            f'height="{_a(y(low) - y(high))}"/>'
        )
        band_label = "no real change" if plain else f"no reliable change (±{spec.reliable_change - 1})"
        parts.append(
            f'<text class="band-label" x="{_a(width - right - 4)}" y="{_a(y(high) + 12)}" '
            f'text-anchor="end">{escape(band_label)}</text>'
        )
    # Axes and horizontal grid.
    for value in _score_ticks(spec.max_score):
        parts.append(
            f'<line class="grid" x1="{_a(left)}" x2="{_a(width - right)}" '
            f'y1="{_a(y(value))}" y2="{_a(y(value))}"/>'
        )
        parts.append(
            f'<text class="axis" x="{_a(left - 6)}" y="{_a(y(value) + 4)}" text-anchor="end">{value}</text>'
        )
    for tick in _ticks(first_day, last_day, 4):
        parts.append(
            f'<text class="axis" x="{_a(x(tick))}" y="{_a(height - bottom + 16)}" text-anchor="middle">'
            f"{tick.strftime('%d %b %Y')}</text>"
        )
    if spec.caseness is not None:
        cy = y(spec.caseness)
        parts.append(
            f'<line class="caseness" x1="{_a(left)}" x2="{_a(width - right)}" y1="{_a(cy)}" y2="{_a(cy)}"/>'
        )
        words = (
            f"{spec.caseness}: below this line is the healthy range" if plain else f"caseness {spec.caseness}"
        )
        parts.append(
            f'<text class="caseness-label" x="{_a(left + 4)}" y="{_a(cy - 4)}">{escape(words)}</text>'
        )
    if spec.planned_exit is not None:
        px = x(spec.planned_exit)
        parts.append(
            f'<line class="exit" x1="{_a(px)}" x2="{_a(px)}" y1="{_a(top)}" y2="{_a(height - bottom)}"/>'
        )
        parts.append(
            f'<text class="exit-label" x="{_a(px - 4)}" y="{_a(top + 10)}" text-anchor="end">'
            f"{'your planned exit' if plain else 'planned exit'}</text>"
        )
    path = " ".join(f"{_a(x(p.day))},{_a(y(p.score))}" for p in points)
    if len(points) > 1:
        parts.append(f'<polyline class="line" points="{path}"/>')
    for p in points:
        parts.append(
            f'<circle class="dot" cx="{_a(x(p.day))}" cy="{_a(y(p.score))}" r="4">'
            f"<title>{p.day}: {p.score}</title></circle>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _score_ticks(max_score: int) -> list[int]:
    step = 5 if max_score <= 30 else 10
    return list(range(0, max_score + 1, step))


def _describe(spec: TrendSpec, plain: bool) -> str:
    points = spec.points
    first, last = points[0], points[-1]
    text = f"{len(points)} {spec.name} score{'s' if len(points) != 1 else ''}: " + "; ".join(
        f"{p.day} {p.score}" for p in points
    )
    if len(points) > 1 and spec.reliable_change:
        change = last.score - first.score
        if change <= -spec.reliable_change:
            text += ". Lower than at the start by a reliable margin" if plain else ". Reliable improvement"
        elif change >= spec.reliable_change:
            text += ". Higher than at the start by a reliable margin" if plain else ". Reliable deterioration"
        else:
            text += ". No reliable change from the first score"
    if spec.caseness is not None:
        below = last.score < spec.caseness
        text += f". Latest score {'below' if below else 'at or above'} the line at {spec.caseness}"
    return text + "."


@dataclass(frozen=True, slots=True)
class TimelineMark:
    day: date
    category: str
    label: str


def services_timeline(
    marks: Sequence[TimelineMark], *, categories: Sequence[str], start: date, end: date
) -> Markup:
    """One row per service category, one mark per service, from the episode's start to `end`."""
    if not marks:
        return Markup("")
    rows = [c for c in categories if any(m.category == c for m in marks)]
    width, row_h, left, right, top = 640.0, 22.0, 128.0, 16.0, 8.0
    height = top + row_h * len(rows) + 28
    span = max(1, (end - start).days)

    def x(day: date) -> float:
        return left + (width - left - right) * min(max((day - start).days, 0), span) / span

    counts = {c: sum(1 for m in marks if m.category == c) for c in rows}
    desc = "; ".join(f"{counts[c]} {c.replace('_', ' ')}" for c in rows) + f" services from {start} to {end}."
    parts = [
        f'<svg class="timeline" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-labelledby="services-t services-d">',
        '<title id="services-t">Services over time</title>',
        f'<desc id="services-d">{escape(desc)}</desc>',
    ]
    for i, category in enumerate(rows):
        cy = top + row_h * i + row_h / 2
        parts.append(
            f'<text class="axis" x="{_a(left - 8)}" y="{_a(cy + 4)}" text-anchor="end">'
            f"{escape(category.replace('_', ' '))} ({counts[category]})</text>"
        )
        parts.append(
            f'<line class="grid" x1="{_a(left)}" x2="{_a(width - right)}" y1="{_a(cy)}" y2="{_a(cy)}"/>'
        )
        for m in marks:
            if m.category == category:
                parts.append(
                    f'<rect class="mark cat-{_id(category)}" x="{_a(x(m.day) - 2)}" y="{_a(cy - 7)}" '
                    f'width="4" height="14"><title>{escape(m.label)}</title></rect>'
                )
    base = top + row_h * len(rows) + 16
    for tick in _ticks(start, end, 4):
        parts.append(
            f'<text class="axis" x="{_a(x(tick))}" y="{_a(base)}" text-anchor="middle">'
            f"{tick.strftime('%d %b %Y')}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
