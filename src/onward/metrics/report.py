"""The published report: every metric with its value, monthly trend, breakdown by program, definition and
source, in one self-contained HTML file (Vega-Lite JavaScript inlined), or its charts as PDF/PNG.

A report covers one calendar period (month, quarter or year) as of a month end, taken from the same
suppressed cube as the web and the API (`onward.metrics.publish`), so it can be combined with them without
giving a small cell away; turning suppression off marks every page "internal use". Synthetic data is
labelled as such.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import altair as alt
import vl_convert as vlc

from onward.metrics.backends import EventLog
from onward.metrics.period import CalendarPeriod
from onward.metrics.publish import (
    MINUTE_BASED,
    NO_PROGRAM,
    POINT_IN_TIME,
    answer,
    period_extras,
    program_names,
    publish,
)
from onward.metrics.registry import METRICS, PROGRAM_GROUPING, MetricDefinition
from onward.model.targets import STATUS_RULE, Status, Targets, TargetView, status_in_row
from onward.security.suppression import SMALL_CELL_MAX, SUPPRESSED

__all__ = ["MINUTE_BASED", "NO_PROGRAM", "POINT_IN_TIME", "ReportData", "build_report", "gather", "published"]

ReportFormat = Literal["html", "pdf", "png"]
FORMATS: tuple[ReportFormat, ...] = ("html", "pdf", "png")


@dataclass(frozen=True, slots=True)
class OwnPageLine:
    """A direction number published on its own page (docs/targets.md), as the report prints it."""

    key: str
    title: str
    figure: str
    basis: str
    target: str  # the target and status sentence (`target_sentence`)


@dataclass
class ReportData:
    """One calendar period as published (`onward.metrics.publish.answer`): overall, by month, by program,
    by program and month; suppressed unless `suppressed` is False (internal use)."""

    overall: dict[str, Any]
    by_month: list[dict[str, Any]]
    by_program: list[dict[str, Any]]
    by_program_month: list[dict[str, Any]]
    period: dict[str, Any]
    programs: dict[str, str] = field(default_factory=dict)
    source: str = ""
    synthetic: bool = False
    suppressed: bool = True
    suppression: dict[str, Any] = field(default_factory=dict)
    targets: Targets | None = None  # the targets in force (from the database; None for an extract)
    own_page: list[OwnPageLine] = field(default_factory=list)  # direction numbers on their own pages


def target_sentence(target: TargetView, state: Status) -> str:
    """'Target at least 50.0 % (set by lee: why) · ✓ on track: 55.0 % meets the target ...'."""
    origin = "public standard: " if target.origin == "default" else f"set by {target.set_by}: "
    return f"Target {target.phrase} ({origin}{target.reason}) · {state.label}: {state.explanation}."


def target_text(data: ReportData, definition: MetricDefinition) -> str:
    """'Target at least 50.0 % (public standard …) · ✗ off track: …', or why there is none."""
    if data.targets is None:
        return "Targets: none read (targets are kept in the database; report with --db to show them)."
    target = data.targets.system(definition.key)
    if target is None:
        return "No target." if definition.good is not None else "A volume: no target."
    return target_sentence(target, status_in_row(definition, data.overall, target.value, target.margin))


def gather(
    log: EventLog,
    *,
    period: CalendarPeriod | None = None,
    as_of: date | None = None,
    suppress: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    synthetic: bool = False,
) -> ReportData:
    """The published figures of `period` (default: the latest complete quarter) as of the month end
    `as_of` (default: the latest complete month), from the cube every published output shares.

    `progress(step, done, total)` is called as each aggregate query starts.
    """
    cube = publish(log, as_of=as_of, suppress=suppress, progress=progress)
    chosen = period if period is not None else cube.default_period()
    view = answer(cube, chosen, period_extras(log, cube, chosen))
    return ReportData(
        overall=view["metrics"],
        by_month=view["by_month"],
        by_program=view["by_program"],
        by_program_month=view["by_program_month"],
        period=view["period"],
        programs=program_names(log),
        source=log.source,
        synthetic=synthetic,
        suppressed=suppress,
        suppression=view["suppression"],
    )


def published(data: ReportData) -> dict[str, Any]:
    """One `{"period", "metrics", "groups"}` object holding all three breakdowns (the chart helpers' input):
    by program with month None, by month with program None."""
    groups = [
        *data.by_program_month,
        *({**g, "month": None} for g in data.by_program),
        *({**g, "program_id": None} for g in data.by_month),
    ]
    return {"period": data.period, "metrics": dict(data.overall), "groups": groups}


def is_synthetic_source(*, data: Path | None = None, db: str | None = None) -> bool:
    """Whether the source says it is synthetic: an extract folder's manifest or marker
    (`onward.interop.files.is_synthetic_extract`), or a database holding a synthetic import or the
    demo accounts (`onward.services.provenance`)."""
    if data is not None:
        from onward.interop.files import is_synthetic_extract

        return is_synthetic_extract(data)
    if db is None:
        return False
    from onward.services.provenance import database_holds_synthetic_data

    return database_holds_synthetic_data(db)


# --- rendering --------------------------------------------------------------------------------------------


def _fmt(definition: MetricDefinition, value: Any, hidden: bool) -> str:
    if hidden:
        return "–"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if definition.kind == "rate" and definition.key not in {"cm_per_treatment"}:
        return f"{100 * float(value):.1f} %"
    if definition.kind == "ratio":
        return f"{float(value):.2f}"
    if definition.kind == "days":
        return f"{int(value)} days"
    return f"{int(value):,}"


def _is_hidden(row: dict[str, Any], key: str) -> bool:
    return key in row.get(SUPPRESSED, ())


def _chart_value(definition: MetricDefinition, value: Any) -> float | None:
    if value is None:
        return None
    return 100 * float(value) if definition.kind == "rate" else float(value)


def _axis_title(definition: MetricDefinition) -> str:
    return {"rate": "%", "days": "days", "ratio": "ratio", "count": "count"}[definition.kind]


def metric_chart(
    definition: MetricDefinition, view: dict[str, Any], programs: dict[str, str]
) -> alt.HConcatChart:
    """Monthly trend (line) beside the breakdown by program (bars); hidden and empty cells are left out."""
    key = definition.key
    months = [g for g in view["groups"] if g.get("program_id") is None and g.get("month") is not None]
    by_program = [g for g in view["groups"] if g.get("month") is None and g.get("program_id") is not None]
    trend_rows = [
        {"month": f"{g['month']}-01", "value": _chart_value(definition, g.get(key))}
        for g in months
        if not _is_hidden(g, key) and g.get(key) is not None
    ]
    bar_rows = [
        {
            "program": programs.get(g["program_id"], g["program_id"]),
            "value": _chart_value(definition, g.get(key)),
        }
        for g in by_program
        if not _is_hidden(g, key) and g.get(key) is not None
    ]
    unit = _axis_title(definition)
    hidden_months = sum(_is_hidden(g, key) for g in months)
    hidden_programs = sum(_is_hidden(g, key) for g in by_program)
    if not any(key in g for g in months):
        trend = _nothing("By month", width=380, height=180, note=NOT_BY_MONTH)
    elif not trend_rows:
        trend = _nothing(_titled("By month", hidden_months, "months"), width=380, height=180)
    else:
        trend = _trend(trend_rows, _titled("By month", hidden_months, "months"), unit)
    if not bar_rows:
        bars = _nothing(_titled("By program", hidden_programs, "programs"), width=300, height=60)
    else:
        bars = _bars(bar_rows, _titled("By program", hidden_programs, "programs"), unit)
    return alt.hconcat(trend, bars)


#: Why DRR-E figures have no monthly trend within a quarter or year.
NOT_BY_MONTH = "not given by month: a person's index is the first in the period, so months do not add up"


def _nothing(
    title: str, *, width: int, height: int, note: str = "nothing to show: suppressed or no data"
) -> alt.Chart:
    """A panel that says so when every value is suppressed or empty, instead of an empty axis."""
    chart: alt.Chart = (
        alt.Chart(_data([{"note": note}]), title=title)
        .mark_text(color="#777")
        .encode(text="note:N")
        .properties(width=width, height=height)
    )
    return chart


def _trend(rows: list[dict[str, Any]], title: str, unit: str) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(_data(rows), title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:T", title=None, timeUnit="yearmonth"),
            y=alt.Y("value:Q", title=unit),
            tooltip=[alt.Tooltip("month:T", timeUnit="yearmonth"), alt.Tooltip("value:Q", format=".1f")],
        )
        .properties(width=380, height=180)
    )
    return chart


def _bars(rows: list[dict[str, Any]], title: str, unit: str) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(_data(rows), title=title)
        .mark_bar()
        .encode(
            y=alt.Y("program:N", title=None, sort="-x"),
            x=alt.X("value:Q", title=unit),
            tooltip=["program:N", alt.Tooltip("value:Q", format=".1f")],
        )
        .properties(width=300, height=alt.Step(14))
    )
    return chart


def _data(rows: list[dict[str, Any]]) -> Any:
    return alt.Data(values=rows)  # type: ignore[no-untyped-call]


def _titled(title: str, hidden: int, what: str) -> str:
    return f"{title} ({hidden} {what} suppressed)" if hidden else title


@cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script, from vl-convert's offline copy (no CDN)."""
    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    expose = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"
    return str(vlc.javascript_bundle(expose, vl_version=f"v{major_minor}")).replace("</script", "<\\/script")


def _banner(data: ReportData) -> str:
    notes = []
    if data.synthetic:
        notes.append(
            '<p class="banner synthetic">Synthetic data: produced by a simulation, not real people.</p>'
        )
    if not data.suppressed:
        notes.append(
            '<p class="banner internal">INTERNAL USE ONLY — small-cell suppression is OFF: counts of 1 to '
            f"{SMALL_CELL_MAX} are shown. Do not publish or share outside the organisation.</p>"
        )
    return "\n".join(notes)


def _metric_section(
    index: int, definition: MetricDefinition, view: dict[str, Any], programs: dict[str, str], target: str = ""
) -> str:
    key = definition.key
    overall = view["metrics"]
    by_program = [g for g in view["groups"] if g.get("month") is None and g.get("program_id") is not None]
    rows = "\n".join(
        f"<tr><td>{html.escape(programs.get(g['program_id'], g['program_id']))}</td>"
        f"<td class=num>{_fmt(definition, g.get(key), _is_hidden(g, key))}</td></tr>"
        for g in by_program
    )
    value = _fmt(definition, overall.get(key), _is_hidden(overall, key))
    return f"""
<section id="{key}">
  <h2>{html.escape(definition.title)} <span class="value">{value}</span></h2>
  <p class="definition">{html.escape(definition.definition)}</p>
  <p class="source">Source: {html.escape(definition.source)}.
    By month: {html.escape(definition.month_grouping)}.</p>
  <p class="target">{html.escape(target)}</p>
  <div class="chart" id="chart-{index}"></div>
  <details><summary>Table by program</summary>
    <table><thead><tr><th>Program</th><th>{html.escape(definition.title)}</th></tr></thead>
    <tbody>{rows}</tbody></table>
  </details>
</section>"""


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;
  padding:0 1em;color:#222}
h1{margin-bottom:.2em} h2{border-top:1px solid #ddd;padding-top:.8em;font-size:1.2em}
h2 .value{float:right;font-size:1.3em;color:#1f4e79}
.definition{margin:.2em 0}.source,.meta{color:#555;font-size:.9em}
.banner{padding:.6em 1em;border-radius:4px;font-weight:600}
.synthetic{background:#fff4d6;border:1px solid #e0b400}.internal{background:#fde2e1;border:1px solid #c0392b}
table{border-collapse:collapse;margin:.5em 0}
td,th{border-bottom:1px solid #eee;padding:2px 10px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
"""


def render_html(data: ReportData) -> str:
    """The whole report as one HTML document with every script inlined."""
    view = published(data)
    period = data.period
    sections, specs = [], []
    for index, definition in enumerate(METRICS.values()):
        sections.append(
            _metric_section(index, definition, view, data.programs, target_text(data, definition))
        )
        specs.append(metric_chart(definition, view, data.programs).to_dict())
    legend = (
        f"“–” = suppressed: a count from 1 to {SMALL_CELL_MAX}, or a figure from which one could be derived "
        "(CMS cell-size suppression policy). “n/a” = nothing to measure (an empty denominator)."
        if data.suppressed
        else "“n/a” = nothing to measure (an empty denominator)."
    )
    script = "\n".join(
        f"vegaEmbed('#chart-{i}', {json.dumps(spec)}, {{actions: false, renderer: 'svg'}});"
        for i, spec in enumerate(specs)
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Onward report {html.escape(period["title"])}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style>
<script>{vega_bundle()}</script></head>
<body>
<h1>Onward: how the system is doing</h1>
<p class="meta">{period_line(period)} · source {html.escape(data.source)} · generated {generated}</p>
{_banner(data)}
<p class="meta">{html.escape(legend)} By program: {html.escape(PROGRAM_GROUPING)}</p>
<p class="meta">Status against targets: {html.escape(STATUS_RULE)}</p>
{"".join(sections)}
{_own_page_section(data.own_page)}
<script>{script}</script>
</body></html>
"""


def _own_page_section(lines: list[OwnPageLine]) -> str:
    if not lines:
        return ""
    items = "".join(
        f'<section id="{html.escape(x.key)}"><h3>{html.escape(x.title)} <span class="value">'
        f'{html.escape(x.figure)}</span></h3><p class="definition">{html.escape(x.basis)}</p>'
        f'<p class="target">{html.escape(x.target)}</p></section>'
        for x in lines
    )
    return (
        '<h2>Also the direction, published on their own pages</h2><p class="meta">Their own periods and '
        f"small-cell rule (a count from 1 to {SMALL_CELL_MAX} hides the figure); targets for the system only."
        f"</p>{items}"
    )


def period_line(period: dict[str, Any]) -> str:
    """The period and data end every published output states (docs/metrics.md, "Published figures")."""
    return (
        f"Period {period['title']} ({period['from']} to {period['to']}) · figures as of {period['as_of']}, "
        f"the last month end on or before the latest event ({period['latest_event']})"
    )


def report_chart(data: ReportData) -> alt.VConcatChart:
    """All metric charts stacked, each titled with its value and definition (for PDF/PNG output)."""
    view = published(data)
    rows = []
    for definition in METRICS.values():
        value = _fmt(
            definition, view["metrics"].get(definition.key), _is_hidden(view["metrics"], definition.key)
        )
        chart = metric_chart(definition, view, data.programs).properties(
            title=alt.TitleParams(
                f"{definition.title}: {value}",
                subtitle=_wrap(definition.definition) + _wrap(target_text(data, definition)),
                anchor="start",
            )
        )
        rows.append(chart)
    head = [period_line(data.period)]
    for x in data.own_page:
        head += _wrap(f"{x.title}: {x.figure} ({x.basis}). {x.target}")
    if data.synthetic:
        head.append("SYNTHETIC DATA: produced by a simulation, not real people.")
    if not data.suppressed:
        head.append("INTERNAL USE ONLY: small-cell suppression is OFF.")
    return alt.vconcat(*rows, title=alt.TitleParams("Onward: how the system is doing", subtitle=head))


def _wrap(text: str, width: int = 110) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def build_report(data: ReportData, *, out: Path, fmt: ReportFormat = "html") -> Path:
    """Write the report to `out` as HTML (self-contained), or its charts as one PDF or PNG via vl-convert."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        out.write_text(render_html(data), encoding="utf-8")
        return out
    spec = report_chart(data).to_dict()
    major_minor = "_".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    if fmt == "pdf":
        out.write_bytes(vlc.vegalite_to_pdf(spec, vl_version=major_minor))
    else:
        out.write_bytes(vlc.vegalite_to_png(spec, vl_version=major_minor, scale=1.0))
    return out
