"""Period resolution against the data, and the months a period touches."""

from __future__ import annotations

from datetime import date

import pytest

from onward.errors import ValidationError
from onward.metrics.period import Period


def test_open_bounds_resolve_to_the_data_range() -> None:
    resolved = Period().resolve(first_event=date(2023, 3, 5), last_event=date(2024, 2, 10))
    assert (resolved.start, resolved.end, resolved.data_end) == (
        date(2023, 3, 5),
        date(2024, 2, 10),
        date(2024, 2, 10),
    )
    assert resolved.to_json() == {
        "from": "2023-03-05",
        "to": "2024-02-10",
        "as_of": None,
        "data_end": "2024-02-10",
    }


def test_as_of_is_data_end_and_the_default_end() -> None:
    resolved = Period(as_of=date(2023, 12, 31)).resolve(
        first_event=date(2023, 1, 1), last_event=date(2024, 6, 1)
    )
    assert resolved.data_end == resolved.end == date(2023, 12, 31)
    assert resolved.to_json()["as_of"] == "2023-12-31"


def test_inverted_or_empty_periods_are_refused() -> None:
    with pytest.raises(ValidationError, match="starts"):
        Period(date(2024, 5, 1), date(2024, 4, 1)).resolve(first_event=None, last_event=date(2024, 6, 1))
    with pytest.raises(ValidationError, match="no dated events"):
        Period().resolve(first_event=None, last_event=None)


def test_months_and_month_end_checkpoints_clip_to_the_period() -> None:
    resolved = Period(date(2023, 11, 15), date(2024, 2, 10)).resolve(
        first_event=None, last_event=date(2024, 6, 1)
    )
    assert resolved.months() == [date(2023, 11, 1), date(2023, 12, 1), date(2024, 1, 1), date(2024, 2, 1)]
    assert resolved.month_ends()[1] == (date(2023, 12, 1), date(2023, 12, 31))
    assert resolved.month_ends()[-1] == (date(2024, 2, 1), date(2024, 2, 10))  # clipped to `to`
