"""`onward targets list|set|remove` and the targets in `onward report --db`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_report import _extract
from typer.testing import CliRunner

from onward.cli import app


def test_set_list_history_remove_and_the_report_shows_status(tmp_path: Path, sqlite_url: str) -> None:
    runner = CliRunner()
    extract = _extract(tmp_path / "extract")
    for args in (["init", "--db", sqlite_url], ["import", str(extract), "--db", sqlite_url, "--no-progress"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output

    result = runner.invoke(app, ["targets", "list", "--db", sqlite_url, "--json"])
    assert result.exit_code == 0, result.output
    defaults = {t["metric"]: t for t in json.loads(result.output)}
    assert defaults["recovery_rate"]["origin"] == "default" and defaults["recovery_rate"]["value"] == 0.5

    result = runner.invoke(
        app,
        [
            "targets",
            "set",
            "share_treated_within_14_days",
            "0.9",
            "--reason",
            "two weeks",
            "--db",
            sqlite_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "in force for share_treated_within_14_days (the system)" in result.output
    refused = runner.invoke(app, ["targets", "set", "admissions", "3", "--reason", "x", "--db", sqlite_url])
    assert refused.exit_code != 0 and "no direction of good" in str(refused.exception)
    refused = runner.invoke(
        app, ["targets", "set", "recovery_rate", "50", "--reason", "x", "--db", sqlite_url]
    )
    assert refused.exit_code != 0 and "share from 0 to 1" in str(refused.exception)

    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--db", sqlite_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    # 12 of 12 treated on the next day: 100 % against at least 90 %; a 1-day median against the 14-day default
    assert "Target at least 90.0 % (set by cli:" in text and "✓ on track: 100.0 % meets the target" in text
    assert "Target at most 14 days (public standard: CCBHC" in text
    assert "A volume: no target." in text

    result = runner.invoke(
        app, ["targets", "remove", "recovery_rate", "--reason", "not our standard", "--db", sqlite_url]
    )
    assert result.exit_code == 0, result.output
    history = json.loads(
        runner.invoke(app, ["targets", "list", "--history", "--json", "--db", sqlite_url]).output
    )
    assert [(h["metric"], h["status"]) for h in history] == [
        ("recovery_rate", "removed"),
        ("share_treated_within_14_days", "active"),
    ]
    in_force = json.loads(runner.invoke(app, ["targets", "list", "--json", "--db", sqlite_url]).output)
    assert "recovery_rate" not in {t["metric"] for t in in_force}
    table = runner.invoke(app, ["targets", "list", "--db", sqlite_url])
    assert table.exit_code == 0 and "Treated" in table.output


def test_the_numbers_on_their_own_pages_in_the_cli_and_the_report(tmp_path: Path, sqlite_url: str) -> None:
    from tests.own_page_seed import seed_lessons_and_ideas

    runner = CliRunner()
    extract = _extract(tmp_path / "extract")
    for args in (["init", "--db", sqlite_url], ["import", str(extract), "--db", sqlite_url, "--no-progress"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    seed_lessons_and_ideas(sqlite_url, "P1")
    for args in (["skills_coverage", "0.75"], ["voice_share_implemented", "0.9"]):
        result = runner.invoke(
            app, ["targets", "set", *args, "--reason", "the board's aim", "--db", sqlite_url]
        )
        assert result.exit_code == 0, result.output
    refused = runner.invoke(
        app,
        ["targets", "set", "skills_coverage", "0.8", "--program", "P1", "--reason", "x", "--db", sqlite_url],
    )
    assert refused.exit_code != 0 and "whole system only" in str(refused.exception)
    table = runner.invoke(app, ["targets", "list", "--db", sqlite_url])  # titled, not a KeyError
    assert table.exit_code == 0 and "Prevention" in table.output and "Ideas" in table.output
    listed = json.loads(runner.invoke(app, ["targets", "list", "--json", "--db", sqlite_url]).output)
    assert {(t["metric"], t["program_id"], t["target"]) for t in listed} >= {
        ("skills_coverage", None, "at least 75.0 %"),
        ("voice_share_implemented", None, "at least 90.0 %"),
    }

    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--db", sqlite_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    section = text.split("Also the direction, published on their own pages")[1]
    skills = section.split('id="skills_coverage"')[1].split("</section>")[0]
    assert "70.7 %" in skills and "lessons delivered of lessons due, 2024 to 2024-03-31" in skills
    assert "Target at least 75.0 % (set by cli:" in skills and "! at risk" in skills
    ideas = section.split('id="voice_share_implemented"')[1].split("</section>")[0]
    assert "64.1 %" in ideas and "Target at least 90.0 %" in ideas and "✗ off track" in ideas
