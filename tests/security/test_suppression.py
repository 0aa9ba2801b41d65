from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.optimize import linprog  # type: ignore[import-untyped]

from onward.security.suppression import (
    SUPPRESSED,
    Margins,
    MetricCells,
    is_small,
    recoverable_cells,
    suppress_counts,
    suppress_result,
    with_totals,
)


def _published(rows: int, cols: int, margins: Margins) -> NDArray[np.bool_]:
    out = np.zeros((rows + 1, cols + 1), dtype=bool)
    out[:rows, :cols] = True
    out[:rows, cols] = margins in ("rows", "both")
    out[rows, :cols] = margins in ("columns", "both")
    out[rows, cols] = margins != "none"
    return out


def _ranges(full: NDArray[np.int64], shown: NDArray[np.bool_]) -> dict[tuple[int, int], tuple[float, float]]:
    """Min and max of every unknown cell given the shown cells, the table's sums and non-negativity (LP)."""
    rows, cols = full.shape  # includes the total row and column
    unknown = [(int(i), int(j)) for i, j in np.argwhere(~shown)]
    index = {cell: k for k, cell in enumerate(unknown)}
    equations: list[list[float]] = []
    constants: list[float] = []
    # Each inner row sums to its total; so does each column; the totals sum to the grand total.
    lines = [[(i, j) for j in range(cols - 1)] + [(i, cols - 1)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows - 1)] + [(rows - 1, j)] for j in range(cols)]
    for line in lines:
        *parts, whole = line
        row = [0.0] * len(unknown)
        constant = 0.0
        for cell, sign in [(p, 1.0) for p in parts] + [(whole, -1.0)]:
            if cell in index:
                row[index[cell]] += sign
            else:
                constant -= sign * float(full[cell])
        if any(row):
            equations.append(row)
            constants.append(constant)
    out: dict[tuple[int, int], tuple[float, float]] = {}
    for cell, k in index.items():
        objective = np.zeros(len(unknown))
        objective[k] = 1.0
        bounds = [(0, None)] * len(unknown)
        low = linprog(
            objective, A_eq=equations or None, b_eq=constants or None, bounds=bounds, method="highs"
        )
        high = linprog(
            -objective, A_eq=equations or None, b_eq=constants or None, bounds=bounds, method="highs"
        )
        assert low.status == 0, low.message
        out[cell] = (float(low.fun), -float(high.fun) if high.status == 0 else float("inf"))
    return out


tables = st.integers(1, 5).flatmap(
    lambda rows: st.integers(1, 5).flatmap(
        lambda cols: st.lists(
            st.one_of(st.just(0), st.integers(1, 10), st.integers(11, 60)),
            min_size=rows * cols,
            max_size=rows * cols,
        ).map(lambda values: np.array(values, dtype=np.int64).reshape(rows, cols))
    )
)


@settings(max_examples=150, deadline=None)
@given(tables, st.sampled_from(["both", "rows", "columns", "none"]))
def test_no_hidden_cell_can_be_recovered_exactly(counts: NDArray[np.int64], margins: Margins) -> None:
    mask = suppress_counts(counts, margins=margins)
    full = with_totals(counts)
    published = _published(counts.shape[0], counts.shape[1], margins)
    hidden = mask.extended & published
    shown = published & ~hidden
    # Every small published cell is hidden; zeros and large cells may be shown.
    assert not (shown & (full >= 1) & (full <= 10)).any()
    for (i, j), (low, high) in _ranges(full, shown).items():
        assert low <= full[i, j] + 1e-6 and full[i, j] <= high + 1e-6
        if hidden[i, j]:
            assert high - low >= 1 - 1e-6, f"cell {(i, j)} = {full[i, j]} pinned to [{low}, {high}]"


def test_a_small_inner_cell_takes_a_rectangle_with_it() -> None:
    counts = np.array([[5, 40, 50], [30, 60, 70], [20, 25, 80]])
    mask = suppress_counts(counts, margins="both")
    # The 5 needs a partner in its row and its column, and those a fourth corner: the cheapest rectangle.
    assert mask.cells.tolist() == [[True, True, False], [False, False, False], [True, True, False]]
    assert not mask.row_totals.any() and not mask.column_totals.any() and not mask.grand_total  # type: ignore[union-attr]


