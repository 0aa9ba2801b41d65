"""`onward instruments`: list, score, questionnaire."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from onward.cli import app
from onward.model.eventlog import Instrument


def test_list_json_names_every_instrument() -> None:
    result = CliRunner().invoke(app, ["instruments", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in json.loads(result.output)}
    assert set(rows) == {i.value for i in Instrument}
    assert rows["phq9"]["risk_item"] == 9 and rows["phq9"]["total_range"] == [0, 27]
    assert rows["epds"]["has_text"] is False and rows["epds"]["reverse_scored_items"] == [
        3,
        5,
        6,
        7,
        8,
        9,
        10,
    ]
    table = CliRunner().invoke(app, ["instruments", "list"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "site licence needed" in table.output


def test_score_prints_the_json_shape() -> None:
    result = CliRunner().invoke(
        app, ["instruments", "score", "phq9", "--answers", "1,2,1,0,3,1,0,0,1", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "instrument": "phq9",
        "total": 9,
        "band": "mild",
        "subscales": {"phq2": 3},
        "flags": ["risk"],
    }
    women = CliRunner().invoke(
        app, ["instruments", "score", "auditc", "--answers", "1,1,1", "--sex", "female"]
    )
    assert women.exit_code == 0 and "positive_screen" in women.output


def test_score_refuses_bad_answers_naming_the_item() -> None:
    from onward.cli import main  # noqa: F401  (main turns OnwardError into exit code 1)

    runner = CliRunner()
    result = runner.invoke(app, ["instruments", "score", "gad7", "--answers", "0,1,2,3,4,0,0"])
    assert result.exit_code != 0
    assert "item 5: answer 4" in str(result.exception)
    result = runner.invoke(app, ["instruments", "score", "gad7", "--answers", "0,1,x"])
    assert "answer 3 is 'x'" in str(result.exception)


def test_questionnaire_prints_fhir_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["instruments", "questionnaire", "gad7"])
    assert result.exit_code == 0, result.output
    q = json.loads(result.output)
    assert (
        q["resourceType"] == "Questionnaire" and q["item"][1]["text"] == "Feeling nervous, anxious or on edge"
    )
    folder = tmp_path / "texts"
    folder.mkdir()
    items = "\n".join(f'[[items]]\ntext = "q{n}"\noptions = ["a", "b", "c", "d"]' for n in range(1, 11))
    (folder / "epds.toml").write_text(f'licence = "granted to us"\n{items}\n')
    epds = CliRunner().invoke(app, ["instruments", "questionnaire", "epds", "--texts", str(folder)])
    assert epds.exit_code == 0, epds.output
    assert json.loads(epds.output)["item"][0]["text"] == "q1"
