from __future__ import annotations

from pathlib import Path

import pytest

from onward.errors import ValidationError
from onward.sim.parameters import load_parameters
from onward.sim.scenario import builtin_scenarios, load_scenario

EXPECTED = {
    "status-quo",
    "built-to-be-left",
    "treatment-first",
    "skills-prenatal",
    "skills-schools",
    "fast-return",
    "all-together",
}


def test_builtin_scenarios_are_listed_status_quo_first() -> None:
    names = builtin_scenarios()
    assert set(names) == EXPECTED and names[0] == "status-quo"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_scenarios_load_and_describe_themselves(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name and scenario.description


def test_levers_change_parameters() -> None:
    base = load_parameters()
    params = load_scenario("treatment-first").parameters()
    assert params.case_management_share == 0.25 < base.case_management_share
    assert load_scenario("built-to-be-left").parameters().graduate_after_months == 3


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_user_file_with_levers_and_parameters(tmp_path: Path) -> None:
    path = _scenario(tmp_path, 'name = "mine"\n[levers]\nstep_up = 0.3\n[parameters]\nhelp_seeking = 0.02\n')
    scenario = load_scenario(path)
    params = scenario.parameters()
    assert (params.step_up, params.help_seeking) == (0.3, 0.02)


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ('name = "x"\ncolour = "red"\n', "colour", "unknown field"),
        ("[levers]\ngraduate_after = 3\n", "levers.graduate_after", "unknown field"),
        ('[levers]\ngraduate_after_months = "three"\n', "levers.graduate_after_months", "must be a number"),
        ("[levers]\nfast_return_share = 1.5\n", "levers.fast_return_share", "out of range"),
        ("[levers]\ndropout = 0.1\n", "levers.dropout", "is not a lever"),
        ("[parameters]\nhelp_seeking = true\n", "parameters.help_seeking", "must be a number"),
        (
            "[parameters]\nemergent_share = 0.9\nurgent_share = 0.3\n",
            "parameters.urgent_share",
            "must not exceed",
        ),
        ("name = 3\n", "name", "must be text"),
    ],
)
def test_invalid_files_name_the_file_the_field_and_the_reason(
    tmp_path: Path, text: str, field: str, reason: str
) -> None:
    path = _scenario(tmp_path, text)
    with pytest.raises(ValidationError) as error:
        load_scenario(path)
    message = str(error.value)
    assert str(path) in message and f"column {field}" in message and reason in message


def test_broken_toml_and_missing_names_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not valid TOML"):
        load_scenario(_scenario(tmp_path, "[levers\n"))
    with pytest.raises(ValidationError, match="no scenario 'nope'"):
        load_scenario("nope")
