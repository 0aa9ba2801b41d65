"""`onward report regulator`: one report for regulators and payers (docs/targets.md, "The regulator report").

This module holds the report's figures from the event log (the published cube, the voice metrics) and its
HTML and CSV; `onward.cli.regulator` adds what needs the services and the web layer (skills coverage as the
coverage page suppresses it, the council register, the PDF) and writes the files.

Sections: quality measures, access, outcomes (the published cube of `onward.metrics.publish`: one calendar
period as of a month end, linked suppression), skills coverage (the calendar year of the period's end, up
to it, suppressed per program as on the coverage page), ideas received and acted on (the voice metrics,
when this installation has them; small counts hidden), and the council's composition on the period's last
day. Each figure stands beside its target and status. Written as HTML (no script), PDF (that HTML printed
by headless Chromium, as the skills packets are) and CSV (one row per figure and scope).
"""

from __future__ import annotations

import csv
import html
import io
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from onward.errors import ValidationError
from onward.metrics.period import PERIOD_FORMS, CalendarPeriod
from onward.metrics.registry import METRICS, MetricDefinition
from onward.metrics.report import ReportData, period_line
from onward.model.own_page_metrics import OWN_PAGE_METRICS
from onward.model.targets import STATUS_RULE, Targets, format_value, status, status_in_row
from onward.security.suppression import SMALL_CELL_MAX, SUPPRESSED

#: The sections drawn from the published cube, in order: (title, metric keys).
CUBE_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Quality measures", ("sud_initiation_14d", "sud_engagement_34d", "followup_7d", "followup_30d")),
    (
        "Access",
        ("days_to_first_treatment_median", "days_to_first_treatment_p90", "share_treated_within_14_days"),
    ),
    (
        "Outcomes",
        (
            "recovery_rate",
            "reliable_improvement_rate",
            "reliable_recovery_rate",
            "reliable_deterioration_rate",
            "remission_6m",
            "response_6m",
            "graduation_rate",
            "stuck_share",
            "reentry_12m_rate",
        ),
    ),
)


def period_from_dates(start: date, end: date) -> CalendarPeriod:
    """--from/--to must delimit one calendar month, quarter or year exactly (published periods only)."""
    for kind in ("month", "quarter", "year"):
        label = {
            "month": f"{start.year:04d}-{start.month:02d}",
            "quarter": f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}",
            "year": f"{start.year:04d}",
        }[kind]
        candidate = CalendarPeriod.parse(label)
        if candidate.start == start and candidate.end == end:
            return candidate
    raise ValidationError(
        f"--from {start} --to {end} is not one calendar month, quarter or year: published figures answer "
        "only on those (two overlapping ranges subtract to a smaller one)",
        expected=f"the first and last day of {PERIOD_FORMS}, e.g. --from 2025-01-01 --to 2025-03-31",
    )


@dataclass
class Row:
    """One figure of one scope as the report prints it."""

    section: str
    key: str
    title: str
    scope: str  # "system" or a program id
    scope_name: str
    value: str
    numerator: str = ""
    denominator: str = ""
    suppressed: bool = False
    target: str = ""
    status: str = ""
    explanation: str = ""


@dataclass
class RegulatorReport:
    period: dict[str, Any]
    source: str
    synthetic: bool
    rows: list[Row] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # section -> what it covers, or why it is absent
    council: str = ""


def _count_text(value: Any, hidden: bool) -> str:
    if hidden or value is None:
        return ""
    return f"{float(value):,.0f}"


def cube_rows(data: ReportData, targets: Targets | None) -> list[Row]:
    rows: list[Row] = []
    scopes: list[tuple[str, str, dict[str, Any]]] = [("system", "All programs", data.overall)]
    scopes += [
        (str(g["program_id"]), data.programs.get(str(g["program_id"]), str(g["program_id"])), g)
        for g in data.by_program
    ]
    for section, keys in CUBE_SECTIONS:
        for key in keys:
            definition = METRICS[key]
            for scope, name, row in scopes:
                hidden = key in row.get(SUPPRESSED, ())
                value = row.get(key)
                target = None
                if targets is not None:
                    target = targets.system(key) if scope == "system" else targets.for_program(key, scope)
                state = status_in_row(
                    definition, row, target.value if target else None, target.margin if target else None
                )
                rows.append(
                    Row(
                        section,
                        key,
                        definition.title,
                        scope,
                        name,
                        _shown(definition, value, hidden),
                        _count_text(
                            row.get(f"{key}__numerator"), f"{key}__numerator" in row.get(SUPPRESSED, ())
                        ),
                        _count_text(
                            row.get(f"{key}__denominator"), f"{key}__denominator" in row.get(SUPPRESSED, ())
                        ),
                        hidden,
                        target.phrase if target else "",
                        state.label if target else "",
                        state.explanation if target else "",
                    )
                )
    return rows


def _shown(definition: MetricDefinition, value: Any, hidden: bool) -> str:
    if hidden:
        return "suppressed"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    return format_value(definition, float(value))


def plain(value: float | int | None, rate: bool) -> str:
    if value is None:
        return "no data"
    return f"{100 * float(value):.1f} %" if rate else f"{float(value):,.0f}"


def hide(numerator: float, denominator: int | None) -> bool:
    """A voice figure is hidden when a count behind it is from 1 to 10 (CMS cell-size policy)."""
    counts = [numerator] if denominator is None else [numerator, denominator - numerator]
    return any(1 <= c <= SMALL_CELL_MAX for c in counts)


