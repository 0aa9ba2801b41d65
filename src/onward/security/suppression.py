"""Small-cell suppression for published tables (CMS cell-size suppression policy).

Primary suppression hides every count from 1 to 10; complementary suppression then hides just enough other
cells that no hidden one can be derived from what is shown (row/column totals, complementary cells, rates).
Source: the CMS cell size suppression policy (docs/references.md, "Privacy and security"): no cell of 1 to
10 is shown, nor one from which such a cell could be derived. Pure: no I/O.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

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
    _complete(full, published, hidden)
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


def _complete(full: NDArray[np.int64], published: NDArray[np.bool_], hidden: NDArray[np.bool_]) -> None:
    """Complementary suppression, in place: hide cheapest cycles until no hidden cell is a bridge."""
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


# --- metric results -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MetricCells:
    """How one metric is suppressed: its kind and, for rates/ratios/days, the counts it is built from.

    `counts` names the count columns (present in the result rows) whose smallness makes this value
    disclosive: a rate's numerator and denominator, a median's number of episodes. `additive` says whether
    the counts add up over months (admissions do; a census at a date does not).
    """

    key: str
    kind: Literal["count", "rate", "ratio", "days"]
    counts: tuple[str, ...] = ()
    additive: bool = True


def suppress_result(
    result: Mapping[str, Any],
    cells: Iterable[MetricCells],
    *,
    limit: int = SMALL_CELL_MAX,
    row_key: str = "program_id",
    column_key: str = "month",
) -> dict[str, Any]:
    """Suppress a metrics result `{"period", "metrics", "groups": [...]}` for publication.

    Each count (a count metric, or a numerator/denominator named in `cells`) is laid out as a program x month
    table whose totals are the groups without a month (by program), without a program (by month) and the
    period's "metrics"; the table is suppressed as a whole; then every metric built on a hidden count is
    hidden. A hidden value becomes None and its key is listed under "suppressed" in the same object, so UIs
    show "–" and tell it apart from a null rate with an empty denominator.
    """
    specs = list(cells)
    overall: dict[str, Any] = dict(result.get("metrics", {}))
    groups: list[dict[str, Any]] = [dict(g) for g in result.get("groups", [])]
    rows = sorted({g.get(row_key) for g in groups if g.get(row_key) is not None}, key=str)
    columns = sorted({g.get(column_key) for g in groups if g.get(column_key) is not None}, key=str)
    targets: list[dict[str, Any]] = [overall, *groups]
    hidden: list[set[str]] = [set() for _ in targets]

    count_keys: dict[str, bool] = {}
    for spec in specs:
        if spec.kind == "count":
            count_keys[spec.key] = count_keys.get(spec.key, True) and spec.additive
        for name in spec.counts:
            count_keys[name] = count_keys.get(name, True) and spec.additive
    for name, additive in count_keys.items():
        for index in _hidden_count_cells(targets, name, rows, columns, row_key, column_key, additive, limit):
            hidden[index].add(name)
    for spec in specs:
        for index in range(len(targets)):
            # A rate over a hidden numerator or denominator is hidden too: with the other count shown,
            # it would give the hidden one back (rate x denominator = numerator).
            if any(name in hidden[index] for name in spec.counts):
                hidden[index].add(spec.key)
    for index, target in enumerate(targets):
        names = {name for name in hidden[index] if name in target}
        for name in names:
            target[name] = None
        if names:
            target[SUPPRESSED] = sorted(set(target.get(SUPPRESSED, [])) | names)
    out = dict(result)
    out["metrics"] = overall
    out["groups"] = groups
    out["suppression"] = {"rule": f"CMS cell-size suppression: counts 1-{limit} and derivable cells hidden"}
    return out


def _hidden_count_cells(
    targets: Sequence[Mapping[str, Any]],
    name: str,
    rows: Sequence[Any],
    columns: Sequence[Any],
    row_key: str,
    column_key: str,
    additive: bool,
    limit: int,
) -> list[int]:
    """Indexes (into `targets`; 0 is the period total) of the cells of count `name` to hide."""
    position: dict[tuple[Any, Any], int] = {}
    for index, target in enumerate(targets[1:], start=1):
        position[(target.get(row_key), target.get(column_key))] = index
    two_way = bool(rows) and bool(columns)
    row_axis: list[Any] = list(rows) if rows else [None]
    col_axis: list[Any] = list(columns) if columns else [None]
    # The inner cells, and which published groups are their totals (None: not published).
    inner_at = [[position.get((r, c)) for c in col_axis] for r in row_axis]
    if two_way:
        row_total_at = [position.get((r, None)) for r in row_axis]
        col_total_at = [position.get((None, c)) for c in col_axis]
    else:
        row_total_at = [0] if not rows else [None] * len(row_axis)
        col_total_at = [0] if not columns else [None] * len(col_axis)
    if not additive:  # a census at a date adds up over programs, not over months
        row_total_at = [None] * len(row_axis)
    has_rows = all(k is not None for k in row_total_at)
    has_columns = all(k is not None for k in col_total_at)
    margins: Margins = (
        "both" if has_rows and has_columns else "rows" if has_rows else "columns" if has_columns else "none"
    )
    inner = np.array(
        [[_count(targets[k].get(name)) if k is not None else 0 for k in line] for line in inner_at],
        dtype=np.int64,
    ).reshape(len(row_axis), len(col_axis))
    # The period's figure is the sum of every cell for an additive count, so it is the table's grand total.
    mask = suppress_counts(inner, margins=margins, grand_total=additive, limit=limit)
    if not additive and not has_columns:
        # A census for the period is the programs' census in the last month: that column has a total.
        last_column = suppress_counts(inner[:, -1:], margins="columns", limit=limit)
        mask.cells[:, -1] |= last_column.cells[:, 0]
    out: set[int] = set()
    for i, line in enumerate(inner_at):
        for j, k in enumerate(line):
            if k is not None and mask.cells[i, j]:
                out.add(k)
    for flags, at in ((mask.row_totals, row_total_at), (mask.column_totals, col_total_at)):
        if flags is not None:
            out.update(k for k, flag in zip(at, flags, strict=True) if flag and k is not None)
    grand = 0 if two_way or not additive else None
    if additive and mask.grand_total:
        out.add(0)
    if not additive:
        # The census of the whole period is the census of the last month (summed over programs), and a
        # program's census over the period is its last month's: each pair has one value, hidden together.
        last = len(col_axis) - 1
        tied: list[tuple[int | None, list[int | None]]] = [
            (
                grand,
                [col_total_at[last]] if has_columns else [inner_at[i][last] for i in range(len(row_axis))],
            )
        ]
        if two_way:
            tied += [(position.get((r, None)), [inner_at[i][last]]) for i, r in enumerate(row_axis)]
        for whole, parts in tied:
            if whole is None:
                continue
            if is_small(_count(targets[whole].get(name)), limit) or any(
                p in out for p in parts if p is not None
            ):
                out.add(whole)
                if len(parts) == 1 and parts[0] is not None:
                    out.add(parts[0])
    elif is_small(_count(targets[0].get(name)), limit):
        out.add(0)
    return sorted(out)


def _count(value: Any) -> int:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    return int(value)