def test_zero_may_be_shown_and_is_never_used_as_cover() -> None:
    counts = np.array([[0, 3, 40], [0, 50, 60]])
    mask = suppress_counts(counts, margins="both")
    assert not mask.cells[:, 0].any()
    assert mask.cells[0, 1]
    assert mask.cells.sum() == 4  # the rectangle of non-zero cells 3, 40, 50, 60


def test_a_small_total_is_hidden_and_protected() -> None:
    counts = np.array([[2, 3], [40, 50]])
    mask = suppress_counts(counts, margins="both")
    assert mask.row_totals is not None and mask.row_totals[0]  # 5 is small
    full = with_totals(counts)
    published = _published(2, 2, "both")
    assert not recoverable_cells(full, published, mask.extended).any()


def test_without_totals_only_small_cells_are_hidden() -> None:
    counts = np.array([[1, 40], [30, 0]])
    mask = suppress_counts(counts, margins="none")
    assert mask.cells.tolist() == [[True, False], [False, False]]
    assert mask.row_totals is None and mask.column_totals is None and mask.grand_total is None


def test_one_row_with_a_total_hides_a_second_cell() -> None:
    mask = suppress_counts(np.array([[4, 30, 12]]), margins="rows")
    assert mask.cells.tolist() == [[True, False, True]]  # 12 is the cheapest complement


def test_negative_or_flat_input_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        suppress_counts(np.array([[-1, 2]]))
    with pytest.raises(ValueError, match="2-D"):
        suppress_counts(np.array([1, 2]))


def test_is_small_follows_the_cms_range() -> None:
    assert [is_small(v) for v in (0, 1, 10, 11, None, float("nan"))] == [
        False,
        True,
        True,
        False,
        False,
        False,
    ]


def _result() -> dict[str, Any]:
    groups: list[dict[str, Any]] = []
    admissions = {("a", "2024-01"): 3, ("a", "2024-02"): 40, ("b", "2024-01"): 30, ("b", "2024-02"): 50}
    graduated = {("a", "2024-01"): 1, ("a", "2024-02"): 20, ("b", "2024-01"): 15, ("b", "2024-02"): 25}
    for (program, month), n in admissions.items():
        g = graduated[(program, month)]
        groups.append(
            {
                "program_id": program,
                "month": month,
                "admissions": n,
                "graduated": g,
                "discharges": n,
                "graduation_rate": g / n,
                "active_census": n + 100,
            }
        )
    for program in ("a", "b"):
        n = sum(v for (p, _), v in admissions.items() if p == program)
        g = sum(v for (p, _), v in graduated.items() if p == program)
        groups.append(
            {
                "program_id": program,
                "month": None,
                "admissions": n,
                "graduated": g,
                "discharges": n,
                "graduation_rate": g / n,
                "active_census": admissions[(program, "2024-02")] + 100,
            }
        )
    for month in ("2024-01", "2024-02"):
        n = sum(v for (_, m), v in admissions.items() if m == month)
        g = sum(v for (_, m), v in graduated.items() if m == month)
        groups.append(
            {
                "program_id": None,
                "month": month,
                "admissions": n,
                "graduated": g,
                "discharges": n,
                "graduation_rate": g / n,
                "active_census": n + 200,
            }
        )
    total_n, total_g = sum(admissions.values()), sum(graduated.values())
    metrics = {
        "admissions": total_n,
        "graduated": total_g,
        "discharges": total_n,
        "graduation_rate": total_g / total_n,
        "active_census": 290,
        "empty_rate": None,
    }
    return {"period": {"from": "2024-01-01", "to": "2024-02-29"}, "metrics": metrics, "groups": groups}


CELLS = (
    MetricCells("admissions", "count"),
    MetricCells("discharges", "count"),
    MetricCells("active_census", "count", additive=False),
    MetricCells("graduation_rate", "rate", counts=("graduated", "discharges")),
    MetricCells("empty_rate", "rate", counts=("graduated",)),
)


def _group(result: dict[str, Any], program: str | None, month: str | None) -> dict[str, Any]:
    return next(g for g in result["groups"] if g["program_id"] == program and g["month"] == month)