def own_page_target(
    key: str, numerator: float | None, denominator: float | None, hidden: bool, targets: Targets | None
) -> tuple[str, str, str]:
    """(target, status, explanation) of a system figure of a direction number published on its own page
    (docs/targets.md); empty for any other figure or where no target is in force."""
    definition = OWN_PAGE_METRICS.get(key)
    target = None if definition is None or targets is None else targets.system(key)
    if definition is None or target is None:
        return "", "", ""
    value = None if hidden or not denominator or numerator is None else numerator / denominator
    state = status(
        definition,
        value,
        target.value,
        margin=target.margin,
        numerator=None if hidden else numerator,
        denominator=None if hidden else denominator,
        hidden=hidden,
    )
    return target.phrase, state.label, state.explanation


def voice_rows(
    url: str, period: CalendarPeriod, as_of: date, targets: Targets | None = None
) -> tuple[list[Row], str]:
    try:
        from onward.metrics.voice import VOICE_METRICS, voice_metrics_of_database
    except ImportError:  # an installation without voice (issue 12)
        return [], "Not included: this installation has no voice metrics (ideas received and acted on)."
    found = voice_metrics_of_database(url, period.start, min(period.end, as_of))
    rows = []
    for key in ("voice_ideas", "voice_share_implemented", "voice_share_evaluated"):
        definition, figure = VOICE_METRICS[key], found.figures[key]
        hidden = hide(figure.numerator, figure.denominator)
        value = figure.value
        rows.append(
            Row(
                "Ideas received and acted on",
                key,
                definition.title,
                "system",
                "All programs",
                "suppressed" if hidden else plain(value, figure.denominator is not None),
                "" if hidden else f"{figure.numerator:,.0f}",
                "" if hidden or figure.denominator is None else f"{figure.denominator:,}",
                hidden,
                *own_page_target(key, figure.numerator, figure.denominator, hidden, targets),
            )
        )
    note = (
        f"Ideas submitted to the council in {period.title}, and accepted or implemented ideas of the period "
        f"followed to {as_of} (the voice metrics, docs/metrics.md); counts from 1 to {SMALL_CELL_MAX} hidden."
    )
    return rows, note


_FIELDS = (
    "section",
    "key",
    "title",
    "scope",
    "scope_name",
    "value",
    "numerator",
    "denominator",
    "suppressed",
    "target",
    "status",
    "explanation",
)

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:1.5em auto;
  padding:0 1em;color:#1b2430}
h1{margin-bottom:.2em} h2{border-top:1px solid #d8dde5;padding-top:.6em;font-size:1.15em;break-after:avoid}
.meta{color:#4a5566;font-size:.9em} .banner{padding:.5em 1em;border:1px solid #b38600;background:#fff3d6}
table{border-collapse:collapse;margin:.4em 0 1em;width:100%;font-size:.85em;break-inside:auto}
td,th{border-bottom:1px solid #e4e7ec;padding:2px 6px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr{break-inside:avoid}
"""


def render_html(report: RegulatorReport) -> str:
    """The report as one HTML document: no script, stylesheet inlined (prints as it shows)."""
    p = report.period
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Onward regulator report {html.escape(p['title'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Onward: report for regulators and payers</h1>",
        f'<p class="meta">{html.escape(period_line(p))} · source {html.escape(report.source)} · generated '
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}</p>",
    ]
    if report.synthetic:
        parts.append('<p class="banner">SYNTHETIC DATA: produced by a simulation, not real people.</p>')
    parts.append(
        f'<p class="meta">“suppressed”: a count from 1 to {SMALL_CELL_MAX}, or a figure from which one '
        "could be worked out, is hidden (CMS cell-size suppression policy). “no data”: nothing to measure. "
        f"Status against targets: {html.escape(STATUS_RULE)}</p>"
    )
    sections = [s for s, _ in CUBE_SECTIONS] + ["Skills coverage", "Ideas received and acted on"]
    for section in sections:
        rows = [r for r in report.rows if r.section == section]
        parts.append(f"<section><h2>{html.escape(section)}</h2>")
        parts.append(f'<p class="meta">{html.escape(report.notes.get(section, ""))}</p>')
        if rows:
            parts.append(
                "<table><thead><tr><th>Figure</th><th>Scope</th><th>Value</th><th>Numerator</th>"
                "<th>Denominator</th><th>Target</th><th>Status</th></tr></thead><tbody>"
            )
            for r in rows:
                parts.append(
                    f"<tr><td>{html.escape(r.title)}</td><td>{html.escape(r.scope_name)}</td>"
                    f'<td class="num">{html.escape(r.value)}</td>'
                    f'<td class="num">{html.escape(r.numerator)}</td>'
                    f'<td class="num">{html.escape(r.denominator)}</td><td>{html.escape(r.target)}</td>'
                    f"<td>{html.escape(r.status)}</td></tr>"
                )
            parts.append("</tbody></table>")
        parts.append("</section>")
    parts.append(f"<section><h2>Council composition</h2><p>{html.escape(report.council)}</p></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render_csv(report: RegulatorReport) -> str:
    """One row per figure and scope, with the period and data end on every row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["period", "from", "to", "as_of", *_FIELDS])
    p = report.period
    head = [p["period"], p["from"], p["to"], p["as_of"]]
    for r in report.rows:
        writer.writerow([*head, *(getattr(r, name) for name in _FIELDS)])
    writer.writerow(
        [*head, "Council composition", "council", "", "system", "", report.council, "", "", "", "", "", ""]
    )
    return out.getvalue()
