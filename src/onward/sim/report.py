"""The what-if comparison: Parquet series and one self-contained HTML report, every figure labelled SIMULATED.

Charts are Vega-Lite specs (Altair): monthly means with 95 % percentile bands of the replications,
and each headline figure as mean and interval per scenario. The HTML inlines the same offline
Vega bundle as the metrics report (no network needed to open it); the web page renders the same
specs to SVG on the server.
"""

from __future__ import annotations

import html
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import altair as alt
import pyarrow as pa
import pyarrow.parquet as pq
import vl_convert as vlc

from onward.metrics.report import vega_bundle
from onward.sim.montecarlo import INTERVAL_TEXT, SERIES_KEYS, SUMMARY_KEYS, SUMMARY_LABELS, MonteCarloResult

SIMULATED = "SIMULATED"
BANNER = (
    "SIMULATED: every figure on this page comes from the Onward microsimulation, not from measured data. "
    "Bands and intervals show the model's chance variation only, not uncertainty in its parameters: "
    + INTERVAL_TEXT
    + "."
)

#: Series drawn in the report, with the words leaders use.
SERIES_CHARTS: dict[str, str] = {
    "waiting": "People waiting",
    "in_treatment": "People in treatment",
    "case_management_only": "People in case management only",
    "recovered_in_service": "Recovered, still in service",
    "graduated": "Graduated",
    "unwell": "Unwell, not in contact with services",
    "admissions": "Admissions per month",
    "exits": "Exits from services per month",
}
SERIES_FILE, SUMMARY_FILE, RUNS_FILE, REPORT_FILE = (
    "series.parquet",
    "summary.parquet",
    "runs.parquet",
    "report.html",
)


def format_interval(key: str, mean: float, low: float, high: float) -> str:
    """`mean [low, high]`, shares as percentages, days with one decimal, counts as whole numbers."""
    if math.isnan(mean):
        return "n/a"
    if key == "treatment_share" or key.endswith("_rate"):
        return f"{100 * mean:.1f} % [{100 * low:.1f}, {100 * high:.1f}]"
    if key == "mean_wait_days":
        return f"{mean:.1f} [{low:.1f}, {high:.1f}]"
    return f"{mean:,.0f} [{low:,.0f}, {high:,.0f}]"


def series_table(result: MonteCarloResult) -> pa.Table:
    """Long table: scenario, month, measure, mean, low, high (95 % percentile band of the replications)."""
    cols: dict[str, list[Any]] = {k: [] for k in ("scenario", "month", "measure", "mean", "low", "high")}
    for name, sc in result.scenarios.items():
        months = sc.series["month"][0]
        for key in SERIES_KEYS[1:]:
            mean, low, high = sc.band(key)
            cols["scenario"] += [name] * months.size
            cols["month"] += months.tolist()
            cols["measure"] += [key] * months.size
            cols["mean"] += mean.tolist()
            cols["low"] += low.tolist()
            cols["high"] += high.tolist()
    return pa.table(cols)


def summary_table(result: MonteCarloResult) -> pa.Table:
    """Long table: scenario, key, mean, low, high, runs."""
    rows = [
        {"scenario": name, "key": key, **iv.to_json(), "runs": result.runs}
        for name, sc in result.scenarios.items()
        for key, iv in sc.summary.items()
    ]
    return pa.Table.from_pylist(rows)


def runs_table(result: MonteCarloResult) -> pa.Table:
    """One row per scenario and replication, with its engine seed and every summary key."""
    rows = []
    for name, sc in result.scenarios.items():
        for r in range(sc.runs.shape[0]):
            values = {k: float(sc.runs[r, j]) for j, k in enumerate(SUMMARY_KEYS)}
            rows.append({"scenario": name, "replication": r, "seed": result.seeds[r], **values})
    return pa.Table.from_pylist(rows)


