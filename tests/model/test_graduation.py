"""Default planned exits and graduation criteria: one per program kind, each cited (docs/pathways.md)."""

from __future__ import annotations

from datetime import date

import pytest

from onward.model.eventlog import ProgramKind
from onward.model.graduation import EXIT_DEFAULTS, DefaultsError, _parse, defaults_for
from onward.model.pathways import MIN_CRITERIA_CHARS


def test_every_program_kind_has_cited_defaults() -> None:
    assert set(EXIT_DEFAULTS) == set(ProgramKind)
    for kind, defaults in EXIT_DEFAULTS.items():
        assert defaults.kind is kind
        assert len(defaults.criteria) >= MIN_CRITERIA_CHARS
        assert defaults.criteria_source and defaults.weeks_source
        assert defaults.weeks_basis in ("source", "assumption")


def test_planned_exit_from_the_start() -> None:
    outpatient = defaults_for("outpatient")
    assert outpatient.planned_weeks == 16  # NICE CG90: 16-20 sessions over 3-4 months
    assert outpatient.planned_exit(date(2025, 1, 6)) == date(2025, 4, 28)
    assert defaults_for(ProgramKind.MEDICATION_FOR_OUD).planned_weeks == 52


def test_a_bad_table_is_refused_naming_it() -> None:
    good = {
        "planned_weeks": 4,
        "weeks_basis": "assumption",
        "weeks_source": "s",
        "criteria": "c" * 30,
        "criteria_source": "s",
    }
    assert _parse(ProgramKind.CRISIS, good).planned_weeks == 4
    with pytest.raises(DefaultsError, match=r"\[crisis\]: missing 'criteria'"):
        _parse(ProgramKind.CRISIS, {k: v for k, v in good.items() if k != "criteria"})
    with pytest.raises(DefaultsError, match="planned_weeks"):
        _parse(ProgramKind.CRISIS, {**good, "planned_weeks": 0})
    with pytest.raises(DefaultsError, match="weeks_basis"):
        _parse(ProgramKind.CRISIS, {**good, "weeks_basis": "guess"})
