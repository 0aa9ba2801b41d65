"""`onward staff-mix`: the per-clinician figures of the engine, as JSON or a table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from onward.cli import app

sys.path.insert(0, str(Path(__file__).parents[1] / "metrics"))

from metrics_helpers import episode, service, write_log  # noqa: E402

STAFF = [
    {"staff_id": "C1", "role": "clinician", "program_id": "P1", "hours_per_week": 40},
    {"staff_id": "M2", "role": "case_manager", "program_id": "P2", "hours_per_week": 20},
]


def test_json_and_table(tmp_path: Path) -> None:
    e1 = episode("E1", "a", "2024-01-01")
    e1["primary_staff_id"] = "C1"
    folder = write_log(
        tmp_path / "log",
        staff=STAFF,
        episodes=[e1],
        services=[
            service("s1", "a", "E1", "2024-01-10", "treatment", 60, staff_id="C1"),
            service("s2", "a", "E1", "2024-01-11", "case_management", 30, staff_id="C1"),
            service("s3", "a", "E1", "2024-01-12", "case_management", 45, staff_id="M2"),
        ],
    )
    result = CliRunner().invoke(app, ["staff-mix", "--data", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    by_id = {r["staff_id"]: r for r in payload["staff"]}
    assert by_id["C1"]["treatment_share"] == 60 / 90 and by_id["C1"]["caseload"] == 1
    assert by_id["M2"]["treatment_share"] == 0.0 and by_id["M2"]["cm_per_treatment"] is None
    only = CliRunner().invoke(app, ["staff-mix", "--data", str(folder), "--program", "P2", "--json"])
    assert [r["staff_id"] for r in json.loads(only.stdout)["staff"]] == ["M2"]
    table = CliRunner().invoke(app, ["staff-mix", "--data", str(folder)], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "67 %" in table.stdout and "C1" in table.stdout