def _data(rows: list[dict[str, Any]]) -> Any:
    return alt.Data(values=rows)  # type: ignore[no-untyped-call]


def series_chart(
    result: MonteCarloResult, key: str, *, width: int = 420, height: int = 200
) -> alt.LayerChart | alt.FacetChart:
    """Mean per month across replications, with the 2.5-97.5 percentile band, one colour per scenario."""
    rows = []
    for name, sc in result.scenarios.items():
        mean, low, high = sc.band(key)
        for month, m, lo, hi in zip(sc.series["month"][0], mean, low, high, strict=True):
            rows.append(
                {
                    "scenario": name,
                    "month": float(month),
                    "mean": float(m),
                    "low": float(lo),
                    "high": float(hi),
                }
            )
    title = alt.TitleParams(
        f"{SIMULATED}: {SERIES_CHARTS.get(key, key)}",
        subtitle="mean of the runs; band: 95 % of runs (2.5th-97.5th percentile)",
        anchor="start",
    )
    base = alt.Chart().encode(
        x=alt.X("month:Q", title="months since start"),
        color=alt.Color("scenario:N", title="scenario", sort=list(result.scenarios)),
    )
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("low:Q", title="people"), y2="high:Q")
    line = base.mark_line().encode(
        y="mean:Q",
        tooltip=["scenario:N", "month:Q", alt.Tooltip("mean:Q", format=",.0f"), "low:Q", "high:Q"],
    )
    return alt.layer(band, line, data=_data(rows), title=title).properties(width=width, height=height)


def summary_chart(result: MonteCarloResult, key: str, *, width: int = 300) -> alt.LayerChart | alt.FacetChart:
    """Each scenario's mean (point) and 95 % percentile interval (rule) for one headline figure."""
    scale = 100.0 if key == "treatment_share" else 1.0
    rows = [
        {
            "scenario": name,
            "mean": sc.summary[key].mean * scale,
            "low": sc.summary[key].low * scale,
            "high": sc.summary[key].high * scale,
        }
        for name, sc in result.scenarios.items()
        if not math.isnan(sc.summary[key].mean)
    ]
    unit = "%" if key == "treatment_share" else ("days" if key == "mean_wait_days" else "people")
    title = alt.TitleParams(f"{SIMULATED}: {SUMMARY_LABELS[key]}", anchor="start", fontSize=12)
    base = alt.Chart().encode(y=alt.Y("scenario:N", title=None, sort=list(result.scenarios)))
    rule = base.mark_rule().encode(x=alt.X("low:Q", title=unit), x2="high:Q")
    point = base.mark_point(filled=True, size=60).encode(
        x="mean:Q",
        color=alt.Color("scenario:N", legend=None, sort=list(result.scenarios)),
        tooltip=["scenario:N", "mean:Q", "low:Q", "high:Q"],
    )
    return alt.layer(rule, point, data=_data(rows), title=title).properties(
        width=width, height=max(40, 22 * len(rows))
    )


def chart_specs(result: MonteCarloResult) -> dict[str, dict[str, Any]]:
    """Every chart of the comparison as a Vega-Lite spec, keyed `summary-KEY` / `series-KEY`."""
    specs: dict[str, dict[str, Any]] = {}
    for key in SUMMARY_KEYS:
        specs[f"summary-{key}"] = summary_chart(result, key).to_dict()
    for key in SERIES_CHARTS:
        specs[f"series-{key}"] = series_chart(result, key).to_dict()
    return specs


#: The ARIA attributes Vega writes on its groups and marks (removed: the chart is one labelled image).
_ARIA = re.compile(r' (?:role|aria-roledescription|aria-label|aria-hidden)="[^"]*"')


