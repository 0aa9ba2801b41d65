"""`onward metrics`: help text with every definition, JSON output, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from onward.cli import app
from onward.metrics.registry import METRICS

sys.path.insert(0, str(Path(__file__).parents[1] / "metrics"))

from metrics_helpers import episode, service, write_log  # noqa: E402


def _folder(tmp_path: Path) -> Path:
    return write_log(
        tmp_path / "extract",
        episodes=[
            episode("E1", "a", "2024-01-10", "2024-02-20", end_reason="graduated"),
            episode("E2", "b", "2024-02-01"),
        ],
        services=[service("s1", "a", "E1", "2024-01-12"), service("s2", "b", "E2", "2024-03-01")],
    )


def test_help_shows_every_definition_and_an_example() -> None:
    result = CliRunner().invoke(app, ["metrics", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "onward metrics --data" in result.output and "Example" in result.output
    text = " ".join(result.output.split())
    for metric in METRICS.values():
        assert metric.key in text
        assert " ".join(metric.definition.split()[:6]) in text


def test_json_output(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    result = CliRunner().invoke(app, ["metrics", "--data", str(folder), "--by", "program,month", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert set(payload) == {"period", "metrics", "groups"}
    assert payload["period"] == {
        "from": "2024-01-10",
        "to": "2024-03-01",
        "as_of": None,
        "data_end": "2024-03-01",
    }
    assert payload["metrics"]["admissions"] == 2
    assert payload["metrics"]["graduation_rate"] == 1.0
    assert payload["metrics"]["reentry_12m_rate"] is None  # empty denominator: null, never 0
    assert len(payload["groups"]) == 2 * 3  # programs P1, P2 x months 2024-01..2024-03
    assert {tuple(sorted(g)) for g in payload["groups"]} == {tuple(sorted(["program_id", "month", *METRICS]))}


def test_period_options_and_table(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["metrics", "--data", str(folder), "--as-of", "2024-01-31", "--json"])
    payload = json.loads(result.output)
    assert payload["period"]["data_end"] == "2024-01-31" and payload["metrics"]["admissions"] == 1
    table = runner.invoke(app, ["metrics", "--data", str(folder), "--from", "2024-02-01", "--by", "month"])
    assert table.exit_code == 0, table.output
    assert "Graduation rate" in table.output and "2024-02" in table.output


def test_suppressed_output_hides_small_counts(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    result = CliRunner().invoke(app, ["metrics", "--data", str(folder), "--json", "--suppress"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    # Published: the latest event is 2024-03-01, so figures are read as of 2024-02-29, and with no
    # quarter over yet the default period is the latest month (the web says the same).
    assert payload["period"]["period"] == "2024-02" and payload["period"]["as_of"] == "2024-02-29"
    metrics = payload["metrics"]
    assert metrics["admissions"] is None and "admissions" in metrics["suppressed"]  # 1 is a small cell
    assert not any("__" in key for key in metrics)


def test_suppressed_output_takes_calendar_periods_only(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    runner = CliRunner()
    ranged = runner.invoke(app, ["metrics", "--data", str(folder), "--suppress", "--from", "2024-01-01"])
    assert ranged.exit_code != 0
    assert "--from is not accepted with --suppress" in str(ranged.exception)
    assert "YYYY-Qn" in str(ranged.exception)
    january = runner.invoke(app, ["metrics", "--data", str(folder), "--suppress", "--period", "2024-01"])
    assert january.exit_code == 0, january.output
    assert "published: January 2024 (2024-01-01 to 2024-01-31), as of 2024-02-29" in " ".join(
        january.output.split()
    )
    unfinished = runner.invoke(app, ["metrics", "--data", str(folder), "--suppress", "--period", "2024-Q1"])
    assert "period 2024-Q1 is not published" in str(unfinished.exception)
    exact = runner.invoke(app, ["metrics", "--data", str(folder), "--period", "2024-01"])
    assert "--period is for published output" in str(exact.exception)
    whole = runner.invoke(app, ["metrics", "--data", str(folder)], env={"COLUMNS": "200"})
    assert "the whole data range (the default)" in whole.output


def test_suppressed_table_marks_complementary_cells_like_the_report(tmp_path: Path) -> None:
    # 20 admissions in January, 3 in February: February is a small cell, and January (20) must go too,
    # or the period total minus January would give February back.
    january = [episode(f"J{i}", f"j{i}", "2024-01-05") for i in range(20)]
    february = [episode(f"F{i}", f"f{i}", "2024-02-05") for i in range(3)]
    folder = write_log(
        tmp_path / "extract",
        episodes=[*january, *february],
        # April's service closes March: figures as of 2024-03-31, default period 2024-Q1
        services=[
            service("s1", "j0", "J0", "2024-02-10", minutes=5),
            service("s2", "j1", "J1", "2024-04-02"),
        ],
    )
    runner = CliRunner()
    args = ["metrics", "--data", str(folder), "--by", "month", "--suppress"]
    payload = json.loads(runner.invoke(app, [*args, "--json"]).output)
    months = {g["month"]: g for g in payload["groups"]}
    assert "admissions" in months["2024-01"]["suppressed"] and months["2024-01"]["admissions"] is None
    assert "admissions" in months["2024-02"]["suppressed"]
    # Minutes are not people: the report leaves minute-based figures visible, and so does the CLI.
    assert payload["metrics"]["treatment_share"] == 1.0
    table = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "≤10" not in table.output
    assert "– = suppressed: a count from 1 to 10, or a figure from which one could be derived" in table.output
    admissions_rows = [line for line in table.output.splitlines() if " admissions " in f" {line} "]
    hidden_rows = [line for line in admissions_rows if "2024-01" in line or "2024-02" in line]
    assert len(hidden_rows) == 2 and all("–" in line for line in hidden_rows)


def test_bad_folder_and_bad_options_exit_non_zero(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["metrics", "--data", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1
    assert "does not exist" in str(missing.exception)
    empty = tmp_path / "empty"
    empty.mkdir()
    no_tables = runner.invoke(app, ["metrics", "--data", str(empty)])
    assert no_tables.exit_code == 1 and "no file for table(s) programs, episodes" in str(no_tables.exception)
    folder = _folder(tmp_path)
    bad_date = runner.invoke(app, ["metrics", "--data", str(folder), "--from", "2024-13-01"])
    assert "is not a date" in str(bad_date.exception)
    bad_by = runner.invoke(app, ["metrics", "--data", str(folder), "--by", "staff"])
    assert "expected program, month or program,month" in str(bad_by.exception)
    both = runner.invoke(app, ["metrics", "--data", str(folder), "--db", "sqlite:///x.sqlite"])
    assert "not both" in str(both.exception)


def test_bad_folder_message_and_exit_code_from_the_console_script(tmp_path: Path) -> None:
    import subprocess

    run = subprocess.run(
        [sys.executable, "-m", "onward", "metrics", "--data", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    message = " ".join(run.stderr.split())  # rich wraps long paths
    assert message.startswith("error: extract folder") and message.endswith("does not exist")
