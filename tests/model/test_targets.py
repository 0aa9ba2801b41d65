"""Status against a target: the rule in words, the direction of good, the Wilson band, defaults."""

from __future__ import annotations

import pytest

from onward.errors import ValidationError
from onward.metrics.registry import METRICS
from onward.model.targets import (
    DEFAULT_TARGETS,
    check_value,
    direction_of_good,
    status,
    status_in_row,
    targetable,
    wilson_interval,
)

RECOVERY = METRICS["recovery_rate"]
WAIT = METRICS["days_to_first_treatment_median"]


def test_higher_is_better_meets_misses_and_margin() -> None:
    assert status(RECOVERY, 0.55, 0.50).key == "on_track"
    assert status(RECOVERY, 0.50, 0.50).key == "on_track"
    at_risk = status(RECOVERY, 0.47, 0.50, margin=0.05)
    assert at_risk.key == "at_risk" and at_risk.label == "! at risk"
    off = status(RECOVERY, 0.40, 0.50, margin=0.05)
    assert off.key == "off_track" and off.label == "✗ off track"
    assert "misses the target of at least 50.0 %" in off.explanation


def test_lower_is_better_for_waits() -> None:
    assert direction_of_good(WAIT.key) == "lower"
    assert status(WAIT, 10, 14).key == "on_track"
    assert status(WAIT, 20, 14).key == "off_track"
    assert status(WAIT, 15, 14, margin=2).key == "at_risk"
    assert "at most 14 days" in status(WAIT, 20, 14).explanation


def test_a_rate_without_margin_uses_the_wilson_interval() -> None:
    # 9 of 20 = 45 %: the 95 % interval (25.8-65.8 %) holds 50 %, so the shortfall may be chance.
    low, high = wilson_interval(9, 20)
    assert low == pytest.approx(0.2582, abs=1e-3) and high == pytest.approx(0.6579, abs=1e-3)
    assert status(RECOVERY, 0.45, 0.50, numerator=9, denominator=20).key == "at_risk"
    # 450 of 1000: the interval (41.9-48.1 %) excludes 50 %.
    assert status(RECOVERY, 0.45, 0.50, numerator=450, denominator=1000).key == "off_track"
    # Without counts there is no band: a miss is off track.
    assert status(RECOVERY, 0.45, 0.50).key == "off_track"


def test_no_status_without_target_figure_or_when_suppressed() -> None:
    assert status(RECOVERY, 0.3, None).key == "none"
    assert status(RECOVERY, None, 0.5).key == "none"
    hidden = status(RECOVERY, 0.3, 0.5, hidden=True)
    assert hidden.key == "none" and "suppressed" in hidden.explanation and "30" not in hidden.explanation


def test_status_in_a_published_row_never_compares_a_hidden_figure() -> None:
    row: dict[str, object] = {"recovery_rate": None, "suppressed": ["recovery_rate"]}
    assert status_in_row(RECOVERY, row, 0.5).key == "none"
    row = {
        "recovery_rate": 0.45,
        "recovery_rate__numerator": 9,
        "recovery_rate__denominator": 20,
        "suppressed": [],
    }
    assert status_in_row(RECOVERY, row, 0.5).key == "at_risk"
    row = {**row, "suppressed": ["recovery_rate__numerator"]}  # counts hidden: no interval from them
    assert status_in_row(RECOVERY, row, 0.5).key == "off_track"


def test_volumes_take_no_target_and_values_are_checked() -> None:
    assert direction_of_good("admissions") is None
    with pytest.raises(ValidationError, match="no direction of good"):
        targetable("admissions")
    with pytest.raises(ValidationError, match="unknown metric"):
        targetable("happiness")
    with pytest.raises(ValidationError, match="share from 0 to 1"):
        check_value(RECOVERY, 50, None)
    with pytest.raises(ValidationError, match="negative"):
        check_value(WAIT, -1, None)


def test_every_metric_is_classed_and_every_default_has_a_direction_and_source() -> None:
    for definition in METRICS.values():
        assert definition.purpose in ("ship", "direction"), definition.key
    for key, default in DEFAULT_TARGETS.items():
        assert METRICS[key].good is not None
        assert default.source
        check_value(METRICS[key], default.value, None)
