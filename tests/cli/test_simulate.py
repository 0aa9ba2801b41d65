from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onward.cli import app
from onward.sim.montecarlo import SERIES_KEYS, SUMMARY_KEYS

WIDE = {**os.environ, "COLUMNS": "250"}
SMALL = ["--people", "2000", "--years", "1", "--runs", "3", "--seed", "5", "--workers", "1"]


@pytest.mark.parametrize("command", ["simulate", "calibrate"])
def test_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env=WIDE)
    assert result.exit_code == 0
    assert f"onward {command}" in result.output and "Example" in result.output


def test_json_is_exactly_the_documented_object(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["simulate", "status-quo", "built-to-be-left", *SMALL, "--json"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == ["scenarios"] and list(doc["scenarios"]) == ["status-quo", "built-to-be-left"]
    for scenario in doc["scenarios"].values():
        assert list(scenario) == ["summary", "series"]
        assert list(scenario["summary"]) == list(SUMMARY_KEYS)
        for interval in scenario["summary"].values():
            assert list(interval) == ["mean", "low", "high"]
            if (
                interval["mean"] is not None
            ):  # null: nothing to measure (no birth followed 12 months in 1 year)
                assert interval["low"] <= interval["mean"] <= interval["high"]
        assert [list(row) for row in scenario["series"]] == [list(SERIES_KEYS)] * 12


def test_json_stocks_and_flows_balance() -> None:
    # Issue 9: people in services change by exactly admissions − exits, month by month.
    args = ["--people", "20000", "--years", "5", "--runs", "2", "--seed", "3", "--workers", "1", "--json"]
    result = CliRunner().invoke(app, ["simulate", "status-quo", *args], env=WIDE)
    assert result.exit_code == 0, result.output
    series = json.loads(result.stdout)["scenarios"]["status-quo"]["series"]
    assert len(series) == 60
    for before, now in zip(series, series[1:], strict=False):
        change = now["in_services"] - before["in_services"]
        assert change == pytest.approx(now["admissions"] - now["exits"], abs=1e-9)
        parts = now["in_treatment"] + now["case_management_only"] + now["recovered_in_service"]
        assert parts == pytest.approx(now["in_services"], abs=1e-9)


def test_table_and_out_folder(tmp_path: Path) -> None:
    scenario = tmp_path / "mine.toml"
    scenario.write_text('name = "mine"\n[levers]\ncase_management_share = 0.1\n')
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["simulate", "status-quo", str(scenario), *SMALL, "--out", str(out)], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert "SIMULATED" in result.stdout and "mine" in result.stdout and "Mean wait" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "report.html",
        "runs.parquet",
        "series.parquet",
        "summary.parquet",
    ]


def test_same_seed_same_json() -> None:
    a = CliRunner().invoke(app, ["simulate", "fast-return", *SMALL, "--json"], env=WIDE)
    b = CliRunner().invoke(app, ["simulate", "fast-return", *SMALL, "--json", "--workers", "2"], env=WIDE)
    assert a.exit_code == 0 and b.exit_code == 0
    assert json.loads(a.stdout) == json.loads(b.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-scenario"], "no scenario 'no-such-scenario'"),
        (["status-quo", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --engine dask"),
    ],
)
def test_user_errors_are_one_clear_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["simulate", *args, *SMALL], env=WIDE)
    assert result.exit_code != 0
    assert message in str(result.exception)


@pytest.mark.slow
def test_calibrate_writes_a_scenario_and_reports_the_fit(tmp_path: Path) -> None:
    from onward.sim.synth import write_synthetic_county

    county = tmp_path / "county"
    write_synthetic_county(county, people=4_000, years=2, seed=3, progress=False)
    out = tmp_path / "calibrated.toml"
    result = CliRunner().invoke(
        app, ["calibrate", "--data", str(county), "--out", str(out), "--json"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc["parameters"]) >= {
        "help_seeking",
        "dropout",
        "treatment_recovery",
        "relapse_after_discharge",
    }
    assert (
        doc["parameters"]["dropout"]["default"] == 0.0705
        and "Swift" in doc["parameters"]["dropout"]["source"]
    )
    assert set(doc["targets"]["referrals_per_1000_person_months"]) == {"observed", "simulated", "description"}
    simulate = CliRunner().invoke(app, ["simulate", str(out), *SMALL, "--json"], env=WIDE)
    assert simulate.exit_code == 0 and "calibrated" in json.loads(simulate.stdout)["scenarios"]


def test_calibrate_needs_exactly_one_source(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["calibrate", "--out", str(tmp_path / "x.toml")], env=WIDE)
    assert result.exit_code != 0 and "exactly one" in str(result.exception)
