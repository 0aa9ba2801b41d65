from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from onward.model.eventlog import EVENT_LOG
from onward.store.engine import create_db_engine

RowCounts = Callable[[str], dict[str, int]]


def _row_counts(url: str) -> dict[str, int]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return {
                t.name: connection.execute(text(f"SELECT count(*) FROM {t.name}")).scalar_one()
                for t in EVENT_LOG
            }
    finally:
        engine.dispose()


@pytest.fixture
def row_counts() -> RowCounts:
    """Rows per event-log table of the database at a URL."""
    return _row_counts
