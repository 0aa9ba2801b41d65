"""A serving worker's heap settling (`onward.web.heap`): garbage is collected first, what is left is
frozen out of the collector's full passes, and frozen objects are still freed by reference counting."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from onward.web import heap


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_settle_collects_cycles_before_freezing_what_is_left() -> None:
    gc.unfreeze()
    a, b = _Node(), _Node()
    a.other, b.other = b, a  # a cycle: only the collector can free it
    garbage = weakref.ref(a)
    del a, b
    kept = _Node()
    heap.settle()
    assert garbage() is None  # collected, not frozen for ever
    assert gc.get_freeze_count() > 0
    # What is left is in the permanent generation, which the collector's passes (and get_objects) skip.
    assert not any(o is kept for o in gc.get_objects())
    gc.unfreeze()
    assert any(o is kept for o in gc.get_objects())


def test_a_frozen_object_is_still_freed_when_its_last_reference_goes() -> None:
    gone = _Node()
    ref = weakref.ref(gone)
    heap.settle()
    del gone
    assert ref() is None
