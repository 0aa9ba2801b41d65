from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from onward.errors import ValidationError
from onward.sim.parameters import PARAMETER_NAMES, default_parameters_path, load_parameters, load_specs


def test_every_parameter_has_a_value_a_range_and_a_source() -> None:
    specs = load_specs()
    assert list(specs) == list(PARAMETER_NAMES)
    for spec in specs.values():
        assert spec.source.strip(), spec.name
        assert spec.description.strip(), spec.name
        assert spec.low <= spec.value <= spec.high, spec.name


def test_converted_probabilities_show_their_conversion() -> None:
    # A source quoting an annual or per-course percentage must show how it became a monthly figure.
    for spec in load_specs().values():
        if spec.unit == "probability" and "%" in spec.source and "Assumption" not in spec.source:
            assert spec.conversion and ("^" in spec.conversion or "/" in spec.conversion), spec.name


def test_whiteford_conversion_matches_the_value() -> None:
    spec = load_specs()["remission_untreated"]
    assert spec.value == pytest.approx(1 - (1 - 0.53) ** (1 / 12), abs=1e-4)
    assert "Whiteford" in spec.source


def test_load_parameters_returns_the_toml_values() -> None:
    params = load_parameters()
    raw = tomllib.loads(default_parameters_path().read_text(encoding="utf-8"))
    assert params.dropout == raw["dropout"]["value"]
    assert params.replace(dropout=0.1).dropout == 0.1


def _write(tmp_path: Path, mutate: str, replacement: str) -> Path:
    text = default_parameters_path().read_text(encoding="utf-8")
    assert mutate in text
    path = tmp_path / "parameters.toml"
    path.write_text(text.replace(mutate, replacement, 1), encoding="utf-8")
    return path


def test_a_parameter_without_source_is_refused(tmp_path: Path) -> None:
    path = _write(
        tmp_path, 'source = "Swift & Greenberg 2012 (669 studies): 19.7 % psychotherapy dropout"', ""
    )
    with pytest.raises(ValidationError, match=r"column dropout: missing source"):
        load_parameters(path)


def test_a_value_outside_its_range_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "[dropout]\nvalue = 0.0705", "[dropout]\nvalue = 0.5")
    with pytest.raises(ValidationError, match="dropout") as error:
        load_parameters(path)
    assert str(path) in str(error.value)


def test_an_unknown_parameter_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "[dropout]", "[dropot]")
    with pytest.raises(ValidationError, match="dropot"):
        load_parameters(path)
