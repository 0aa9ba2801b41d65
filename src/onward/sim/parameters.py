"""Simulation parameters: monthly rates and probabilities, each with a plausible range and a public source.

The numbers live in `data/parameters.toml` so that a reader can check every default against its
source; this module only gives them names, types and validity bounds.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from onward.errors import ValidationError

Unit = Literal["probability", "share", "months", "hours", "hours_per_1000"]

#: Hard validity bounds per unit: a value outside them is an error, not a sensitivity choice.
UNIT_BOUNDS: dict[str, tuple[float, float]] = {
    "probability": (0.0, 1.0),
    "share": (0.0, 1.0),
    "months": (0.0, 600.0),
    "hours": (0.0, 744.0),
    "hours_per_1000": (0.0, 100_000.0),
}


@dataclass(frozen=True, slots=True)
class Parameters:
    """Everything the engine needs, per month; see data/parameters.toml for sources and ranges."""

    prevalence: float
    """Share of residents unwell at the start."""
    incidence: float
    """Monthly chance that a well resident becomes unwell."""
    remission_untreated: float
    """Monthly chance of remission without treatment."""
    help_seeking: float
    """Monthly chance that an unwell person not in contact is referred."""
    sud_share: float
    """Share of new cases that are substance-use episodes."""
    emergent_share: float
    """Share of referrals that are emergent (start at level 3)."""
    urgent_share: float
    """Share of referrals that are urgent (start at level 2)."""
    leave: float
    """Monthly chance of moving out of the county."""
    move_in: float
    """Monthly newcomers moving into the county, per resident."""
    mortality_scale: float
    """Deaths at this share of US age-specific death rates (1 = the life table; 0 = nobody dies)."""
    treatment_recovery: float
    """Monthly chance of recovery while in treatment."""
    dropout: float
    """Monthly chance of disengaging from treatment."""
    course_months: float
    """Outpatient course length before non-responders are moved on."""
    intensive_course_months: float
    """Intensive outpatient course length before stepping down."""
    residential_stay_months: float
    """Inpatient / residential stay before stepping down."""
    step_down_intensive: float
    """Monthly chance of stepping down from intensive care after its course."""
    to_case_management: float
    """Monthly chance that an outpatient non-responder is moved to case management only."""
    step_up: float
    """Lever: monthly chance that an outpatient non-responder is stepped up to intensive care."""
    cm_step_up: float
    """Lever: monthly chance that a case-management-only person is referred back to treatment."""
    cm_recovery: float
    """Monthly chance that a case-management-only person recovers."""
    cm_disengage: float
    """Monthly chance of leaving case management only, unwell."""
    cm_retention_effect: float
    """Relative reduction of treatment dropout for a person supported by a case manager."""
    cm_support_share: float
    """Share of people in treatment who need (and, with hours to spare, get) a case manager."""
    relapse_in_service: float
    """Monthly relapse chance while recovered and still in service."""
    relapse_after_discharge: float
    """Monthly relapse chance after graduating (mental health)."""
    relapse_sud: float
    """Monthly relapse chance after graduating (substance use)."""
    maintenance_discharge: float
    """Monthly chance that a recovered person in maintenance is discharged."""
    graduate_after_months: float
    """Lever: graduate after this many recovered months (0 = keep in maintenance)."""
    cm_review_months: float
    """Lever: refer case-management-only people back to treatment after this many months (0 = never)."""
    fast_return_share: float
    """Lever: share of relapsing graduates who return straight to the waiting list."""
    staff_hours_per_1000: float
    """Clinical staff hours per month per 1,000 residents."""
    case_management_share: float
    """Lever: share of staff hours spent on case management."""
    direct_care_share: float
    """Share of clinical staff hours spent face to face (coded services in the event log)."""
    hours_outpatient: float
    """Staff hours per person-month, outpatient treatment."""
    hours_intensive: float
    """Staff hours per person-month, intensive outpatient treatment."""
    hours_residential: float
    """Staff hours per person-month, inpatient or residential treatment."""
    hours_maintenance: float
    """Treatment staff hours per person-month of maintenance."""
    hours_maintenance_case_management: float
    """Case-management hours per person-month of maintenance."""
    hours_case_management: float
    """Case-management hours per person-month of case management only."""
    hours_treatment_case_management: float
    """Case-management hours per person-month for a person in treatment with a case manager."""
    school_coverage: float
    """Lever: share of school-age residents taking a skills curriculum each year."""
    school_incidence_reduction: float
    """Relative reduction of new cases while protected by the school curriculum."""
    school_protection_months: float
    """Months one school year's curriculum protects."""
    prenatal_coverage: float
    """Lever: share of pregnancies whose parent takes a perinatal skills course."""
    prenatal_incidence_reduction: float
    """Relative reduction of new cases while protected by the perinatal course."""
    prenatal_protection_months: float
    """Months a perinatal course protects (pregnancy plus first postpartum year)."""
    fertility: float
    """Monthly chance that a female resident aged 15-44 becomes pregnant."""
    skills_phase_in_months: float
    """Lever: months over which skills coverage rises to its target."""

    def replace(self, **changes: float) -> Parameters:
        """A copy with some values changed (names are checked)."""
        return dataclasses.replace(self, **changes)

    def as_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


