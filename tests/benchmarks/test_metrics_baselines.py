"""The benchmark's baselines compute the same numbers as Onward, or their timings would mean nothing.

The pandas implementation is written independently from the Ibis one, so agreement on a generated extract
with every metric, group and edge (censoring, episodes without referral, empty groups) checks both.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import bench_metrics, metrics_pandas, metrics_sql  # noqa: E402
from onward.metrics.backends import open_event_log  # noqa: E402
from onward.metrics.period import Period  # noqa: E402
from onward.metrics.suite import MetricsResult, compute_metrics  # noqa: E402


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bench-extract")
    bench_metrics.generate_extract(folder, people=800, services_target=8_000, seed=5)
    return folder


@pytest.fixture(scope="module")
def onward_result(extract: Path) -> MetricsResult:
    return compute_metrics(open_event_log(data=extract), period=Period(), by=("program", "month"))


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def test_generated_extract_respects_the_contract(extract: Path) -> None:
    import pyarrow.parquet as pq

    from onward.interop.files import arrow_schema

    for name in ("people", "programs", "staff", "referrals", "episodes", "services", "measurements"):
        assert pq.read_schema(extract / f"{name}.parquet").names == arrow_schema(name).names
    episodes = pq.read_table(extract / "episodes.parquet").to_pylist()
    assert any(e["referral_id"] is None for e in episodes) and any(e["end_date"] is None for e in episodes)
    assert all(e["end_date"] is None or e["end_date"] >= e["start_date"] for e in episodes)


def test_pandas_baseline_matches_onward_on_every_metric(extract: Path, onward_result: MetricsResult) -> None:
    baseline = metrics_pandas.compute(extract)
    compared, mismatches = 0, []
    for group in onward_result.groups:
        key = (group.key["program_id"], str(group.key["month"]))
        theirs = baseline.get(key)
        for metric, figure in group.figures.items():
            if theirs is None:  # an empty group: pandas never sees it; Onward reports nothing there
                assert figure.value in (None, 0), (key, metric, figure.value)
                continue
            compared += 1
            if not _same(figure.value, theirs[metric]):
                mismatches.append((key, metric, figure.value, theirs[metric]))
    assert mismatches == []
    assert compared > 5_000
    assert set(baseline) <= {(g.key["program_id"], str(g.key["month"])) for g in onward_result.groups}


def test_hand_written_sql_matches_onward(extract: Path, onward_result: MetricsResult) -> None:
    con = metrics_sql.connect(extract)
    data_end = metrics_sql.data_end(con)
    assert data_end.isoformat() == onward_result.period.data_end.isoformat()
    rows = metrics_sql.compute(
        extract, start=onward_result.period.start, end=onward_result.period.end, data_end=data_end, con=con
    )
    ours = {(g.key["program_id"], g.key["month"]): g.figures for g in onward_result.groups}
    for metric, found in rows.items():
        assert found, metric
        for program, month, value in found:
            assert _same(ours[(program, month.strftime("%Y-%m"))][metric].value, value), (
                program,
                month,
                metric,
            )
