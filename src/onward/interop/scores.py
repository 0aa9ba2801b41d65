"""Imported measurements checked against their instrument, vectorised over the whole file.

A measurement's `items` (when present) must hold one score per item of its instrument, each a score
that item can take, adding up to the measurement's `score`; without items, the score must lie in the
instrument's range. The first bad row is reported with its file, row and column, as every other
extract check is (`onward.interop.validate`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from onward.interop.validate import Problem, Source
from onward.model.eventlog import Instrument
from onward.model.instruments import INSTRUMENTS

_ORDER: tuple[Instrument, ...] = tuple(Instrument)
_MAX_ITEMS = max(d.n_items for d in INSTRUMENTS.values())
_MAX_SCORE = max(max(s) for d in INSTRUMENTS.values() for s in d.item_values)


def _tables() -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per instrument (in `_ORDER`): item count, maximum total, and a bitmask of allowed scores per item."""
    n_items = np.array([INSTRUMENTS[i].n_items for i in _ORDER], dtype=np.int64)
    max_total = np.array([INSTRUMENTS[i].max_total for i in _ORDER], dtype=np.int64)
    allowed = np.zeros((len(_ORDER), _MAX_ITEMS), dtype=np.int64)
    for row, instrument in enumerate(_ORDER):
        for position, scores in enumerate(INSTRUMENTS[instrument].item_values):
            allowed[row, position] = sum(1 << s for s in scores)
    return n_items, max_total, allowed


_N_ITEMS, _MAX_TOTAL, _ALLOWED = _tables()


def _ints(array: pa.Array) -> npt.NDArray[np.int64]:
    return np.asarray(array.fill_null(0).cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _item_lists(items: pa.Array) -> tuple[pa.Array, pa.ListArray]:
    """JSON lists of whole numbers (already checked by the contract) as Arrow lists of int64, and their
    values flattened (an empty list yields one null)."""
    digits = pc.replace_substring_regex(items.fill_null("[]"), r"[\[\]\s]", "")
    parts = pc.split_pattern(digits, ",")
    flat = pc.list_flatten(parts)
    values = pc.if_else(pc.equal(flat, ""), pa.scalar(None, pa.string()), flat).cast(pa.int64())
    lists = pa.ListArray.from_arrays(parts.offsets, values)
    return pc.list_flatten(lists), lists


def score_problems(table: pa.Table) -> list[Problem]:
    """The first problem of each kind in a normalised measurements table (empty when all rows score)."""
    if table.num_rows == 0:
        return []
    instrument = table.column("instrument").combine_chunks()
    code = _ints(pc.index_in(instrument, pa.array([i.value for i in _ORDER])))
    score = _ints(table.column("score").combine_chunks())
    items = table.column("items").combine_chunks()
    has_items = np.asarray(pc.is_valid(items).to_numpy(zero_copy_only=False), dtype=bool)
    problems: list[Problem] = []

    over = score > _MAX_TOTAL[code]
    if over.any():
        i = int(np.argmax(over))
        d = INSTRUMENTS[_ORDER[code[i]]]
        problems.append(
            Problem(i, "score", f"{d.short_name} total {score[i]} is out of range", f"0..{d.max_total}")
        )
    if not has_items.any():
        return problems

    flat, lists = _item_lists(items)
    values = np.asarray(flat.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    counts = np.asarray(pc.list_value_length(lists).to_numpy(zero_copy_only=False), dtype=np.int64)
    counts = np.where(has_items, counts, 0)
    # "[]" splits into one empty element: an empty list has no scores.
    counts = np.where(has_items & _is_empty_list(items), 0, counts)
    wrong_count = has_items & (counts != _N_ITEMS[code])
    if wrong_count.any():
        i = int(np.argmax(wrong_count))
        d = INSTRUMENTS[_ORDER[code[i]]]
        problems.append(
            Problem(
                i,
                "items",
                f"{counts[i]} item scores for {d.short_name}, which has {d.n_items} items",
                f"a list of {d.n_items} item scores",
            )
        )
    offsets = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    lengths = np.diff(offsets)
    row_of = np.repeat(np.arange(table.num_rows), lengths)
    position = np.arange(values.size) - offsets[:-1][row_of]
    checkable = (has_items & ~wrong_count)[row_of]
    safe_pos = np.minimum(position, _MAX_ITEMS - 1)
    bits = _ALLOWED[code[row_of], safe_pos]
    in_span = (values >= 0) & (values <= _MAX_SCORE)
    allowed = in_span & (((bits >> np.clip(values, 0, _MAX_SCORE)) & 1) == 1)
    bad_value = checkable & ~allowed
    if bad_value.any():
        k = int(np.argmax(bad_value))
        i, d = int(row_of[k]), INSTRUMENTS[_ORDER[code[row_of[k]]]]
        n = int(position[k]) + 1
        scores = d.item_values[n - 1]
        problems.append(
            Problem(
                i,
                "items",
                f"{d.short_name} item {n} score {values[k]} is out of range",
                "one of " + ", ".join(map(str, scores)),
            )
        )
    sums = np.bincount(row_of[checkable], weights=values[checkable], minlength=table.num_rows).astype(
        np.int64
    )
    rows_ok = has_items & ~wrong_count
    if bad_value.any():
        rows_ok &= np.bincount(row_of[bad_value], minlength=table.num_rows) == 0
    mismatch = rows_ok & (sums != score)
    if mismatch.any():
        i = int(np.argmax(mismatch))
        problems.append(
            Problem(i, "score", f"{score[i]} but its item scores add up to {sums[i]}", "the sum of the items")
        )
    return problems


def _is_empty_list(items: pa.Array) -> npt.NDArray[np.bool_]:
    """Rows whose items are an empty JSON list `[]`."""
    stripped = pc.replace_substring_regex(items.fill_null("x"), r"\s", "")
    return np.asarray(pc.equal(stripped, "[]").to_numpy(zero_copy_only=False), dtype=bool)


def check_scores(table: pa.Table, source: Source) -> None:
    """Raise the ValidationError of the first measurement whose items or score do not fit its instrument."""
    problems = score_problems(table)
    if problems:
        first = min(problems, key=lambda p: (p.index, p.column != "items"))
        raise source.error(first)
