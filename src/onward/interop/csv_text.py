"""Find the CSV cell that is not UTF-8 text, so a wrongly encoded extract names its row and column.

Arrow's CSV reader refuses such a file as a whole; only on that rare path is the file read again
here, record by record with Python's csv module (which knows quoted commas and line breaks).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by surrogateescape


@dataclass(frozen=True, slots=True)
class BadText:
    """Where the first undecodable bytes are: data row (1 = first), CSV line, column, and the bytes."""

    row: int
    line: int
    column: str
    shown: str


def first_non_utf8_cell(path: Path) -> BadText | None:
    """The first cell holding bytes that are not UTF-8, or None when the whole file decodes."""
    with path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        reader = csv.reader(handle)
        header: list[str] = []
        for index, record in enumerate(reader):
            if index == 0:
                header = record
            for position, cell in enumerate(record):
                if _UNDECODABLE.search(cell):
                    name = header[position] if index > 0 and position < len(header) else f"#{position + 1}"
                    raw = cell.encode("utf-8", errors="surrogateescape")
                    return BadText(row=index, line=reader.line_num, column=name, shown=repr(raw[:40]))
    return None
