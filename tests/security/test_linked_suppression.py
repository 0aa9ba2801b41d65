"""The linked system: no hidden cell can be pinned to one value from everything published for a year.

The attacker's model here is written independently of the production builder: every published count of
a year (12 months, 4 quarters, the year; each program and the all-programs total), the definitions that
tie them (months add up to quarters and the year; programs to the total; a census is its last month's;
graduated + not graduated = discharges; stuck + not stuck = census; and each program's month as a flow
table: the census at the start and the admissions in, the discharges and the census at the end out,
through four counts nobody sees), and non-negativity. For each hidden cell a linear program finds its
smallest and largest possible value; a pinned cell would have the two equal.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest
import scipy.sparse  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog  # type: ignore[import-untyped]

from onward.metrics.period import CalendarPeriod, Period
from onward.metrics.publish import ALL, PublishedCube, build_cube
from onward.metrics.registry import METRICS
from onward.metrics.scope import Figure
from onward.metrics.suite import GroupResult, MetricsResult
from onward.security.linked_suppression import LinkedSystem, pinned_cells
from onward.security.suppression import is_small

YEAR = 2024
MONTHS = [CalendarPeriod.month(YEAR, m) for m in range(1, 13)]
QUARTERS = [CalendarPeriod.quarter(YEAR, q) for q in range(1, 5)]
PERIODS = [CalendarPeriod.year(YEAR), *QUARTERS, *MONTHS]
#: Series as the cube names them; the stuck count is fixed at 0 by the generator.
SERIES = {
    "admissions": False,
    "discharges": False,
    "active_census": True,
    "graduation_rate.numerator": False,
    "graduation_rate.rest": False,
    "stuck_count": True,
    "stuck_share.rest": True,
}

small = st.integers(1, 10)
count = st.one_of(st.just(0), small, st.integers(11, 40))


@st.composite
def flows(draw: Any) -> dict[str, Any]:
    """Per program and month: census at the start, how many of them leave, admissions, how many of those
    leave the same month, how many of the leavers graduate."""
    programs = draw(st.integers(1, 3))
    out: dict[str, Any] = {"programs": programs, "cells": {}}
    for p in range(programs):
        census = 0
        for m in range(12):
            admitted = draw(count)
            stock_out = draw(st.integers(0, census))
            quick_out = draw(st.integers(0, admitted))
            discharged = stock_out + quick_out
            graduated = draw(st.integers(0, discharged))
            end = census - stock_out + admitted - quick_out
            out["cells"][(p, m)] = {
                "start": census,
                "stock_out": stock_out,
                "quick_out": quick_out,
                "admissions": admitted,
                "discharges": discharged,
                "graduated": graduated,
                "census": end,
            }
            census = end
    return out


def _result(data: dict[str, Any]) -> MetricsResult:
    """A suite result by program and month holding the generated counts (every other metric 0)."""
    resolved = Period(date(YEAR, 1, 1), date(YEAR, 12, 31), date(YEAR, 12, 31)).resolve(
        first_event=None, last_event=None
    )
    groups = []
    for (p, m), cell in data["cells"].items():
        figures: dict[str, Figure] = {}
        for key, definition in METRICS.items():
            if definition.kind == "count":
                figures[key] = Figure.count(0)
            elif definition.kind == "days":
                figures[key] = Figure(None, 0, 0)
            else:
                figures[key] = Figure.rate(0, 0)
        figures["admissions"] = Figure.count(cell["admissions"])
        figures["discharges"] = Figure.count(cell["discharges"])
        figures["active_census"] = Figure.count(cell["census"])
        figures["graduation_rate"] = Figure.rate(cell["graduated"], cell["discharges"])
        figures["stuck_share"] = Figure.rate(0, cell["census"])
        for key in ("days_to_first_treatment_median", "days_to_first_treatment_p90"):
            figures[key] = Figure(None, 0, cell["admissions"])
        groups.append(GroupResult({"program_id": f"p{p}", "month": f"{YEAR}-{m + 1:02d}"}, figures))
    return MetricsResult(resolved, ("program", "month"), {}, groups, "test")


def _attack(data: dict[str, Any], cube: PublishedCube) -> list[str]:
    """Every hidden cell whose smallest and largest feasible values differ by less than 1."""
    programs = [f"p{p}" for p in range(data["programs"])]
    rows = [*programs, ALL]
    names: dict[tuple[Any, ...], int] = {}
    truth: list[float] = []

    def var(key: tuple[Any, ...], value: int) -> int:
        if key not in names:
            names[key] = len(truth)
            truth.append(float(value))
        return names[key]

    def cell(series: str, row: str, period: CalendarPeriod) -> int:
        r, k = cube.rows.index(row), cube.index[period]
        return var((series, row, period.label), int(cube.counts[series][r, k]))

    equations: list[dict[int, float]] = []

    def equal(parts: list[int], whole: int) -> None:
        row: dict[int, float] = {}
        for i in parts:
            row[i] = row.get(i, 0.0) + 1.0
        row[whole] = row.get(whole, 0.0) - 1.0
        equations.append(row)

    for series, point_in_time in SERIES.items():
        for period in PERIODS:
            equal([cell(series, r, period) for r in programs], cell(series, ALL, period))
            for row in rows:
                if period.kind == "month":
                    continue
                inside = [
                    p for p in PERIODS if p.kind == {"quarter": "month", "year": "quarter"}[period.kind]
                ]
                inside = [p for p in inside if period.start <= p.start and p.end <= period.end]
                if point_in_time:
                    equal([cell(series, row, inside[-1])], cell(series, row, period))
                else:
                    equal([cell(series, row, p) for p in inside], cell(series, row, period))
    for period in PERIODS:
        for row in rows:
            equal(
                [cell("graduation_rate.numerator", row, period), cell("graduation_rate.rest", row, period)],
                cell("discharges", row, period),
            )
            equal(
                [cell("stuck_count", row, period), cell("stuck_share.rest", row, period)],
                cell("active_census", row, period),
            )
    for p, program in enumerate(programs):
        for m, month in enumerate(MONTHS):
            c = data["cells"][(p, m)]
            stay = var(("stay", program, m), c["start"] - c["stock_out"])
            left = var(("left", program, m), c["stock_out"])
            quick = var(("quick", program, m), c["quick_out"])
            kept = var(("kept", program, m), c["admissions"] - c["quick_out"])
            start = cell("active_census", program, MONTHS[m - 1]) if m else var(("zero",), 0)
            equal([stay, left], start)
            equal([quick, kept], cell("admissions", program, month))
            equal([left, quick], cell("discharges", program, month))
            equal([stay, kept], cell("active_census", program, month))
    shown = {
        names[(series, row, period.label)]
        for series in SERIES
        for row in rows
        for period in PERIODS
        if not cube.hidden[series][cube.rows.index(row), cube.index[period]]
    } | {names[("zero",)]}
    hidden = {
        names[(series, row, period.label)]
        for series in SERIES
        for row in rows
        for period in PERIODS
        if cube.hidden[series][cube.rows.index(row), cube.index[period]]
    }
    unknown = [i for i in range(len(truth)) if i not in shown]
    column = {i: k for k, i in enumerate(unknown)}
    rows_at: list[int] = []
    cols_at: list[int] = []
    coefficients: list[float] = []
    b_eq: list[float] = []
    for equation in equations:
        constant = sum(-c * truth[i] for i, c in equation.items() if i not in column)
        terms = [(column[i], c) for i, c in equation.items() if i in column]
        if not terms:
            assert abs(constant) < 1e-9, "the shown cells break a definition"
            continue
        for k, c in terms:
            rows_at.append(len(b_eq))
            cols_at.append(k)
            coefficients.append(c)
        b_eq.append(constant)
    a_eq = scipy.sparse.csr_matrix((coefficients, (rows_at, cols_at)), shape=(len(b_eq), len(unknown)))
    label = {i: key for key, i in names.items()}
    failures = []
    for i in sorted(hidden):
        objective = np.zeros(len(unknown))
        objective[column[i]] = 1.0
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        top = -high.fun if high.status == 0 else float("inf")
        assert high.status in (0, 3), high.message  # 3: unbounded above
        assert truth[i] <= top + 1e-6
        if top >= truth[i] + 1 - 1e-6:
            continue  # the cell can be at least one more than it is: not pinned
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert low.status == 0, low.message
        assert low.fun - 1e-6 <= truth[i]
        if top - low.fun < 1 - 1e-6:
            failures.append(f"{label[i]} = {truth[i]:g} pinned to [{low.fun:g}, {top:g}]")
    return failures


@pytest.mark.slow
@settings(max_examples=20, deadline=None)
@given(flows())
def test_no_hidden_cell_of_a_year_can_be_pinned(data: dict[str, Any]) -> None:
    cube = build_cube(_result(data), as_of=date(YEAR, 12, 31), latest_event=date(YEAR, 12, 31))
    for series in SERIES:
        shown = ~cube.hidden[series]
        assert not (shown & (cube.counts[series] >= 1) & (cube.counts[series] <= 10)).any(), series
    assert _attack(data, cube) == []


def test_an_unsuppressed_cube_is_what_the_attack_sees_through() -> None:
    """The attack model has teeth: without suppression, a small cell is simply read off."""
    data: dict[str, Any] = {
        "programs": 1,
        "cells": {
            (0, m): {
                "start": 0,
                "stock_out": 0,
                "quick_out": 0,
                "admissions": 3 if m == 0 else 0,
                "discharges": 0,
                "graduated": 0,
                "census": 3,
            }
            for m in range(12)
        },
    }
    for m in range(1, 12):
        data["cells"][(0, m)]["start"] = 3
    cube = build_cube(
        _result(data), as_of=date(YEAR, 12, 31), latest_event=date(YEAR, 12, 31), suppress=False
    )
    assert cube.counts["admissions"][0, cube.index[MONTHS[0]]] == 3
    cube.hidden["admissions"][0, cube.index[MONTHS[0]]] = True  # hide only the small cell
    assert any("admissions" in failure for failure in _attack(data, cube))


def test_a_census_hidden_alone_is_given_back_by_admissions_and_discharges() -> None:
    system = LinkedSystem()
    before, admitted, left, after = (system.variable(v) for v in (40, 5, 12, 33))
    system.balance([before, admitted], [left, after])
    matrix = system.equations()
    hidden = np.array([False, True, False, False])
    assert pinned_cells(matrix, hidden) == [1]  # admissions = 12 + 33 - 40
    chosen = system.suppress()
    assert chosen[1] and chosen.sum() == 2
    assert pinned_cells(matrix, chosen) == []


def test_a_small_count_shown_nowhere_else_needs_no_cover() -> None:
    system = LinkedSystem()
    a, b = system.variable(4), system.variable(30)
    system.table([[a, b]])  # no totals published: nothing to subtract from
    assert system.suppress().tolist() == [True, False]


def test_every_small_value_is_hidden_even_when_nothing_links_it() -> None:
    system = LinkedSystem()
    ids = [system.variable(v) for v in (0, 1, 10, 11)]
    assert system.suppress()[ids].tolist() == [False, True, True, False]
    assert all(is_small(v) for v in (1, 10)) and not is_small(0)
