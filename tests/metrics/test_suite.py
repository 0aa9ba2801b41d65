"""The suite as a whole: JSON shape, grouping grid, and identical results on every engine."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from metrics_helpers import LogFactory, compute, episode, service, write_log, write_random_log

from onward.interop.extracts import import_extract
from onward.metrics.backends import open_event_log
from onward.metrics.period import Period
from onward.metrics.registry import METRICS
from onward.metrics.suite import compute_metrics
from onward.store.migrate import upgrade_database

BY = ("program", "month")


def test_json_shape_and_group_keys(make_log: LogFactory) -> None:
    folder = make_log(
        episodes=[episode("E1", "a", "2024-01-20", "2024-02-10", end_reason="graduated")],
        services=[service("s1", "a", "E1", "2024-01-25")],
    )
    payload = compute(folder, by=("month",)).to_json()
    assert set(payload) == {"period", "metrics", "groups"}
    assert payload["period"] == {
        "from": "2024-01-20",
        "to": "2024-02-10",
        "as_of": None,
        "data_end": "2024-02-10",
    }
    assert list(payload["metrics"]) == list(METRICS)
    assert [g["month"] for g in payload["groups"]] == ["2024-01", "2024-02"]
    assert all(set(g) == {"month", *METRICS} for g in payload["groups"])  # only the keys asked
    assert compute(folder).to_json()["groups"] == []
    with_parts = compute(folder).to_json(with_parts=True)["metrics"]
    assert with_parts["graduation_rate__numerator"] == 1 and with_parts["graduation_rate__denominator"] == 1
    assert "admissions__numerator" not in with_parts


def test_program_by_month_grid_includes_empty_cells(make_log: LogFactory) -> None:
    folder = make_log(episodes=[episode("E1", "a", "2024-01-20", "2024-03-10")])
    groups = compute(folder, by=BY).to_json()["groups"]
    assert [(g["program_id"], g["month"]) for g in groups] == [
        (p, m) for p in ("P1", "P2") for m in ("2024-01", "2024-02", "2024-03")
    ]
    p2 = [g for g in groups if g["program_id"] == "P2"]
    assert all(g["admissions"] == 0 and g["graduation_rate"] is None for g in p2)


def test_unknown_grouping_is_refused(make_log: LogFactory) -> None:
    from onward.errors import ValidationError

    folder = make_log(episodes=[episode("E1", "a", "2024-01-20")])
    with pytest.raises(ValidationError, match="cannot group by staff"):
        compute(folder, by=("staff",))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
    return bool(a == b)


def _assert_identical(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert got["period"] == want["period"]
    assert len(got["groups"]) == len(want["groups"])
    for g, w in zip([got["metrics"], *got["groups"]], [want["metrics"], *want["groups"]], strict=True):
        assert set(g) == set(w)
        different = {k: (g[k], w[k]) for k in w if not _same(g[k], w[k])}
        assert not different, different


@pytest.fixture(scope="module")
def fixture_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """One random event log as Parquet and CSV, and the DuckDB/Parquet answer everything is compared to."""
    parquet = write_random_log(tmp_path_factory.mktemp("parquet"), seed=8, fmt="parquet")
    csv = write_random_log(tmp_path_factory.mktemp("csv"), seed=8, fmt="csv")
    period = Period(None, None, None)
    want = compute_metrics(open_event_log(data=parquet), period=period, by=BY).to_json()
    return parquet, csv, want


def test_fixture_exercises_every_metric(fixture_log: tuple[Path, Path, dict[str, Any]]) -> None:
    _, _, want = fixture_log
    missing = [k for k, v in want["metrics"].items() if v is None or v == 0]
    assert not missing, f"the cross-engine fixture leaves {missing} empty; enrich random_tables"


def _live(url: str, folder: Path) -> str:
    upgrade_database(url)
    import_extract(folder, url, progress=False)
    return url


def test_duckdb_csv_matches_parquet(fixture_log: tuple[Path, Path, dict[str, Any]]) -> None:
    _, csv, want = fixture_log
    got = compute_metrics(open_event_log(data=csv), period=Period(), by=BY).to_json()
    _assert_identical(got, want)


@pytest.mark.parametrize("backend", ["sqlite", "duckdb"])
def test_live_sqlite_matches(
    fixture_log: tuple[Path, Path, dict[str, Any]], sqlite_url: str, backend: str
) -> None:
    parquet, _, want = fixture_log
    url = _live(sqlite_url, parquet)
    got = compute_metrics(open_event_log(db=url, backend=backend), period=Period(), by=BY).to_json()
    _assert_identical(got, want)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres", "duckdb"])
def test_live_postgres_matches(
    fixture_log: tuple[Path, Path, dict[str, Any]], postgres_url: str, backend: str
) -> None:
    parquet, _, want = fixture_log
    url = _live(postgres_url, parquet)
    got = compute_metrics(open_event_log(db=url, backend=backend), period=Period(), by=BY).to_json()
    _assert_identical(got, want)


@pytest.mark.spark
@pytest.mark.slow
def test_pyspark_matches(fixture_log: tuple[Path, Path, dict[str, Any]]) -> None:
    parquet, csv, want = fixture_log
    for folder in (parquet, csv):
        got = compute_metrics(
            open_event_log(data=folder, backend="pyspark"), period=Period(), by=BY
        ).to_json()
        _assert_identical(got, want)


def test_live_results_are_cached_until_the_data_changes(sqlite_url: str, tmp_path: Path) -> None:
    first = write_log(tmp_path / "one", episodes=[episode("E1", "a", "2024-01-05")])
    url = _live(sqlite_url, first)
    before = compute_metrics(open_event_log(db=url), period=Period(), by=())
    assert compute_metrics(open_event_log(db=url), period=Period(), by=()) is before  # cached
    second = write_log(
        tmp_path / "two", episodes=[episode("E1", "a", "2024-01-05"), episode("E2", "b", "2024-01-06")]
    )
    import_extract(second, url, progress=False)
    after = compute_metrics(open_event_log(db=url), period=Period(), by=())
    assert (before.metrics["admissions"], after.metrics["admissions"]) == (1, 2)


def test_a_subset_of_metrics_runs_only_the_queries_it_needs(make_log: LogFactory) -> None:
    from onward.errors import ValidationError

    folder = make_log(
        episodes=[episode("E1", "a", "2024-01-20", "2024-02-10", end_reason="graduated")],
        services=[service("s1", "a", "E1", "2024-01-25")],
    )
    ran: list[str] = []
    log = open_event_log(data=folder)
    wanted = ["days_to_first_treatment_median", "graduation_rate"]  # always in registry order
    subset = compute_metrics(
        log, period=Period(), by=BY, metrics=wanted, progress=lambda n, _d, _t: ran.append(n)
    )
    assert ran == ["discharges", "waits", "done"]
    full = compute_metrics(log, period=Period(), by=BY).to_json()
    payload = subset.to_json()
    assert list(payload["metrics"]) == wanted
    assert payload["metrics"] == {k: full["metrics"][k] for k in wanted}
    assert [{k: g[k] for k in wanted} for g in payload["groups"]] == [
        {k: g[k] for k in wanted} for g in full["groups"]
    ]
    with pytest.raises(ValidationError, match="unknown metric"):
        compute_metrics(log, period=Period(), metrics=["happiness"])


def test_threads_sharing_a_cached_live_log_get_one_answer(sqlite_url: str, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    folder = write_random_log(tmp_path / "one", seed=8, people=15)
    url = _live(sqlite_url, folder)

    def run(_: int) -> dict[str, Any]:
        return compute_metrics(open_event_log(db=url), period=Period(), by=BY).to_json()

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(run, range(4)))
    assert all(a == answers[0] for a in answers)
