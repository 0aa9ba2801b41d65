"""Scenarios: a name, a story, and the levers (and evidence overrides) that differ from the defaults.

A scenario file is TOML:

    name = "treatment-first"
    description = "Move staff time from case management to treatment."
    [levers]
    case_management_share = 0.25
    [parameters]            # optional: evidence values for a local system (e.g. from calibration)
    help_seeking = 0.02
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from onward.errors import ValidationError
from onward.sim.parameters import Parameters, ParameterSpec, load_parameters, load_specs

_TOP_LEVEL = {"name", "description", "levers", "parameters"}


@dataclass(frozen=True, slots=True)
class Scenario:
    """What to change from the default parameters; `levers` are policy, `overrides` are evidence."""

    name: str
    description: str = ""
    levers: dict[str, float] = field(default_factory=dict)
    overrides: dict[str, float] = field(default_factory=dict)
    path: str | None = None

    def parameters(self, base: Parameters | None = None) -> Parameters:
        """The full parameter set of this scenario: the defaults, then overrides, then levers."""
        base = base or load_parameters()
        return base.replace(**self.overrides, **self.levers)


def _scenario_dir() -> Path:
    return Path(str(resources.files("onward.sim") / "scenarios"))


def builtin_scenarios() -> list[str]:
    """Names of the scenarios shipped with Onward, status-quo first."""
    names = sorted(p.stem for p in _scenario_dir().glob("*.toml"))
    return sorted(names, key=lambda n: (n != "status-quo", n))


def _number(value: Any, *, file: str, column: str, spec: ParameterSpec) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(
            f"must be a number, got {type(value).__name__} {value!r}", file=file, column=column
        )
    lo, hi = spec.bounds
    if not lo <= float(value) <= hi:
        raise ValidationError(
            f"{value!r} is out of range for unit {spec.unit}",
            file=file,
            column=column,
            expected=f"{lo:g}..{hi:g}",
        )
    return float(value)


def _section(
    raw: Any, *, section: str, file: str, specs: dict[str, ParameterSpec], levers: bool
) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValidationError("must be a table", file=file, column=section)
    out: dict[str, float] = {}
    for key, value in raw.items():
        column = f"{section}.{key}"
        spec = specs.get(key)
        if spec is None:
            raise ValidationError("unknown field", file=file, column=column)
        if levers and not spec.lever:
            lever_names = ", ".join(n for n, s in specs.items() if s.lever)
            raise ValidationError(
                "is not a lever (put evidence under [parameters])",
                file=file,
                column=column,
                expected=f"one of {lever_names}",
            )
        out[key] = _number(value, file=file, column=column, spec=spec)
    return out


def parse_scenario(raw: dict[str, Any], *, file: str, fallback_name: str) -> Scenario:
    """Validate a scenario document; every error names the file, the field and the reason."""
    unknown = sorted(set(raw) - _TOP_LEVEL)
    if unknown:
        raise ValidationError(
            "unknown field", file=file, column=unknown[0], expected=", ".join(sorted(_TOP_LEVEL))
        )
    name = raw.get("name", fallback_name)
    description = raw.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str):
            raise ValidationError(f"must be text, got {type(value).__name__}", file=file, column=key)
    if not name.strip():
        raise ValidationError("must not be empty", file=file, column="name")
    specs = load_specs()
    levers = _section(raw.get("levers"), section="levers", file=file, specs=specs, levers=True)
    overrides = _section(raw.get("parameters"), section="parameters", file=file, specs=specs, levers=False)
    merged = {n: s.value for n, s in specs.items()} | overrides | levers
    if merged["emergent_share"] + merged["urgent_share"] > 1.0:
        raise ValidationError(
            "emergent_share + urgent_share must not exceed 1", file=file, column="parameters.urgent_share"
        )
    return Scenario(name=name, description=description, levers=levers, overrides=overrides, path=file)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name (e.g. "status-quo"), or a user's TOML file by path."""
    text_name = str(name_or_path)
    builtin = _scenario_dir() / f"{text_name}.toml"
    path = builtin if builtin.is_file() and "/" not in text_name else Path(name_or_path)
    if not path.is_file():
        raise ValidationError(
            f"no scenario {text_name!r}: not a file and not one of {', '.join(builtin_scenarios())}",
            file=text_name,
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValidationError(f"not valid TOML: {error}", file=str(path)) from error
    except OSError as error:
        raise ValidationError(f"cannot read: {error}", file=str(path)) from error
    return parse_scenario(raw, file=str(path), fallback_name=path.stem)
