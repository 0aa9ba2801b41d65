"""`onward report regulator`: HTML, PDF and CSV for one calendar period, small cells suppressed, period
stated; --from/--to must be one calendar period."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from tests.cli.test_report import _extract
from typer.testing import CliRunner

from onward.cli import app

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def database(tmp_path: Path, sqlite_url: str) -> str:
    runner = CliRunner()
    extract = _extract(tmp_path / "extract")
    for args in (["init", "--db", sqlite_url], ["import", str(extract), "--db", sqlite_url, "--no-progress"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return sqlite_url


@pytest.mark.skipif(not CHROMIUM.exists() or shutil.which("chromium") is None, reason="needs Chromium")
def test_the_regulator_report_in_three_formats(database: str, tmp_path: Path) -> None:
    out = tmp_path / "q1"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "regulator",
            "--from",
            "2024-01-01",
            "--to",
            "2024-03-31",
            "--out",
            str(out),
            "--db",
            database,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "period 2024-Q1 (2024-01-01 to 2024-03-31), figures as of 2024-03-31" in result.output
    page = (out / "regulator.html").read_text(encoding="utf-8")
    assert "Period Q1 2024 (January-March) (2024-01-01 to 2024-03-31) · figures as of 2024-03-31" in page
    for section in ("Quality measures", "Access", "Outcomes", "Skills coverage", "Ideas received", "Council"):
        assert f"<h2>{section}" in page, section
    assert "<script" not in page
    # 12 admissions, all treated the next day: the 1-day median against the 14-day default is on track
    assert "Days to first treatment (median)" in page and "✓ on track" in page
    assert (out / "regulator.pdf").read_bytes()[:5] == b"%PDF-"
    rows = list(csv.DictReader((out / "regulator.csv").open(encoding="utf-8")))
    assert {r["period"] for r in rows} == {"2024-Q1"} and {r["as_of"] for r in rows} == {"2024-03-31"}
    wait = next(r for r in rows if r["key"] == "days_to_first_treatment_median" and r["scope"] == "system")
    assert wait["value"] == "1 days" and wait["status"].endswith("on track")
    # No count from 1 to 10 is printed anywhere: every count shown is 0 or more than 10.
    for r in rows:
        for name in ("numerator", "denominator"):
            if r[name]:
                assert float(r[name].replace(",", "")) == 0 or float(r[name].replace(",", "")) > 10, r


def test_from_and_to_must_be_one_calendar_period(database: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "report",
            "regulator",
            "--from",
            "2024-01-15",
            "--to",
            "2024-03-31",
            "--out",
            str(tmp_path),
            "--db",
            database,
        ],
    )
    assert result.exit_code != 0 and "not one calendar month, quarter or year" in str(result.exception)
    result = CliRunner().invoke(
        app, ["report", "regulator", "--from", "2024-01-01", "--out", str(tmp_path), "--db", database]
    )
    assert result.exit_code != 0 and "both --from and --to" in str(result.exception)


def test_the_numbers_on_their_own_pages_stand_beside_their_targets(database: str) -> None:
    from datetime import UTC, datetime

    from tests.own_page_seed import seed_lessons_and_ideas

    from onward.cli.regulator import build
    from onward.metrics.period import CalendarPeriod
    from onward.metrics.regulator import render_csv, render_html
    from onward.model.targets import SET_HERE, Targets, TargetView

    seed_lessons_and_ideas(database, "P1")
    targets = Targets(
        [
            TargetView("skills_coverage", None, 0.9, None, SET_HERE, "aim", "lee", datetime.now(UTC)),
            TargetView("voice_share_implemented", None, 0.6, None, SET_HERE, "aim", "lee", datetime.now(UTC)),
        ]
    )
    report = build(
        url=database, period=CalendarPeriod.parse("2024-Q1"), as_of=None, targets=targets, synthetic=False
    )
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    skills = next(r for r in rows if r["key"] == "skills_coverage" and r["scope"] == "system")
    assert skills["value"] == "70.7 %" and skills["target"] == "at least 90.0 %"
    assert skills["status"] == "✗ off track" and "95 % interval" in skills["explanation"]
    ideas = next(r for r in rows if r["key"] == "voice_share_implemented")
    assert ideas["value"] == "64.1 %" and ideas["status"] == "✓ on track"
    assert all(not r["target"] for r in rows if r["key"] == "skills_coverage" and r["scope"] != "system")
    page = render_html(report)
    assert "<td>at least 90.0 %</td><td>✗ off track</td>" in page
