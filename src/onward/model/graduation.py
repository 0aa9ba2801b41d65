"""Default planned exits and written graduation criteria, per program kind, read from a cited data file.

The defaults live in `graduation_defaults.toml` beside this module, one table per program kind, each
with the source of its length and its criteria (docs/references.md, "Episodes built to be left"). A
clinician starts an episode from them and may change them for the person, with a reason.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from typing import Any, Final, Literal

from onward.model.eventlog import ProgramKind

WeeksBasis = Literal["source", "assumption"]
DEFAULTS_FILE: Final = "graduation_defaults.toml"


class DefaultsError(ValueError):
    """The defaults file contradicts itself (raised when the package loads it)."""


@dataclass(frozen=True, slots=True)
class ExitDefaults:
    """What an episode in a program of this kind starts with."""

    kind: ProgramKind
    planned_weeks: int
    weeks_basis: WeeksBasis
    weeks_source: str
    criteria: str
    criteria_source: str

    def planned_exit(self, start: date) -> date:
        return start + timedelta(weeks=self.planned_weeks)


def _parse(kind: ProgramKind, raw: dict[str, Any]) -> ExitDefaults:
    where = f"{DEFAULTS_FILE} [{kind.value}]"
    try:
        weeks = raw["planned_weeks"]
        basis = raw["weeks_basis"]
        out = ExitDefaults(
            kind=kind,
            planned_weeks=weeks,
            weeks_basis=basis,
            weeks_source=raw["weeks_source"].strip(),
            criteria=raw["criteria"].strip(),
            criteria_source=raw["criteria_source"].strip(),
        )
    except KeyError as missing:
        raise DefaultsError(f"{where}: missing {missing}") from None
    if not isinstance(weeks, int) or not 1 <= weeks <= 156:
        raise DefaultsError(f"{where}: planned_weeks must be a whole number of weeks from 1 to 156")
    if basis not in ("source", "assumption"):
        raise DefaultsError(f"{where}: weeks_basis must be 'source' or 'assumption'")
    if not out.criteria or not out.criteria_source or not out.weeks_source:
        raise DefaultsError(f"{where}: criteria, criteria_source and weeks_source must not be empty")
    return out


def load_defaults() -> dict[ProgramKind, ExitDefaults]:
    """The defaults of every program kind of the event log (a kind without a table is refused)."""
    text = resources.files("onward.model").joinpath(DEFAULTS_FILE).read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    unknown = set(raw) - {k.value for k in ProgramKind}
    if unknown:
        raise DefaultsError(f"{DEFAULTS_FILE}: unknown program kind(s) {sorted(unknown)}")
    missing = [k.value for k in ProgramKind if k.value not in raw]
    if missing:
        raise DefaultsError(f"{DEFAULTS_FILE}: no defaults for program kind(s) {missing}")
    return {kind: _parse(kind, raw[kind.value]) for kind in ProgramKind}


EXIT_DEFAULTS: Final[dict[ProgramKind, ExitDefaults]] = load_defaults()


def defaults_for(kind: ProgramKind | str) -> ExitDefaults:
    """The defaults of a program kind (`outpatient`, ...)."""
    return EXIT_DEFAULTS[ProgramKind(kind)]