def to_svg(spec: dict[str, Any]) -> str:
    """A Vega-Lite spec rendered on the server (vl-convert, offline) as an SVG string.

    For screen readers the chart is one image named by its title: the root <svg> gets role="img" and an
    aria-label, and the ARIA roles Vega puts on its mark groups are removed, since each would be an image
    without alternative text (axe-core's svg-img-alt). The figures are in the table beside the charts."""
    title = spec.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    if isinstance(text, list):
        text = " ".join(str(t) for t in text)
    version = "_".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    svg = str(vlc.vegalite_to_svg(spec, vl_version=version))
    svg = _ARIA.sub("", svg)
    label = html.escape(str(text or "SIMULATED chart"), quote=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _summary_rows(result: MonteCarloResult) -> str:
    rows = []
    for key in SUMMARY_KEYS:
        cells = "".join(
            f"<td class=num>{html.escape(format_interval(key, *_triple(sc.summary[key])))}</td>"
            for sc in result.scenarios.values()
        )
        rows.append(f"<tr><th scope=row>{html.escape(SUMMARY_LABELS[key])}</th>{cells}</tr>")
    return "\n".join(rows)


def _triple(iv: Any) -> tuple[float, float, float]:
    return float(iv.mean), float(iv.low), float(iv.high)


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;
  padding:0 1em;color:#222}
.banner{padding:.6em 1em;border-radius:4px;font-weight:600;background:#fff4d6;border:1px solid #e0b400}
.meta{color:#555;font-size:.9em} table{border-collapse:collapse;margin:.5em 0}
td,th{border-bottom:1px solid #eee;padding:3px 10px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:flex;flex-wrap:wrap;gap:1em}
"""


def render_html(result: MonteCarloResult) -> str:
    """The comparison as one HTML document with every script inlined (opens offline)."""
    specs = chart_specs(result)
    names = list(result.scenarios)
    head = "".join(f"<th scope=col>{html.escape(n)}</th>" for n in names)
    stories = "".join(
        f"<li><b>{html.escape(n)}</b>: {html.escape(' '.join(sc.description.split()))}</li>"
        for n, sc in result.scenarios.items()
    )
    divs = {k: f'<div class="chart" id="chart-{i}"></div>' for i, k in enumerate(specs)}
    summary_divs = "".join(v for k, v in divs.items() if k.startswith("summary-"))
    series_divs = "".join(v for k, v in divs.items() if k.startswith("series-"))
    script = "\n".join(
        f"vegaEmbed('#chart-{i}', {json.dumps(spec)}, {{actions: false, renderer: 'svg'}});"
        for i, spec in enumerate(specs.values())
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{SIMULATED}: Onward what-if comparison</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style>
<script>{vega_bundle()}</script></head>
<body>
<h1>{SIMULATED}: what if we ran the system differently?</h1>
<p class="banner">{html.escape(BANNER)}</p>
<p class="meta">{result.people:,} simulated residents · {result.years:g} years ({result.step}ly steps) ·
{result.runs} replications per scenario, common random numbers · seed {result.seed} · engine {result.engine}
· generated {generated}</p>
<ul>{stories}</ul>
<h2>{SIMULATED}: headline figures, mean [95 % interval]</h2>
<table><thead><tr><th></th>{head}</tr></thead><tbody>{_summary_rows(result)}</tbody></table>
<div class="grid">{summary_divs}</div>
<h2>{SIMULATED}: month by month</h2>
<div class="grid">{series_divs}</div>
<script>{script}</script>
</body></html>
"""


def write_outputs(result: MonteCarloResult, out: Path) -> dict[str, Path]:
    """Write series, summary and per-run Parquet files and the HTML report into folder `out`."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "series": out / SERIES_FILE,
        "summary": out / SUMMARY_FILE,
        "runs": out / RUNS_FILE,
        "report": out / REPORT_FILE,
    }
    pq.write_table(series_table(result), paths["series"])
    pq.write_table(summary_table(result), paths["summary"])
    pq.write_table(runs_table(result), paths["runs"])
    paths["report"].write_text(render_html(result), encoding="utf-8")
    return paths
