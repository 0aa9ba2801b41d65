"""`onward curricula list|show|check`: output shapes and one clear error for bad input."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from onward.cli import app, main
from onward.model.skills import Skill

WIDE = {**os.environ, "COLUMNS": "250"}
SUMMARY_KEYS = {"id", "track", "grade", "week", "skill", "title", "minutes"}


def _json(args: list[str]) -> Any:
    result = CliRunner().invoke(app, args, env=WIDE)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_list_json_gives_the_summary_shape_for_every_lesson() -> None:
    rows = _json(["curricula", "list", "--json"])
    assert isinstance(rows, list) and len(rows) >= 75
    for row in rows:
        assert set(row) == SUMMARY_KEYS
        assert row["skill"] in {s.value for s in Skill}
        if row["track"] == "school":
            assert row["grade"] == "K" or row["grade"] in range(1, 13)
            assert row["week"] is None
        else:
            assert row["grade"] is None and isinstance(row["week"], int)


def test_list_filters_by_grade_and_track() -> None:
    kindergarten = _json(["curricula", "list", "--grade", "k", "--json"])
    assert {row["grade"] for row in kindergarten} == {"K"}
    assert {row["skill"] for row in kindergarten} == {s.value for s in Skill}
    seventh = _json(["curricula", "list", "--track", "school", "--grade", "7", "--json"])
    assert {row["grade"] for row in seventh} == {7}
    prenatal = _json(["curricula", "list", "--track", "prenatal", "--json"])
    assert {row["track"] for row in prenatal} == {"prenatal"}


def test_list_table_names_lessons() -> None:
    result = CliRunner().invoke(app, ["curricula", "list", "--track", "postpartum"], env=WIDE)
    assert result.exit_code == 0
    assert "postpartum-dt-1" in result.output and "week 1" in result.output


def test_show_json_gives_the_whole_lesson_with_its_text() -> None:
    lesson = _json(["curricula", "show", "grade-k-er-1", "--json"])
    assert isinstance(lesson, dict)
    assert set(lesson) >= SUMMARY_KEYS
    assert lesson["grade"] == "K" and lesson["reader"] == "teacher"
    assert "Feelings come and go" in lesson["text"]
    for key in ("objectives", "materials", "steps", "practice_at_home", "adaptations", "evidence", "visit"):
        assert key in lesson
    assert sum(step["minutes"] for step in lesson["steps"]) == lesson["minutes"]


def test_show_prints_the_lesson_for_people() -> None:
    result = CliRunner().invoke(app, ["curricula", "show", "prenatal-dt-1"], env=WIDE)
    assert result.exit_code == 0
    for heading in ("Objectives", "Steps", "Practice at home", "Adaptations", "Parent text", "Evidence"):
        assert heading in result.output


def test_check_passes_on_the_shipped_curricula() -> None:
    report = _json(["curricula", "check", "--grade", "2", "--json"])
    assert report["passed"] is True
    assert {row["band"] for row in report["lessons"]} == {"K-2"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["curricula", "list", "--track", "college"], "unknown track 'college'"),
        (["curricula", "list", "--grade", "13"], "unknown grade '13'"),
        (["curricula", "list", "--track", "prenatal", "--grade", "3"], "--grade applies to the school track"),
        (["curricula", "show", "grade-3-xx-9"], "no lesson with id 'grade-3-xx-9'"),
    ],
)
def test_bad_input_gets_one_clear_error_and_a_non_zero_exit(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["onward", *args])
    monkeypatch.setenv("COLUMNS", "250")
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
