from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onward.cli import app

WIDE = {**os.environ, "COLUMNS": "250"}


@pytest.mark.parametrize("command", [["synth"], ["scenarios", "list"], ["scenarios", "show"]])
def test_help_has_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env=WIDE)
    assert result.exit_code == 0
    assert f"onward {' '.join(command)}" in result.output and "Example" in result.output


def test_synth_writes_the_county_and_prints_row_counts(tmp_path: Path) -> None:
    out = tmp_path / "county"
    result = CliRunner().invoke(
        app,
        [
            "synth",
            "--people",
            "1500",
            "--years",
            "1",
            "--seed",
            "2",
            "--out",
            str(out),
            "--format",
            "csv",
            "--no-progress",
        ],
        env=WIDE,
    )
    assert result.exit_code == 0, result.output
    assert (out / "services.csv").exists() and (out / "onward-synth.json").exists()
    for table in ("people", "episodes", "services", "measurements"):
        assert table in result.output
    assert "1,500" in result.output


def test_scenarios_list_names_every_builtin() -> None:
    result = CliRunner().invoke(app, ["scenarios", "list"], env=WIDE)
    assert result.exit_code == 0
    for name in (
        "status-quo",
        "built-to-be-left",
        "treatment-first",
        "skills-prenatal",
        "skills-schools",
        "fast-return",
        "all-together",
    ):
        assert name in result.output


def test_scenarios_show_prints_levers_and_sourced_parameters() -> None:
    result = CliRunner().invoke(app, ["scenarios", "show", "treatment-first"], env=WIDE)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "case_management_share" in out and "0.25" in out
    assert "Whiteford" in out and "Swift & Greenberg" in out and "1 − (1 − 0.53)^(1/12)" in out


def test_an_invalid_scenario_file_exits_non_zero_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[levers]\ncase_management_share = 2\n")
    result = subprocess.run(
        [sys.executable, "-m", "onward", "scenarios", "show", str(bad)],
        capture_output=True,
        text=True,
        env=WIDE,
        check=False,
    )
    assert result.returncode == 1
    assert "levers.case_management_share" in result.stderr and "out of range" in result.stderr
    assert "bad.toml" in result.stderr