def test_metric_result_hides_small_counts_their_complements_and_rates_built_on_them() -> None:
    out = suppress_result(_result(), CELLS)
    cell = _group(out, "a", "2024-01")
    assert cell["admissions"] is None and "admissions" in cell[SUPPRESSED]
    assert cell["graduation_rate"] is None and "graduation_rate" in cell[SUPPRESSED]
    # Complementary cells: the admissions rectangle a/b x Jan/Feb (3 with 40, 30, 50).
    hidden = [(g["program_id"], g["month"]) for g in out["groups"] if g["admissions"] is None]
    assert sorted(hidden, key=str) == sorted(
        [("a", "2024-01"), ("a", "2024-02"), ("b", "2024-01"), ("b", "2024-02")], key=str
    )
    # Totals stay shown; a large cell's rate too, unless its numerator is hidden.
    assert out["metrics"]["admissions"] == 123
    assert _group(out, "b", "2024-02")["graduation_rate"] is None  # graduated rectangle covers it
    assert _group(out, "b", None)["graduation_rate"] == pytest.approx(40 / 80)


def test_metric_result_keeps_an_empty_rate_null_without_a_suppressed_marker() -> None:
    out = suppress_result(_result(), CELLS)
    assert out["metrics"]["empty_rate"] is None
    assert "empty_rate" not in out["metrics"].get(SUPPRESSED, [])


def test_metric_result_one_way_grouping_protects_the_period_total() -> None:
    result = {
        "period": {},
        "metrics": {"admissions": 70},
        "groups": [{"program_id": "a", "admissions": 4}, {"program_id": "b", "admissions": 66}],
    }
    out = suppress_result(result, [MetricCells("admissions", "count")])
    # With the total shown, hiding only the 4 would give it back as 70 - 66.
    assert [g["admissions"] for g in out["groups"]] == [None, None]
    assert out["metrics"]["admissions"] == 70


@settings(max_examples=80, deadline=None)
@given(tables, st.booleans(), st.booleans())
def test_metric_result_tables_leave_nothing_recoverable(
    counts: NDArray[np.int64], by_program: bool, by_month: bool
) -> None:
    rows, cols = counts.shape
    full = with_totals(counts)
    groups: list[dict[str, Any]] = [
        {"program_id": f"p{i}", "month": f"2024-{j + 1:02d}", "n": int(counts[i, j])}
        for i in range(rows)
        for j in range(cols)
    ]
    if by_program:
        groups += [{"program_id": f"p{i}", "month": None, "n": int(full[i, cols])} for i in range(rows)]
    if by_month:
        groups += [
            {"program_id": None, "month": f"2024-{j + 1:02d}", "n": int(full[rows, j])} for j in range(cols)
        ]
    result = {"period": {}, "metrics": {"n": int(full[rows, cols])}, "groups": groups}
    out = suppress_result(result, [MetricCells("n", "count")])
    shown = np.zeros_like(full, dtype=bool)  # totals that are not published are unknowns too
    for g in out["groups"]:
        i = rows if g["program_id"] is None else int(g["program_id"][1:])
        j = cols if g["month"] is None else int(g["month"][5:]) - 1
        shown[i, j] = g["n"] is not None
        assert g["n"] is None or g["n"] == full[i, j]
    shown[rows, cols] = out["metrics"]["n"] is not None
    assert not (shown & (full >= 1) & (full <= 10)).any()
    published_cells = np.zeros_like(full, dtype=bool)
    published_cells[:rows, :cols] = True
    published_cells[:rows, cols] = by_program
    published_cells[rows, :cols] = by_month
    published_cells[rows, cols] = True
    for (i, j), (low, high) in _ranges(full, shown).items():
        if published_cells[i, j]:
            assert high - low >= 1 - 1e-6, f"cell {(i, j)} = {full[i, j]} pinned to [{low}, {high}]"


def test_a_census_by_program_is_hidden_with_its_last_month() -> None:
    # A census at a date adds up over programs, not months; "by program" is the census at `to`,
    # which is the last month's value: if that cell is hidden, so is the program's figure.
    census = {("a", "2024-01"): 25, ("a", "2024-02"): 5, ("b", "2024-01"): 30, ("b", "2024-02"): 40}
    groups: list[dict[str, Any]] = [{"program_id": p, "month": m, "c": n} for (p, m), n in census.items()]
    groups += [{"program_id": "a", "month": None, "c": 5}, {"program_id": "b", "month": None, "c": 40}]
    groups += [
        {"program_id": None, "month": "2024-01", "c": 55},
        {"program_id": None, "month": "2024-02", "c": 45},
    ]
    result = {"period": {}, "metrics": {"c": 45}, "groups": groups}
    out = suppress_result(result, [MetricCells("c", "count", additive=False)])
    hidden = {(g["program_id"], g["month"]) for g in out["groups"] if g["c"] is None}
    assert hidden == {("a", "2024-02"), ("b", "2024-02"), ("a", None), ("b", None)}
    assert out["metrics"]["c"] == 45  # the sum of two hidden cells, neither of which it gives away


