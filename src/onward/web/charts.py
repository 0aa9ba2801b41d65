"""Charts of one person's care drawn as SVG on the server: score trends, sparklines, a services timeline.

Server-side SVG needs no script, so it works under the strict content-security policy (no inline
script or style: colours come from classes in `static/pathways.css`), prints, and reads on a phone.
Each chart has a title and a description for screen readers that say in words what it shows. Every
piece is built from a literal template with `Markup(...).format(...)`, which escapes each value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

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
        Markup(
            '<svg class="spark" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}">'
        ).format(f"{width:.0f}", f"{height:.0f}", f"{width:.0f}", f"{height:.0f}", words)
    ]
    if caseness is not None:
        cy = _a(y(caseness))
        parts.append(
            Markup('<line class="caseness" x1="0" x2="{}" y1="{}" y2="{}"/>').format(_a(width), cy, cy)
        )
    if n > 1:
        path = " ".join(f"{_a(x)},{_a(yy)}" for x, yy in coords)
        parts.append(Markup('<polyline class="line" points="{}"/>').format(path))
    last_x, last_y = coords[-1]
    parts.append(Markup('<circle class="dot" cx="{}" cy="{}" r="2.5"/>').format(_a(last_x), _a(last_y)))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


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

    parts = [
        Markup(
            '<svg class="trend" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-t {}-d" '
            'preserveAspectRatio="xMidYMid meet"><title id="{}-t">{}</title><desc id="{}-d">{}</desc>'
        ).format(
            f"{width:.0f}",
            f"{height:.0f}",
            chart_id,
            chart_id,
            chart_id,
            title,
            chart_id,
            _describe(spec, plain),
        )
    ]
    # The band of no reliable change: scores inside it have not moved reliably from the first one.
    if spec.reliable_change:
        base = points[0].score
        high = min(spec.max_score, base + spec.reliable_change - 1)
        low = max(0, base - spec.reliable_change + 1)
        band_label = "no real change" if plain else f"no reliable change (±{spec.reliable_change - 1})"
        parts.append(
            Markup(
                '<rect class="band" x="{}" y="{}" width="{}" height="{}"/>'
                '<text class="band-label" x="{}" y="{}" text-anchor="end">{}</text>'
            ).format(
                _a(left),
                _a(y(high)),
                _a(width - left - right),
                _a(y(low) - y(high)),
                _a(width - right - 4),
                _a(y(high) + 12),
                band_label,
            )
        )
    # Axes and horizontal grid.
    for value in _score_ticks(spec.max_score):
        parts.append(
            Markup(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>'
            ).format(
                _a(left), _a(width - right), _a(y(value)), _a(y(value)), _a(left - 6), _a(y(value) + 4), value
            )
        )
    for tick in _ticks(first_day, last_day, 4):
        parts.append(
            Markup('<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>').format(
                _a(x(tick)), _a(height - bottom + 16), tick.strftime("%d %b %Y")
            )
        )
    if spec.caseness is not None:
        cy = y(spec.caseness)
        words = (
            f"{spec.caseness}: below this line is the healthy range" if plain else f"caseness {spec.caseness}"
        )
        parts.append(
            Markup(
                '<line class="caseness" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="caseness-label" x="{}" y="{}">{}</text>'
            ).format(_a(left), _a(width - right), _a(cy), _a(cy), _a(left + 4), _a(cy - 4), words)
        )
    if spec.planned_exit is not None:
        px = x(spec.planned_exit)
        parts.append(
            Markup(
                '<line class="exit" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="exit-label" x="{}" y="{}" text-anchor="end">{}</text>'
            ).format(
                _a(px),
                _a(px),
                _a(top),
                _a(height - bottom),
                _a(px - 4),
                _a(top + 10),
                "your planned exit" if plain else "planned exit",
            )
        )
    if len(points) > 1:
        path = " ".join(f"{_a(x(p.day))},{_a(y(p.score))}" for p in points)
        parts.append(Markup('<polyline class="line" points="{}"/>').format(path))
    for p in points:
        parts.append(
            Markup('<circle class="dot" cx="{}" cy="{}" r="4"><title>{}: {}</title></circle>').format(
                _a(x(p.day)), _a(y(p.score)), p.day, p.score
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


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
        Markup(
            '<svg class="timeline" viewBox="0 0 {} {}" role="img" aria-labelledby="services-t services-d">'
            '<title id="services-t">Services over time</title><desc id="services-d">{}</desc>'
        ).format(f"{width:.0f}", f"{height:.0f}", desc)
    ]
    for i, category in enumerate(rows):
        cy = top + row_h * i + row_h / 2
        parts.append(
            Markup(
                '<text class="axis" x="{}" y="{}" text-anchor="end">{} ({})</text>'
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            ).format(
                _a(left - 8),
                _a(cy + 4),
                category.replace("_", " "),
                counts[category],
                _a(left),
                _a(width - right),
                _a(cy),
                _a(cy),
            )
        )
        for m in marks:
            if m.category == category:
                parts.append(
                    Markup(
                        '<rect class="mark cat-{}" x="{}" y="{}" width="4" height="14">'
                        "<title>{}</title></rect>"
                    ).format(_id(category), _a(x(m.day) - 2), _a(cy - 7), m.label)
                )
    base = top + row_h * len(rows) + 16
    for tick in _ticks(start, end, 4):
        parts.append(
            Markup('<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>').format(
                _a(x(tick)), _a(base), tick.strftime("%d %b %Y")
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
