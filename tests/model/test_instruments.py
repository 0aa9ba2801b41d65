from __future__ import annotations

import pytest

from onward.errors import ValidationError
from onward.model.eventlog import Instrument
from onward.model.instruments import (
    INSTRUMENTS,
    band,
    is_case,
    item_scores,
    nhs_outcome,
    risk_flag,
    total,
)


def test_every_contract_instrument_has_a_sourced_spec_with_contiguous_bands() -> None:
    assert set(INSTRUMENTS) == set(Instrument)
    for spec in INSTRUMENTS.values():
        assert spec.source and spec.licence
        assert spec.bands[0].low == 0 and spec.bands[-1].high == spec.max_total
        for a, b in zip(spec.bands, spec.bands[1:], strict=False):
            assert b.low == a.high + 1


@pytest.mark.parametrize(
    ("score", "label"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (10, "moderate"),
        (15, "moderately severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands(score: int, label: str) -> None:
    assert band("phq9", score) == label


def test_caseness_cut_offs() -> None:
    assert not is_case("phq9", 9) and is_case("phq9", 10)
    assert not is_case("gad7", 7) and is_case("gad7", 8)
    assert is_case("auditc", 3, sex="female") and not is_case("auditc", 3, sex="male")
    assert is_case("epds", 10) and band("epds", 13) == "probable depression"


def test_totals_validate_items() -> None:
    assert total("phq9", [1, 2, 3, 0, 0, 1, 2, 3, 1]) == 13
    assert total("audit", [4, 4, 4, 4, 4, 4, 4, 4, 4, 4]) == 40
    with pytest.raises(ValidationError, match="item 9"):
        total("audit", [0, 0, 0, 0, 0, 0, 0, 0, 1, 0])
    with pytest.raises(ValidationError, match="has 9 items"):
        total("phq9", [1, 2])


def test_reverse_scored_answers() -> None:
    # EPDS items 3, 5-10 are reverse scored; DAST-10 item 3 scores "no" (0) as 1.
    assert item_scores("epds", [0] * 10) == (0, 0, 3, 0, 3, 3, 3, 3, 3, 3)
    assert total("dast10", item_scores("dast10", [0] * 10)) == 1


def test_risk_items() -> None:
    assert risk_flag("phq9", [0] * 8 + [1])
    assert not risk_flag("phq9", [3] * 8 + [0])
    assert not risk_flag("gad7", [3] * 7)


def test_nhs_outcomes() -> None:
    recovered = nhs_outcome((16, 6), (12, 5))
    assert recovered.recovered and recovered.reliable_improvement and recovered.reliable_recovery
    # caseness on only one measure at the start still counts; recovery needs both below at the end
    one = nhs_outcome((8, 4), (10, 9))
    assert one.at_caseness_first and not one.recovered
    mixed = nhs_outcome((20, 13), (5, 10))  # reliable drop on PHQ-9, reliable rise on GAD-7
    assert not mixed.reliable_improvement and not mixed.reliable_deterioration
    assert nhs_outcome((10, 17), None).reliable_deterioration
    with pytest.raises(ValidationError):
        nhs_outcome(None, None)
