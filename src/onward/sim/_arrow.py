"""Small vectorised helpers that turn NumPy arrays into contract-typed Arrow columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    """Days since 1970-01-01 (Arrow's date32 unit)."""
    return (d - EPOCH).days


def ids(prefix: str, n: int, width: int) -> pa.Array:
    """Deterministic string ids PREFIX000…1 … PREFIX…n."""
    numbers = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(pa.scalar(prefix), pc.utf8_lpad(numbers, width, "0"), "")


def dates(days: npt.NDArray[Any], null: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """A date32 column from day numbers (optionally with nulls where `null` is true)."""
    return pa.array(days.astype(np.int32), type=pa.int32(), mask=null).cast(pa.date32())


def take(values: pa.Array, index: npt.NDArray[Any], null: npt.NDArray[np.bool_] | None = None) -> pa.Array:
    """values[index] as Arrow, with nulls where `null` is true."""
    if null is None or not null.any():
        return values.take(pa.array(index.astype(np.int64)))
    return values.take(pa.array(index.astype(np.int64), mask=null))  # a null index takes a null


def json_digit_lists(items: npt.NDArray[Any]) -> pa.Array:
    """JSON text lists ("[1, 0, 3]") from a (rows, k) matrix of single-digit item scores."""
    m, k = items.shape
    width = 3 * k
    buf = np.full((m, width), ord(" "), dtype=np.uint8)
    buf[:, 0], buf[:, -1] = ord("["), ord("]")
    buf[:, 1 : width - 1 : 3] = items.astype(np.uint8) + ord("0")
    buf[:, 2 : width - 1 : 3] = ord(",")
    # One string array straight from the buffers (no per-row Python objects, never chunked).
    large = m * width >= 2**31 - 1
    offsets = np.arange(m + 1, dtype=np.int64 if large else np.int32) * width
    kind = pa.large_string() if large else pa.string()
    return pa.Array.from_buffers(kind, m, [None, pa.py_buffer(offsets), pa.py_buffer(buf)])


def labels(choices: list[str] | tuple[str, ...], codes: npt.NDArray[Any]) -> pa.Array:
    """Text values from small integer codes into `choices`."""
    return pa.array(np.asarray(choices, dtype=object)[codes], type=pa.string())


@dataclass(frozen=True, slots=True)
class Calendar:
    """Step index → day number: step t covers days [start(t), start(t + 1))."""

    day0: int
    days_per_step: float
    n_steps: int

    def start(self, step: npt.NDArray[Any] | int) -> npt.NDArray[np.int64]:
        return self.day0 + np.floor(np.asarray(step) * self.days_per_step).astype(np.int64)

    @property
    def end(self) -> int:
        """First day after the recorded run (exclusive)."""
        return int(self.start(self.n_steps))

    def within(self, step: npt.NDArray[Any], u: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """A day inside each step, at fraction u of it."""
        lo, hi = self.start(step), self.start(np.asarray(step) + 1)
        return lo + np.floor(u * (hi - lo)).astype(np.int64)


def weekday(days: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Day of the week of day numbers: 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday)."""
    out: npt.NDArray[np.int64] = (np.asarray(days, dtype=np.int64) + 3) % 7
    return out


def on_weekdays(
    days: npt.NDArray[Any],
    lo: npt.NDArray[Any] | int,
    hi: npt.NDArray[Any] | int,
    move: npt.NDArray[np.bool_],
) -> npt.NDArray[np.int64]:
    """Where `move`, a Saturday or Sunday becomes a weekday of the next week (Monday to Friday, in turn
    by day number, so weekdays stay evenly used), or the Friday before when that falls after `hi`; a
    day that cannot move within [lo, hi] stays."""
    days = np.asarray(days, dtype=np.int64)
    wd = weekday(days)
    later = days + (7 - wd) + (days // 7) % 5  # Monday … Friday of the next week
    friday = days - np.where(wd == 5, 1, 2)
    weekend = move & (wd >= 5)
    target = np.where(later <= hi, later, np.where(friday >= lo, friday, days))
    out: npt.NDArray[np.int64] = np.where(weekend, target, days)
    return out
