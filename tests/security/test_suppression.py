from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.optimize import linprog  # type: ignore[import-untyped]

from onward.security.suppression import (
    Margins,
    is_small,
    recoverable_cells,
    suppress_counts,
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


def test_a_table_shown_with_only_its_overall_total_hides_two_cells() -> None:
    mask = suppress_counts(np.array([[4, 30], [50, 60]]), margins="none", grand_total=True)
    assert mask.cells.sum() == 2 and mask.cells[0, 0]  # 144 - (30 + 50 + 60) would give the 4 back
