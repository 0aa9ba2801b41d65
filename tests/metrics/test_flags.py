"""The flags engine: agrees with the pure rules on a generated county, and `stuck` is `stuck_count`."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from onward.interop.extracts import import_extract
from onward.metrics.backends import fetch_arrow, open_event_log, quiet_engine_warnings
from onward.metrics.caseload import caseload_flags
from onward.metrics.flags import compute_flags
from onward.metrics.flow import stuck_rows
from onward.metrics.period import Period
from onward.metrics.scope import make_scope
from onward.metrics.suite import compute_metrics
from onward.model.flags import FLAG_NAMES, EpisodeFacts, Flag, MeasurementFacts, ServiceFacts, episode_flags
from onward.sim.synth import write_synthetic_county

Key = tuple[str, str, date, str]


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("county")
    write_synthetic_county(out, people=1500, years=3, seed=11, progress=False)
    return out


def _keys(flags: list[Flag]) -> set[Key]:
    return {(f.episode_id, f.flag, f.since, f.reason) for f in flags}


def _pure(folder: Path, as_of: date) -> list[Flag]:
    """The model's rules, episode by episode, in plain Python (the reference the engine must match)."""
    measurements: dict[str, list[MeasurementFacts]] = defaultdict(list)
    for m in pq.read_table(folder / "measurements.parquet").to_pylist():
        if m["episode_id"] is not None:
            items = tuple(json.loads(m["items"])) if m["items"] else None
            measurements[m["episode_id"]].append(
                MeasurementFacts(m["measurement_id"], m["instrument"], m["measured_on"], m["score"], items)
            )
    services: dict[str, list[ServiceFacts]] = defaultdict(list)
    for s in pq.read_table(
        folder / "services.parquet", columns=["episode_id", "service_date", "category"]
    ).to_pylist():
        if s["episode_id"] is not None:
            services[s["episode_id"]].append(ServiceFacts(s["service_date"], s["category"]))
    out: list[Flag] = []
    for e in pq.read_table(folder / "episodes.parquet").to_pylist():
        end = e["end_date"] if e["end_date"] is not None and e["end_date"] <= as_of else None
        episode = EpisodeFacts(e["episode_id"], e["person_id"], e["start_date"], e["planned_end_date"], end)
        out += episode_flags(episode, measurements[e["episode_id"]], services[e["episode_id"]], as_of=as_of)
    return out


@pytest.mark.parametrize("as_of", [None, date(2024, 9, 30)])
def test_the_engine_agrees_with_the_pure_rules(county: Path, as_of: date | None) -> None:
    result = compute_flags(open_event_log(data=county), as_of=as_of)
    pure = _pure(county, result.as_of)
    assert _keys(result.flags) == _keys(pure)
    # the county exercises every rule, so the agreement covers each of them
    assert {f.flag for f in result.flags} == set(FLAG_NAMES)
    order = [FLAG_NAMES.index(f.flag) for f in result.flags]
    assert order == sorted(order)  # most urgent first


@pytest.mark.parametrize("as_of", [None, date(2024, 6, 30), date(2025, 3, 15)])
def test_stuck_is_exactly_the_stuck_count_episodes(county: Path, as_of: date | None) -> None:
    log = open_event_log(data=county)
    result = compute_flags(log, as_of=as_of)
    flagged = {f.episode_id for f in result.flags if f.flag == "stuck"}
    with quiet_engine_warnings():
        rows = stuck_rows(make_scope(log, Period(as_of=as_of), ()))
        counted = set(
            fetch_arrow(rows.filter(rows.stuck == 1).select("episode_id"), log).column(0).to_pylist()
        )
    assert flagged == counted and len(flagged) > 0
    metrics = compute_metrics(log, period=Period(as_of=as_of), metrics=["stuck_count", "active_census"])
    assert metrics.metrics["stuck_count"] == len(flagged)
    assert metrics.metrics["active_census"] == result.open_episodes


def test_one_clinicians_episodes(county: Path) -> None:
    log = open_event_log(data=county)
    everything = compute_flags(log)
    some = sorted({f.episode_id for f in everything.flags})[::7]
    mine = compute_flags(log, episode_ids=some)
    assert _keys(mine.flags) == {k for k in _keys(everything.flags) if k[0] in set(some)}
    assert mine.open_episodes == len(some)
    assert compute_flags(log, episode_ids=[]).flags == []
    # the cheap path for a web page: the pure rules over the caseload's own rows
    cheap = caseload_flags(log, [*some, "no-such-episode"], as_of=everything.as_of)
    assert cheap.flags == mine.flags and cheap.open_episodes == len(some)
    assert caseload_flags(log, some).flags == mine.flags
    assert caseload_flags(log, []).flags == []


def test_the_live_database_gives_the_same_flags(county: Path, database_url: str) -> None:
    import_extract(county, database_url, progress=False)
    expected = _keys(compute_flags(open_event_log(data=county)).flags)
    assert _keys(compute_flags(open_event_log(db=database_url, with_items=True)).flags) == expected
    backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
    some = sorted({k[0] for k in expected})[::5]
    direct = compute_flags(open_event_log(db=database_url, backend=backend), episode_ids=some)
    assert _keys(direct.flags) == {k for k in expected if k[0] in set(some)}
    cheap = caseload_flags(open_event_log(db=database_url, backend=backend), some)
    assert _keys(cheap.flags) == _keys(direct.flags)
