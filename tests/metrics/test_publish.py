"""The published cube: its sums of months are what the suite computes for each period (so the equations the
suppression relies on are true), and its dates follow the month-end rule."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from onward.errors import ValidationError
from onward.metrics.backends import open_event_log
from onward.metrics.period import CalendarPeriod
from onward.metrics.publish import (
    ALL,
    NO_PROGRAM,
    PER_PERIOD,
    SAME_NUMERATOR,
    WAITS,
    answer,
    cube_series,
    denominator_series,
    period_extras,
    publication_dates,
    publish,
)
from onward.metrics.registry import METRICS
from onward.metrics.suite import compute_metrics

sys.path.insert(0, str(Path(__file__).parent))

from metrics_helpers import episode, measure, service, write_log  # noqa: E402

from onward.metrics.outcomes import PHQ9


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two programs over January-April 2024 with discharges (the last on 04-25), graduations, services
    and PHQ-9 scores."""
    episodes, services, measurements = [], [], []
    for k in range(60):
        program = "P1" if k % 3 else "P2"
        start = date(2024, 1 + k % 3, 1 + (5 * k) % 27)
        end = date(2024, 2 + k % 3, 1 + (3 * k) % 27) if k % 2 else None
        reason = ("graduated" if k % 4 == 1 else "disengaged") if end else None
        episodes.append(
            episode(
                f"E{k}",
                f"u{k}",
                start.isoformat(),
                end.isoformat() if end else None,
                program_id=program,
                end_reason=reason,
            )
        )
        services.append(service(f"s{k}", f"u{k}", f"E{k}", date(2024, start.month, 28).isoformat()))
        measurements.append(measure(f"m{k}a", f"u{k}", f"E{k}", PHQ9, start.isoformat(), 14 + k % 5))
        measurements.append(measure(f"m{k}b", f"u{k}", f"E{k}", PHQ9, "2024-04-20", 4 + k % 9))
    return write_log(
        tmp_path_factory.mktemp("extract") / "x",
        episodes=episodes,
        services=services,
        measurements=measurements,
    )


def test_months_add_up_to_what_the_suite_says_for_each_period(extract: Path) -> None:
    log = open_event_log(data=extract)
    cube = publish(log, suppress=False)
    assert cube.as_of == date(2024, 3, 31) and cube.latest_event == date(2024, 4, 25)
    series = cube_series()
    for period in [CalendarPeriod.quarter(2024, 1), *CalendarPeriod.quarter(2024, 1).months()]:
        exact = compute_metrics(log, period=period.to_period(cube.as_of), by=("program",))
        rows = {(g.key["program_id"] or NO_PROGRAM): g.figures for g in exact.groups}
        rows[ALL] = exact.figures
        k = cube.index[period]
        for row, figures in rows.items():
            r = cube.rows.index(row)
            for key, definition in METRICS.items():
                figure = figures[key]
                if definition.kind == "count":
                    assert cube.counts[key][r, k] == figure.value, (period.label, row, key)
                elif key in PER_PERIOD or key in WAITS:
                    continue
                elif f"{key}.rest" in series:
                    numerator = cube.counts[SAME_NUMERATOR.get(key, f"{key}.numerator")][r, k]
                    denominator = cube.counts[denominator_series(key)][r, k]
                    assert (numerator, denominator) == (figure.numerator, figure.denominator), (key, row)
            assert cube.counts["admissions"][r, k] == figures["days_to_first_treatment_median"].denominator
        # The per-period figures (waits, DRR-E) come from the suite itself.
        view = answer(cube, period, period_extras(log, cube, period))
        for key in (*WAITS, *PER_PERIOD):
            assert view["metrics"][key] == exact.figures[key].value


def test_publication_follows_the_last_month_end(extract: Path) -> None:
    log = open_event_log(data=extract)
    assert publication_dates(log) == (date(2024, 1, 1), date(2024, 4, 25), date(2024, 3, 31))
    assert publication_dates(log, date(2024, 2, 29))[2] == date(2024, 2, 29)
    assert publication_dates(log, date(2030, 1, 31))[2] == date(2024, 3, 31)  # never past the data
    cube = publish(log, as_of=date(2024, 2, 29))
    assert cube.default_period() == CalendarPeriod.month(2024, 2)  # no quarter is over yet
    with pytest.raises(ValidationError, match="period 2024-Q1 is not published"):
        cube.check(CalendarPeriod.quarter(2024, 1))
    assert [p.label for p in cube.periods] == ["2024-01", "2024-02"]
