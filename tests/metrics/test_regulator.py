"""The regulator report's rules that need no database: periods from dates, small counts hidden."""

from __future__ import annotations

from datetime import date

import pytest

from onward.errors import ValidationError
from onward.metrics.regulator import hide as _hide
from onward.metrics.regulator import period_from_dates


def test_from_and_to_name_one_calendar_period() -> None:
    assert period_from_dates(date(2025, 1, 1), date(2025, 3, 31)).label == "2025-Q1"
    assert period_from_dates(date(2025, 2, 1), date(2025, 2, 28)).label == "2025-02"
    assert period_from_dates(date(2024, 1, 1), date(2024, 12, 31)).label == "2024"
    with pytest.raises(ValidationError, match="not one calendar month, quarter or year"):
        period_from_dates(date(2025, 1, 1), date(2025, 2, 28))


def test_a_figure_is_hidden_when_a_count_behind_it_is_small() -> None:
    assert _hide(5, None) and not _hide(0, None) and not _hide(11, None)
    assert _hide(20, 25)  # the rest, 5, is small
    assert _hide(3, 40) and not _hide(0, 0) and not _hide(15, 40)
