"""The direction numbers published on their own pages: kept out of the cube, system targets only, and
their monthly tally."""

from __future__ import annotations

from datetime import date

import pytest

from onward.errors import ValidationError
from onward.model.metric_registry import METRICS
from onward.model.own_page_metrics import OWN_PAGE_METRICS, monthly_shares, months_ending, system_only
from onward.model.targets import check_scope, direction_of_good, targetable


def test_they_are_system_shares_outside_the_cube() -> None:
    assert set(OWN_PAGE_METRICS) == {"skills_coverage", "voice_share_implemented"}
    assert not set(OWN_PAGE_METRICS) & set(METRICS)
    for key, definition in OWN_PAGE_METRICS.items():
        assert targetable(key) is definition and direction_of_good(key) == "higher"
        assert definition.kind == "rate" and definition.purpose == "direction" and system_only(key)
        check_scope(definition, None)
        with pytest.raises(ValidationError, match="whole system only"):
            check_scope(definition, "op")
    check_scope(METRICS["recovery_rate"], "op")  # a cube metric takes a program's target


def test_twelve_months_across_a_year_end_and_their_tally() -> None:
    months = months_ending(date(2024, 3, 31))
    assert months[0] == date(2023, 4, 1) and months[-1] == date(2024, 3, 1) and len(months) == 12
    assert months_ending(date(2024, 12, 31), 2) == [date(2024, 11, 1), date(2024, 12, 1)]
    items = [
        (date(2024, 3, 2), True),
        (date(2024, 3, 30), False),
        (date(2023, 4, 1), True),
        (date(2023, 3, 31), True),
    ]
    shares = monthly_shares(items, months)
    assert (shares[-1].label, shares[-1].numerator, shares[-1].denominator, shares[-1].value) == (
        "2024-03",
        1,
        2,
        0.5,
    )
    assert (shares[0].numerator, shares[0].denominator) == (1, 1)  # 2023-03 is outside the window
    assert shares[5].value is None  # nothing due: no data
