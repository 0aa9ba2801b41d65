from __future__ import annotations

import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from onward.sim.montecarlo import SERIES_KEYS, SUMMARY_KEYS, MonteCarloResult, run_scenarios
from onward.sim.report import (
    SERIES_CHARTS,
    chart_specs,
    format_interval,
    render_html,
    to_svg,
    write_outputs,
)
from onward.sim.scenario import Scenario, load_scenario


@pytest.fixture(scope="module")
def result() -> MonteCarloResult:
    return run_scenarios(
        [Scenario(name="status-quo"), load_scenario("treatment-first")],
        people=2_000,
        years=1.0,
        runs=3,
        seed=4,
        workers=1,
    )


def test_every_chart_is_titled_simulated(result: MonteCarloResult) -> None:
    specs = chart_specs(result)
    assert len(specs) == len(SUMMARY_KEYS) + len(SERIES_CHARTS)  # 9 system figures, 2 perinatal
    for name, spec in specs.items():
        assert spec["title"]["text"].startswith("SIMULATED: "), name


def test_series_band_data_holds_mean_and_percentiles(result: MonteCarloResult) -> None:
    spec = chart_specs(result)["series-waiting"]
    rows = spec["data"]["values"]
    sq = [r for r in rows if r["scenario"] == "status-quo"]
    mean, low, high = result.scenarios["status-quo"].band("waiting")
    assert [r["mean"] for r in sq] == pytest.approx(mean.tolist())
    assert [r["low"] for r in sq] == pytest.approx(low.tolist())
    assert [r["high"] for r in sq] == pytest.approx(high.tolist())


def test_outputs_are_parquet_and_a_self_contained_html(result: MonteCarloResult, tmp_path: Path) -> None:
    paths = write_outputs(result, tmp_path / "out")
    series = pq.read_table(paths["series"])
    assert series.column_names == ["scenario", "month", "measure", "mean", "low", "high"]
    assert series.num_rows == 2 * 12 * (len(SERIES_KEYS) - 1)  # every series but the month
    summary = pq.read_table(paths["summary"]).to_pylist()
    row = next(r for r in summary if r["scenario"] == "treatment-first" and r["key"] == "waiting")
    iv = result.scenarios["treatment-first"].summary["waiting"]
    assert (row["mean"], row["low"], row["high"]) == pytest.approx((iv.mean, iv.low, iv.high))
    runs = pq.read_table(paths["runs"])
    assert runs.num_rows == 6 and runs.column("seed").to_pylist()[:3] == result.seeds
    page = paths["report"].read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=", page)
    assert "vegaEmbed(" in page and page.count("SIMULATED") >= 10
    assert "treatment-first" in page and "2.5th" in page


def test_html_escapes_scenario_text(result: MonteCarloResult) -> None:
    result.scenarios["status-quo"].description = "<b>bold</b> & more"
    try:
        assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in render_html(result)
    finally:
        result.scenarios["status-quo"].description = ""


def test_server_side_svg(result: MonteCarloResult) -> None:
    svg = to_svg(chart_specs(result)["summary-stuck"])
    assert svg.lstrip().startswith("<svg") and "SIMULATED" in svg


@pytest.mark.parametrize(
    ("key", "values", "text"),
    [
        ("treatment_share", (0.4512, 0.45, 0.46), "45.1 % [45.0, 46.0]"),
        ("mean_wait_days", (82.33, 67.61, 95.7), "82.3 [67.6, 95.7]"),
        ("waiting", (1480.4, 1436.0, 1530.2), "1,480 [1,436, 1,530]"),
        ("waiting", (float("nan"),) * 3, "n/a"),
    ],
)
def test_format_interval(key: str, values: tuple[float, float, float], text: str) -> None:
    assert format_interval(key, *values) == text
