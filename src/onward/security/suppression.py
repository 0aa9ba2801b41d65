"""Small-cell suppression for published tables (CMS cell-size suppression policy).

Primary suppression hides every count from 1 to 10; complementary suppression then hides just enough other
cells that no hidden one can be derived from what is shown (row/column totals, complementary cells, rates).
Source: the CMS cell size suppression policy (docs/references.md, "Privacy and security"): no cell of 1 to
10 is shown, nor one from which such a cell could be derived. Published figures tie many such tables together;
`onward.security.linked_suppression` protects them as one system with this module's tables as its parts.
Pure: no I/O.

How the 2-D case works. A table of counts with totals is an (R+1) x (C+1) array whose rows and columns each
sum to their total. Seen as a bipartite graph (one node per row and per column, the total row and the total
column included, one edge per cell), the hidden cells that can be recovered exactly from the shown ones are
exactly the *bridges* of the graph of hidden non-zero cells: a hidden cell on a cycle of hidden cells can be
shifted +t/-t around the cycle without changing any shown total, and stays non-negative for small t because
every hidden cell is positive. So the algorithm hides small cells, then, while a hidden cell is a bridge,
hides the cheapest path of shown non-zero cells that closes a cycle through it. Zeros are never used as
complementary cells: a zero can only move up, so it would protect in one direction only. A missing margin
(a table published without totals) is a hidden edge that is always there.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Largest count that may not be shown; 0 may be shown (CMS cell size suppression policy: cells 1-10).
SMALL_CELL_MAX = 10

Margins = Literal["none", "rows", "columns", "both"]

#: Key listing the suppressed values of a row, so UIs show "–" (suppressed: 1-10, or a value that would give
#: one away; only a primary cell is known to be <= 10) and never confuse a hidden value with a rate whose
#: denominator is empty (which stays a plain null).
SUPPRESSED = "suppressed"

#: Extra cost factor for hiding a total rather than an inner cell: totals are what readers look at first.
_MARGIN_COST = 2.0


def is_small(value: float | int | None, limit: int = SMALL_CELL_MAX) -> bool:
    """Primary suppression: a count from 1 to `limit` (CMS: 1-10) is hidden; 0 and null are not."""
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and 0 < value <= limit


@dataclass(frozen=True, slots=True)
class TableMask:
    """Which cells of a count table (and of its totals) are hidden; True = hidden."""

    cells: NDArray[np.bool_]
    row_totals: NDArray[np.bool_] | None
    column_totals: NDArray[np.bool_] | None
    grand_total: bool | None

    @property
    def extended(self) -> NDArray[np.bool_]:
        """The mask as one (R+1) x (C+1) array, totals in the last row and column (False where absent)."""
        rows, cols = self.cells.shape
        out = np.zeros((rows + 1, cols + 1), dtype=bool)
        out[:rows, :cols] = self.cells
        if self.row_totals is not None:
            out[:rows, cols] = self.row_totals
        if self.column_totals is not None:
            out[rows, :cols] = self.column_totals
        if self.grand_total is not None:
            out[rows, cols] = self.grand_total
        return out


def with_totals(counts: ArrayLike) -> NDArray[np.int64]:
    """The (R+1) x (C+1) array of `counts` with row totals, column totals and the grand total appended."""
    inner = _as_counts(counts)
    rows, cols = inner.shape
    out = np.zeros((rows + 1, cols + 1), dtype=np.int64)
    out[:rows, :cols] = inner
    out[:rows, cols] = inner.sum(axis=1)
    out[rows, :cols] = inner.sum(axis=0)
    out[rows, cols] = inner.sum()
    return out


def suppress_counts(
    counts: ArrayLike,
    *,
    margins: Margins = "both",
    grand_total: bool | None = None,
    limit: int = SMALL_CELL_MAX,
) -> TableMask:
    """Primary + complementary suppression of a 2-D count table published with the given totals.

    `counts` is the inner table (e.g. program x month); the totals are computed from it. "rows" publishes a
    total per row, "columns" a total per column; the grand total is published when any total is, unless
    `grand_total` says otherwise (True: a table shown with only its overall total).
    """
    inner = _as_counts(counts)
    rows, cols = inner.shape
    full = with_totals(inner)
    has_row_totals = margins in ("rows", "both")
    has_col_totals = margins in ("columns", "both")
    published = np.zeros_like(full, dtype=bool)
    published[:rows, :cols] = True
    published[:rows, cols] = has_row_totals
    published[rows, :cols] = has_col_totals
    published[rows, cols] = (has_row_totals or has_col_totals) if grand_total is None else grand_total

    hidden = published & (full > 0) & (full <= limit)
    complete_table(full, published, hidden)
    return TableMask(
        cells=hidden[:rows, :cols].copy(),
        row_totals=hidden[:rows, cols].copy() if has_row_totals else None,
        column_totals=hidden[rows, :cols].copy() if has_col_totals else None,
        grand_total=bool(hidden[rows, cols]) if bool(published[rows, cols]) else None,
    )


def recoverable_cells(full: ArrayLike, published: ArrayLike, hidden: ArrayLike) -> NDArray[np.bool_]:
    """Hidden cells of an (R+1) x (C+1) table-with-totals whose value follows exactly from the shown ones."""
    values = np.asarray(full)
    shown_at = np.asarray(published, dtype=bool)
    hidden_at = np.asarray(hidden, dtype=bool)
    free = (hidden_at & (values != 0)) | ~shown_at
    rows, cols = values.shape
    edges = [(r, rows + c) for r, c in zip(*np.nonzero(free), strict=True)]
    bridges = _bridges(rows + cols, edges)
    out = np.zeros(values.shape, dtype=bool)
    for a, b in bridges:
        r, c = a, b - rows
        if shown_at[r, c] and hidden_at[r, c]:
            out[r, c] = True
    return out


def _as_counts(counts: ArrayLike) -> NDArray[np.int64]:
    inner = np.asarray(counts)
    if inner.ndim != 2:
        raise ValueError(f"a count table must be 2-D, got shape {inner.shape}")
    if inner.size and (inner < 0).any():
        raise ValueError("counts must be non-negative")
    return inner.astype(np.int64, copy=False)


def complete_table(full: NDArray[np.int64], published: NDArray[np.bool_], hidden: NDArray[np.bool_]) -> None:
    """Complementary suppression of one (R+1) x (C+1) table-with-totals, in place: hide cheapest cycles
    until no hidden cell is a bridge. Cells not `published` are unknowns that can always move."""
    rows, cols = full.shape
    weight = np.where(published, full.astype(float), 0.0)
    weight[rows - 1, :] *= _MARGIN_COST
    weight[:, cols - 1] *= _MARGIN_COST
    weight += 1.0  # each extra hidden cell costs something, so shorter cycles win ties
    while True:
        exposed = recoverable_cells(full, published, hidden)
        if not exposed.any():
            return
        r, c = (int(i) for i in np.argwhere(exposed)[0])
        path = _cheapest_cycle_closure(full, published, hidden, weight, r, c)
        for pr, pc in path:
            hidden[pr, pc] = True


def _cheapest_cycle_closure(
    full: NDArray[np.int64],
    published: NDArray[np.bool_],
    hidden: NDArray[np.bool_],
    weight: NDArray[np.float64],
    r: int,
    c: int,
) -> list[tuple[int, int]]:
    """Shown cells to hide so that hidden cell (r, c) lies on a cycle: Dijkstra from row r to column c.

    Hidden non-zero cells and absent totals cost nothing; a shown non-zero cell costs its weight; zeros are
    not usable. Such a path always exists: a table with its totals is a circulation, so every positive cell
    lies on a cycle of positive cells.
    """
    rows, cols = full.shape
    usable = (full != 0) | ~published
    free = (hidden & (full != 0)) | ~published
    start, goal = r, rows + c
    dist: dict[int, float] = {start: 0.0}
    back: dict[int, tuple[int, int, int]] = {}  # node -> (previous node, cell row, cell col)
    queue: list[tuple[float, int]] = [(0.0, start)]
    while queue:
        d, node = heapq.heappop(queue)
        if node == goal:
            break
        if d > dist.get(node, math.inf):
            continue
        if node < rows:
            neighbours = [(node, j, rows + j) for j in range(cols)]
        else:
            j = node - rows
            neighbours = [(i, j, i) for i in range(rows)]
        for i, j, nxt in neighbours:
            if (i, j) == (r, c) or not usable[i, j]:
                continue
            step = 0.0 if free[i, j] else float(weight[i, j])
            if d + step < dist.get(nxt, math.inf):
                dist[nxt] = d + step
                back[nxt] = (node, i, j)
                heapq.heappush(queue, (d + step, nxt))
    if goal not in dist:  # cannot happen for consistent totals; fail loudly rather than publish
        raise ValueError("table totals are inconsistent: no complementary suppression exists")
    path: list[tuple[int, int]] = []
    node = goal
    while node != start:
        prev, i, j = back[node]
        if published[i, j] and not hidden[i, j]:
            path.append((i, j))
        node = prev
    return path


def _bridges(n_nodes: int, edges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Bridges of an undirected simple graph (iterative Tarjan low-link)."""
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(n_nodes)]
    for k, (a, b) in enumerate(edges):
        adjacency[a].append((b, k))
        adjacency[b].append((a, k))
    order = [-1] * n_nodes
    low = [0] * n_nodes
    counter = 0
    found: list[tuple[int, int]] = []
    for root in range(n_nodes):
        if order[root] != -1:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack: list[tuple[int, int, int]] = [
            (root, -1, 0)
        ]  # node, edge used to reach it, next adjacency index
        while stack:
            node, via, index = stack[-1]
            if index < len(adjacency[node]):
                stack[-1] = (node, via, index + 1)
                nxt, k = adjacency[node][index]
                if k == via:
                    continue
                if order[nxt] == -1:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, k, 0))
                else:
                    low[node] = min(low[node], order[nxt])
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        found.append(edges[via])
    return found
