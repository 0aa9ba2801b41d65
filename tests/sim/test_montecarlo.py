from __future__ import annotations

import numpy as np
import pytest

from onward.errors import ValidationError
from onward.sim.engine import run
from onward.sim.montecarlo import SERIES_KEYS, SUMMARY_KEYS, replication_seeds, run_scenarios
from onward.sim.scenario import Scenario, load_scenario

QUO = Scenario(name="status-quo")
SMALL = {"people": 3_000, "years": 1.0, "runs": 4, "seed": 11}


def _all_numbers(result: object) -> dict[str, np.ndarray]:
    out = {}
    for name, sc in result.scenarios.items():  # type: ignore[attr-defined]
        out[f"{name}/runs"] = sc.runs
        for key in SERIES_KEYS:
            out[f"{name}/{key}"] = sc.series[key]
    return out


def test_seeds_come_from_seed_sequence_spawn() -> None:
    children = np.random.SeedSequence(5).spawn(3)
    expected = [int(c.generate_state(1, dtype=np.uint64)[0]) >> 1 for c in children]
    assert replication_seeds(5, 3) == expected
    assert len(set(expected)) == 3


def test_each_replication_is_the_engine_run_with_its_spawned_seed() -> None:
    result = run_scenarios([QUO], workers=1, **SMALL)  # type: ignore[arg-type]
    seeds = replication_seeds(11, 4)
    for r in (0, 3):
        direct = run(QUO, people=3_000, years=1.0, seed=seeds[r])
        assert result.scenarios["status-quo"].runs[r].tolist() == pytest.approx(
            [direct.summary[k] for k in SUMMARY_KEYS], nan_ok=True
        )


def test_interval_is_the_percentile_interval_of_the_runs() -> None:
    sc = run_scenarios([QUO], workers=1, **SMALL).scenarios["status-quo"]  # type: ignore[arg-type]
    j = SUMMARY_KEYS.index("new_cases")
    values = sc.runs[:, j]
    iv = sc.summary["new_cases"]
    assert iv.mean == pytest.approx(values.mean())
    assert (iv.low, iv.high) == pytest.approx(tuple(np.percentile(values, [2.5, 97.5])))
    assert values.min() <= iv.low <= iv.mean <= iv.high <= values.max()
    mean, low, high = sc.band("waiting")
    np.testing.assert_allclose(low, np.percentile(sc.series["waiting"], 2.5, axis=0))
    assert np.all(low <= mean) and np.all(mean <= high)


def test_common_random_numbers_make_identical_scenarios_identical() -> None:
    twin = Scenario(name="twin")
    result = run_scenarios([QUO, twin], workers=1, **SMALL)  # type: ignore[arg-type]
    np.testing.assert_array_equal(result.scenarios["status-quo"].runs, result.scenarios["twin"].runs)


def test_same_seed_same_numbers_in_process_and_in_two_processes() -> None:
    scenarios = [QUO, load_scenario("treatment-first")]
    one = _all_numbers(run_scenarios(scenarios, workers=1, **SMALL))  # type: ignore[arg-type]
    two = _all_numbers(run_scenarios(scenarios, workers=2, **SMALL))  # type: ignore[arg-type]
    assert one.keys() == two.keys()
    for key in one:
        np.testing.assert_array_equal(one[key], two[key], err_msg=key)


@pytest.mark.slow
def test_same_seed_same_numbers_on_a_local_dask_cluster() -> None:
    scenarios = [QUO, load_scenario("built-to-be-left")]
    local = _all_numbers(run_scenarios(scenarios, workers=1, **SMALL))  # type: ignore[arg-type]
    calls: list[tuple[int, int]] = []
    dask = run_scenarios(
        scenarios,
        engine="dask",
        workers=2,
        progress=lambda d, t: calls.append((d, t)),
        **SMALL,  # type: ignore[arg-type]
    )
    for key, values in _all_numbers(dask).items():
        np.testing.assert_array_equal(values, local[key], err_msg=key)
    assert calls[-1] == (8, 8) and len(calls) == 8


def test_another_seed_gives_other_numbers() -> None:
    a = run_scenarios([QUO], workers=1, **SMALL)  # type: ignore[arg-type]
    b = run_scenarios([QUO], workers=1, **{**SMALL, "seed": 12})  # type: ignore[arg-type]
    assert not np.array_equal(a.scenarios["status-quo"].runs, b.scenarios["status-quo"].runs)


def test_json_has_the_documented_shape() -> None:
    result = run_scenarios([QUO, load_scenario("built-to-be-left")], workers=1, **SMALL)  # type: ignore[arg-type]
    doc = result.to_json()
    assert list(doc) == ["scenarios"]
    assert list(doc["scenarios"]) == ["status-quo", "built-to-be-left"]
    one = doc["scenarios"]["built-to-be-left"]
    assert list(one["summary"]) == list(SUMMARY_KEYS)
    assert all(set(v) == {"mean", "low", "high"} for v in one["summary"].values())
    assert len(one["series"]) == 12 and list(one["series"][0]) == list(SERIES_KEYS)
    assert [row["month"] for row in one["series"]] == list(range(1, 13))


def test_duplicate_names_are_kept_apart() -> None:
    result = run_scenarios([QUO, QUO], workers=1, **{**SMALL, "runs": 1})  # type: ignore[arg-type]
    assert list(result.scenarios) == ["status-quo", "status-quo (2)"]


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"runs": 0}, "runs"),
        ({"people": 0}, "people"),
        ({"engine": "spark"}, "engine"),
        ({"scheduler": "x"}, "scheduler"),
    ],
)
def test_bad_arguments_are_refused(change: dict[str, object], column: str) -> None:
    with pytest.raises(ValidationError, match=column):
        run_scenarios([QUO], **{**SMALL, **change})  # type: ignore[arg-type]