PARAMETER_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Parameters))


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """One entry of parameters.toml: the default, its plausible range, and where it comes from."""

    name: str
    value: float
    low: float
    high: float
    unit: str
    source: str
    description: str
    conversion: str | None = None
    lever: bool = False

    @property
    def bounds(self) -> tuple[float, float]:
        """Hard validity bounds of this parameter's unit."""
        return UNIT_BOUNDS[self.unit]


def default_parameters_path() -> Path:
    return Path(str(resources.files("onward.sim") / "data" / "parameters.toml"))


def _spec(name: str, entry: Any, file: str) -> ParameterSpec:
    if not isinstance(entry, dict):
        raise ValidationError("must be a table with value, low, high, unit, source", file=file, column=name)
    allowed = {"value", "low", "high", "unit", "source", "description", "conversion", "lever"}
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ValidationError(f"unknown key(s) {', '.join(unknown)}", file=file, column=name)
    missing = sorted({"value", "low", "high", "unit", "source"} - set(entry))
    if missing:
        raise ValidationError(f"missing {', '.join(missing)}", file=file, column=name)
    numbers = {}
    for key in ("value", "low", "high"):
        raw = entry[key]
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ValidationError(f"{key} must be a number, got {raw!r}", file=file, column=name)
        numbers[key] = float(raw)
    unit = entry["unit"]
    if unit not in UNIT_BOUNDS:
        raise ValidationError(
            f"unknown unit {unit!r}", file=file, column=name, expected=", ".join(UNIT_BOUNDS)
        )
    source = entry["source"]
    if not isinstance(source, str) or not source.strip():
        raise ValidationError("source must name a public source", file=file, column=name)
    lo, hi = UNIT_BOUNDS[unit]
    if not lo <= numbers["low"] <= numbers["value"] <= numbers["high"] <= hi:
        raise ValidationError(
            f"needs {lo:g} <= low <= value <= high <= {hi:g}, got low={numbers['low']:g} "
            f"value={numbers['value']:g} high={numbers['high']:g}",
            file=file,
            column=name,
        )
    return ParameterSpec(
        name=name,
        value=numbers["value"],
        low=numbers["low"],
        high=numbers["high"],
        unit=unit,
        source=source.strip(),
        description=str(entry.get("description", "")),
        conversion=str(entry["conversion"]) if "conversion" in entry else None,
        lever=bool(entry.get("lever", False)),
    )


def load_specs(path: Path | None = None) -> dict[str, ParameterSpec]:
    """Every parameter's spec, in the order of the Parameters dataclass."""
    path = path or default_parameters_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValidationError(f"cannot read parameters: {error}", file=str(path)) from error
    unknown = sorted(set(raw) - set(PARAMETER_NAMES))
    if unknown:
        raise ValidationError(f"unknown parameter(s) {', '.join(unknown)}", file=str(path), column=unknown[0])
    missing = [n for n in PARAMETER_NAMES if n not in raw]
    if missing:
        raise ValidationError(f"missing parameter(s) {', '.join(missing)}", file=str(path), column=missing[0])
    return {name: _spec(name, raw[name], str(path)) for name in PARAMETER_NAMES}


def load_parameters(path: Path | None = None) -> Parameters:
    """The default parameters (or those of another file in the same format)."""
    specs = load_specs(path)
    return Parameters(**{name: spec.value for name, spec in specs.items()})
