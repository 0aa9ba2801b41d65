"""Small-cell suppression over a *linked* system of published counts (CMS cell-size suppression policy).

Published figures are not separate tables: a month adds up to its quarter and year, programs add up to
the all-programs total, a rate's numerator and the rest add up to its denominator, and a census follows
census(t) = census(t-1) + admissions(t) - discharges(t). A reader who knows the definitions can combine
every shown figure through these equations. A hidden cell is safe only if it cannot be pinned to one value
from all of them together.

The system is a set of non-negative integer variables (every published count, plus unknowns a reader
never sees) and homogeneous linear equations between them. With every hidden cell positive (zeros are
shown and never used as cover), a hidden cell h can move along a direction d (M d = 0, d = 0 on shown
cells, d_h != 0) iff its column of M is spanned by the other hidden columns; the cells with no such
direction are the *coloops* of the hidden columns' matroid (for one 2-D table: the bridges of its graph).
Suppression hides every small cell, then

1. protects each 2-D sub-table locally with the bridge algorithm of `onward.security.suppression`
   (cheap, and most of the work), repeating until no sub-table changes;
2. finds the hidden cells that are still determined by the whole system (rank test per connected group
   of hidden cells) and, for each, solves a linear program for the cheapest set of shown cells whose
   hiding gives it a direction (min sum of cost x |d| subject to M d = 0, d_h = 1), and hides them. Such
   a direction always exists (the counts themselves are one: every equation is homogeneous), hiding more
   cells never pins a hidden one, and every cell a cover hides lies on the cover's direction, so one pass
   over the pinned cells leaves none.

Pure: no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse  # type: ignore[import-untyped]
from numpy.typing import NDArray
from scipy.optimize import linprog  # type: ignore[import-untyped]
from scipy.sparse.csgraph import connected_components  # type: ignore[import-untyped]

from onward.security.suppression import SMALL_CELL_MAX, complete_table

#: A cell a reader never sees (a missing margin, or the inner cells of a census balance).
UNSEEN = -1


@dataclass(frozen=True, slots=True)
class SubTable:
    """A 2-D table over variable ids: inner cells (R x C), optional row and column totals and grand total.

    `UNSEEN` marks a margin that is not published; inner cells are either all variables or all
    `UNSEEN` (a balance: rows sum to columns through cells nobody sees).
    """

    inner: tuple[tuple[int, ...], ...]
    row_totals: tuple[int, ...] | None
    column_totals: tuple[int, ...] | None
    grand: int

    def ids(self) -> set[int]:
        out = {i for line in self.inner for i in line}
        out.update(self.row_totals or ())
        out.update(self.column_totals or ())
        out.add(self.grand)
        out.discard(UNSEEN)
        return out

    def equations(self) -> list[dict[int, float]]:
        """The linear equations the table states about its variables (each `sum(coef * x) == 0`)."""
        if all(i == UNSEEN for line in self.inner for i in line):
            # Rows and columns sum through unseen cells: only "row totals = column totals" is known.
            rows = [i for i in self.row_totals or () if i != UNSEEN]
            columns = [i for i in self.column_totals or () if i != UNSEEN]
            out: list[dict[int, float]] = []
            if rows and columns and UNSEEN not in (*(self.row_totals or ()), *(self.column_totals or ())):
                out.append(_equation(rows, columns))
            if self.grand != UNSEEN:
                for side in (self.row_totals, self.column_totals):
                    if side and UNSEEN not in side:
                        out.append(_equation(side, [self.grand]))
            return out
        out = []
        if self.row_totals is not None:
            for line, whole in zip(self.inner, self.row_totals, strict=True):
                if whole != UNSEEN:
                    out.append(_equation(line, [whole]))
        if self.column_totals is not None:
            for j, whole in enumerate(self.column_totals):
                if whole != UNSEEN:
                    out.append(_equation([line[j] for line in self.inner], [whole]))
        if self.grand != UNSEEN:
            if self.row_totals is not None and UNSEEN not in self.row_totals:
                out.append(_equation(self.row_totals, [self.grand]))
            elif self.column_totals is not None and UNSEEN not in self.column_totals:
                out.append(_equation(self.column_totals, [self.grand]))
            else:
                out.append(_equation([i for line in self.inner for i in line], [self.grand]))
        return out


def _equation(parts: Iterable[int], wholes: Iterable[int]) -> dict[int, float]:
    row: dict[int, float] = defaultdict(float)
    for i in parts:
        row[i] += 1.0
    for i in wholes:
        row[i] -= 1.0
    return {i: c for i, c in row.items() if c != 0.0}


@dataclass
class LinkedSystem:
    """Published counts and the sub-tables that tie them; build it, then call `suppress`."""

    values: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    tables: list[SubTable] = field(default_factory=list)

    def variable(self, value: int, *, cost: float = 1.0) -> int:
        """A published count; `cost` scales how reluctantly it is hidden as a complement (totals more)."""
        if value < 0:
            raise ValueError(f"counts must be non-negative, got {value}")
        self.values.append(int(value))
        self.costs.append(float(cost))
        return len(self.values) - 1

    def table(
        self,
        inner: Sequence[Sequence[int]],
        *,
        row_totals: Sequence[int] | None = None,
        column_totals: Sequence[int] | None = None,
        grand: int = UNSEEN,
    ) -> None:
        """Rows of `inner` sum to `row_totals`, columns to `column_totals`, everything to `grand`."""
        self.tables.append(
            SubTable(
                tuple(tuple(line) for line in inner),
                tuple(row_totals) if row_totals is not None else None,
                tuple(column_totals) if column_totals is not None else None,
                grand,
            )
        )

    def balance(self, left: Sequence[int], right: Sequence[int]) -> None:
        """sum(left) == sum(right), through cells nobody sees (a census: start + in = out + end)."""
        unseen = tuple(tuple(UNSEEN for _ in right) for _ in left)
        self.tables.append(SubTable(unseen, tuple(left), tuple(right), UNSEEN))

    def equations(self) -> scipy.sparse.csr_matrix:
        """Every equation of every sub-table, one row each, one column per variable."""
        rows, cols, data = [], [], []
        n = 0
        for table in self.tables:
            for equation in table.equations():
                for i, c in equation.items():
                    rows.append(n)
                    cols.append(i)
                    data.append(c)
                n += 1
        return scipy.sparse.csr_matrix((data, (rows, cols)), shape=(n, len(self.values)))

    def suppress(self, *, limit: int = SMALL_CELL_MAX) -> NDArray[np.bool_]:
        """Which variables to hide (True): every count 1-`limit` and enough others that none is pinned."""
        values = np.asarray(self.values, dtype=np.int64)
        hidden = (values > 0) & (values <= limit)
        self._protect_tables(values, hidden)
        matrix = self.equations()
        pinned = pinned_cells(matrix, hidden)
        if pinned:
            # Hiding more never pins a hidden cell (its direction stays one), and a cover puts every cell it
            # hides on the direction it found: after one pass over the pinned cells none is left.
            covers = _Covers(matrix, values, hidden, np.asarray(self.costs))
            moved: set[int] = set()  # cells already on a direction found for another one
            for h in pinned:
                if h in moved:
                    continue
                cover, direction = covers.cover(h)
                hidden[cover] = True
                moved.update(direction)
        return hidden

    def _protect_tables(self, values: NDArray[np.int64], hidden: NDArray[np.bool_]) -> None:
        """Step 1: the bridge algorithm on each sub-table holding a hidden cell, until nothing changes."""
        by_variable: dict[int, list[int]] = defaultdict(list)
        for k, table in enumerate(self.tables):
            for i in table.ids():
                by_variable[i].append(k)
        pending = sorted({k for i in np.flatnonzero(hidden) for k in by_variable.get(int(i), ())})
        queued = set(pending)
        while pending:
            k = pending.pop()
            queued.discard(k)
            for i in _protect_table(self.tables[k], values, hidden):
                for other in by_variable[i]:
                    if other not in queued:
                        queued.add(other)
                        pending.append(other)


def _protect_table(table: SubTable, values: NDArray[np.int64], hidden: NDArray[np.bool_]) -> list[int]:
    """Run the 2-D bridge algorithm on one sub-table; hide what it asks; return the newly hidden ids."""
    rows, cols = len(table.inner), len(table.inner[0]) if table.inner else 0
    ids = np.full((rows + 1, cols + 1), UNSEEN, dtype=np.int64)
    ids[:rows, :cols] = np.asarray(table.inner, dtype=np.int64).reshape(rows, cols)
    if table.row_totals is not None:
        ids[:rows, cols] = table.row_totals
    if table.column_totals is not None:
        ids[rows, :cols] = table.column_totals
    ids[rows, cols] = table.grand
    seen = ids != UNSEEN
    safe = np.where(seen, ids, 0)
    full = np.where(seen, values[safe], 0)
    if not seen[:rows, :cols].any():
        # A balance: the unseen inner cells can hold anything consistent with the margins.
        full[:rows, :cols] = 1
    mask = seen & hidden[safe]
    if not mask.any():
        return []
    before = mask.copy()
    complete_table(full, seen, mask)
    fresh = mask & ~before & seen
    out = [int(i) for i in ids[fresh]]
    hidden[out] = True
    return out


def pinned_cells(matrix: scipy.sparse.csr_matrix, hidden: NDArray[np.bool_]) -> list[int]:
    """Hidden variables whose value follows from the shown ones through the equations (rank test).

    A hidden column that is not in the span of the other hidden columns can be solved for; every other
    hidden cell lies on a direction that keeps every equation and every shown cell, so (all hidden cells
    being positive) it can move both ways.
    """
    hidden_ids = np.flatnonzero(hidden)
    if hidden_ids.size == 0:
        return []
    sub = matrix[:, hidden_ids].tocsc()
    used = np.flatnonzero(np.diff(sub.tocsr().indptr))
    sub = sub[used, :]
    # Group hidden cells that share an equation: each group is solved on its own.
    n_eq, n_var = sub.shape
    graph = scipy.sparse.bmat([[None, sub], [sub.T, None]]).tocsr()
    _, labels = connected_components(graph, directed=False)
    out: list[int] = []
    for label in np.unique(labels[n_eq:]):
        columns = np.flatnonzero(labels[n_eq:] == label)
        equations = np.flatnonzero(labels[:n_eq] == label)
        if equations.size == 0:
            continue  # no equation mentions these cells: nothing can be solved for
        dense = sub[equations][:, columns].toarray()
        out += [int(hidden_ids[columns[c]]) for c in _coloops(dense)]
    return sorted(out)


def _coloops(a: NDArray[np.float64]) -> list[int]:
    """Columns of `a` that are in every basis of its column space: the pivot columns of its reduced row
    echelon form whose row has no other entry (x_c = 0 is all the equations say about column c).

    Exact: the entries are small integers, so the elimination runs modulo a large prime (no rounding). A
    coloop over the rationals stays one modulo the prime unless the prime divides one of the matrix's
    minors, which for entries of -1, 0 and 1 and a prime near 2**31 does not happen in practice; the other
    way round the error would only hide more.
    """
    m, k = a.shape
    work = np.mod(np.rint(a).astype(np.int64), _PRIME)
    pivots: list[int] = []
    r = 0
    for c in range(k):
        below = np.flatnonzero(work[r:, c])
        if below.size == 0:
            continue
        i = r + int(below[0])
        if i != r:
            work[[r, i]] = work[[i, r]]
        work[r] = work[r] * pow(int(work[r, c]), _PRIME - 2, _PRIME) % _PRIME
        others = np.flatnonzero(work[:, c])
        others = others[others != r]
        if others.size:
            work[others] = (work[others] - work[others, c][:, None] * work[r]) % _PRIME
        pivots.append(c)
        r += 1
        if r == m:
            break
    return [c for j, c in enumerate(pivots) if np.count_nonzero(work[j]) == 1]


#: A prime below 2**31, so a product of two residues fits in int64.
_PRIME = 2_147_483_647


class _Covers:
    """Complements for pinned cells, one linear program each (see `cover`)."""

    def __init__(
        self,
        matrix: scipy.sparse.csr_matrix,
        values: NDArray[np.int64],
        hidden: NDArray[np.bool_],
        costs: NDArray[np.float64],
    ) -> None:
        self.matrix, self.values, self.hidden, self.costs = matrix, values, hidden, costs
        incidence = (matrix != 0).astype(np.int32)
        self.adjacent = (incidence.T @ incidence).tocsr()  # variables that share an equation
        self.groups = _components(matrix)

    def cover(self, h: int) -> tuple[list[int], list[int]]:
        """Shown cells to hide so that hidden cell `h` gets a direction: min sum cost |d| over shown cells,
        subject to M d = 0 and d_h = 1; shown zeros stay fixed, hidden cells move for free. Empty when `h`
        already has a direction through hidden cells.

        The LP first looks near `h` (cells reached through hidden cells and at most 2, then 4 shown ones;
        the rest stay fixed, which still gives a valid direction), then in everything tied to `h`.
        """
        for hops in (2, 4):
            found = self._solve(self._near(h, hops), h)
            if found is not None:
                return found
        found = self._solve(np.flatnonzero(self.groups == self.groups[h]), h)
        if found is None:  # cannot happen for consistent counts (the values themselves are a direction)
            raise ValueError(f"no complementary suppression exists for cell {h}: are the counts consistent?")
        return found

    def _near(self, h: int, hops: int) -> NDArray[np.int64]:
        """Variables reached from `h` through shared equations, passing at most `hops` shown variables."""
        hidden_graph = self.adjacent[self.hidden][:, self.hidden]
        _, labels = connected_components(hidden_graph, directed=False)
        hidden_ids = np.flatnonzero(self.hidden)
        label_of = np.full(len(self.values), -1)
        label_of[hidden_ids] = labels
        reached = np.zeros(len(self.values), dtype=bool)
        reached[h] = True
        for step in range(hops + 1):
            # Close over hidden cells (free to cross), then take one more shown step.
            touched = np.unique(label_of[reached & self.hidden])
            reached |= np.isin(label_of, touched[touched >= 0])
            if step == hops:
                break
            reached |= (self.adjacent @ reached.astype(np.int32)) > 0
        return np.flatnonzero(reached)

    def _solve(self, variables: NDArray[np.int64], h: int) -> tuple[list[int], list[int]] | None:
        return _cover(self.matrix, self.values, self.hidden, self.costs, variables, h)


def _cover(
    matrix: scipy.sparse.csr_matrix,
    values: NDArray[np.int64],
    hidden: NDArray[np.bool_],
    costs: NDArray[np.float64],
    variables: NDArray[np.int64],
    h: int,
) -> tuple[list[int], list[int]] | None:
    """The LP of `_Covers.cover` over `variables` (all others fixed): the shown cells to hide and the
    direction's support; None when it has no solution."""
    sub = matrix[:, variables]
    used = np.flatnonzero(np.diff(sub.tocsr().indptr))
    sub = sub[used, :]
    n = len(variables)
    local_values = values[variables]
    local_hidden = hidden[variables]
    weight = np.where(local_hidden, 0.0, costs[variables] * (1.0 + local_values))
    fixed = (local_values == 0) & ~local_hidden
    upper = np.where(fixed, 0.0, np.inf)
    position = int(np.flatnonzero(variables == h)[0])
    # d = plus - minus; cost on both halves; M (plus - minus) = 0; plus_h - minus_h = 1.
    a_eq = scipy.sparse.vstack(
        [
            scipy.sparse.hstack([sub, -sub]),
            scipy.sparse.csr_matrix(([1.0, -1.0], ([0, 0], [position, n + position])), shape=(1, 2 * n)),
        ]
    ).tocsr()
    b_eq = np.zeros(a_eq.shape[0])
    b_eq[-1] = 1.0
    bounds = list(zip(np.zeros(2 * n), np.concatenate([upper, upper]), strict=True))
    result = linprog(np.concatenate([weight, weight]), A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if result.status != 0:
        return None
    direction = result.x[:n] - result.x[n:]
    moving = np.abs(direction) > 1e-7
    return [int(i) for i in variables[moving & ~local_hidden]], [int(i) for i in variables[moving]]


def _components(matrix: scipy.sparse.csr_matrix) -> NDArray[np.int64]:
    """A label per variable: variables tied through any chain of equations share one."""
    n_eq, _ = matrix.shape
    graph = scipy.sparse.bmat([[None, matrix], [matrix.T, None]]).tocsr()
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels[n_eq:], dtype=np.int64)
