"""Fixtures for the metric tests; the row builders live in metrics_helpers.py (importable by name)."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from metrics_helpers import LogFactory, write_log  # noqa: E402


@pytest.fixture
def make_log(tmp_path: Path) -> LogFactory:
    """`make_log(episodes=[...], services=[...], ...)` writes a new extract folder and returns its path."""
    counter = itertools.count()

    def build(**tables: Any) -> Path:
        return write_log(tmp_path / f"log{next(counter)}", **tables)

    return build