def test_a_table_shown_with_only_its_overall_total_hides_two_cells() -> None:
    mask = suppress_counts(np.array([[4, 30], [50, 60]]), margins="none", grand_total=True)
    assert mask.cells.sum() == 2 and mask.cells[0, 0]  # 144 - (30 + 50 + 60) would give the 4 back
    result = {
        "period": {},
        "metrics": {"n": 144},
        "groups": [
            {"program_id": p, "month": m, "n": n}
            for (p, m), n in {("a", "01"): 4, ("a", "02"): 30, ("b", "01"): 50, ("b", "02"): 60}.items()
        ],
    }
    out = suppress_result(result, [MetricCells("n", "count")])
    assert sum(g["n"] is None for g in out["groups"]) == 2 and out["metrics"]["n"] == 144


def _ranges_of(
    values: dict[str, int], equations: list[dict[str, float]], shown: set[str]
) -> dict[str, tuple[float, float]]:
    """Min and max of every unshown variable subject to `sum(coef * var) == 0` equations and >= 0."""
    unknown = [name for name in values if name not in shown]
    index = {name: k for k, name in enumerate(unknown)}
    a_eq, b_eq = [], []
    for equation in equations:
        row = [0.0] * len(unknown)
        constant = 0.0
        for name, coefficient in equation.items():
            if name in index:
                row[index[name]] += coefficient
            else:
                constant -= coefficient * values[name]
        if any(row):
            a_eq.append(row)
            b_eq.append(constant)
    out: dict[str, tuple[float, float]] = {}
    for name, k in index.items():
        objective = np.zeros(len(unknown))
        objective[k] = 1.0
        bounds = [(0, None)] * len(unknown)
        low = linprog(objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=bounds, method="highs")
        assert low.status == 0, low.message
        out[name] = (float(low.fun), -float(high.fun) if high.status == 0 else float("inf"))
    return out


@settings(max_examples=60, deadline=None)
@given(tables, st.booleans())
def test_census_tables_leave_nothing_recoverable(counts: NDArray[np.int64], by_month: bool) -> None:
    """A point-in-time count: months add up over programs; by program and overall equal the last month."""
    rows, cols = counts.shape
    last = cols - 1
    values = {f"x{i}_{j}": int(counts[i, j]) for i in range(rows) for j in range(cols)}
    values |= {f"p{i}": int(counts[i, last]) for i in range(rows)}
    values |= {f"m{j}": int(counts[:, j].sum()) for j in range(cols)}
    values["all"] = int(counts[:, last].sum())
    equations = [{**{f"x{i}_{j}": 1.0 for i in range(rows)}, f"m{j}": -1.0} for j in range(cols)]
    equations += [{f"x{i}_{last}": 1.0, f"p{i}": -1.0} for i in range(rows)]
    equations.append({**{f"x{i}_{last}": 1.0 for i in range(rows)}, "all": -1.0})
    groups: list[dict[str, Any]] = [
        {"program_id": f"p{i}", "month": f"2024-{j + 1:02d}", "c": values[f"x{i}_{j}"], "name": f"x{i}_{j}"}
        for i in range(rows)
        for j in range(cols)
    ]
    groups += [
        {"program_id": f"p{i}", "month": None, "c": values[f"p{i}"], "name": f"p{i}"} for i in range(rows)
    ]
    if by_month:
        groups += [
            {"program_id": None, "month": f"2024-{j + 1:02d}", "c": values[f"m{j}"], "name": f"m{j}"}
            for j in range(cols)
        ]
    result = {"period": {}, "metrics": {"c": values["all"], "name": "all"}, "groups": groups}
    out = suppress_result(result, [MetricCells("c", "count", additive=False)])
    shown = {row["name"] for row in [out["metrics"], *out["groups"]] if row["c"] is not None}
    published = {row["name"] for row in [out["metrics"], *out["groups"]]}
    assert not any(is_small(values[name]) for name in shown)
    for name, (low, high) in _ranges_of(values, equations, shown).items():
        if name in published:
            assert high - low >= 1 - 1e-6, f"{name} = {values[name]} pinned to [{low}, {high}]"
