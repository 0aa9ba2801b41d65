"""`onward flags`: JSON rows, table, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onward.cli import app
from onward.sim.synth import write_synthetic_county


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("county")
    write_synthetic_county(out, people=600, years=2, seed=5, progress=False)
    return out


def test_json_lists_episode_person_flag_since_reason(county: Path) -> None:
    result = CliRunner().invoke(app, ["flags", "--data", str(county), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and all(set(r) == {"episode_id", "person_id", "flag", "since", "reason"} for r in rows)
    one = rows[-1]["episode_id"]
    only = CliRunner().invoke(app, ["flags", "--data", str(county), "--json", "--episode", one])
    assert {r["episode_id"] for r in json.loads(only.output)} == {one}


def test_as_of_and_table(county: Path) -> None:
    result = CliRunner().invoke(
        app, ["flags", "--data", str(county), "--as-of", "2024-06-30"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    assert "Flags on 2024-06-30" in result.output and "open episodes" in result.output


def test_a_bad_date_is_refused(county: Path) -> None:
    result = CliRunner().invoke(app, ["flags", "--data", str(county), "--as-of", "30/06/2024"])
    assert result.exit_code != 0 and "--as-of" in str(result.exception)
