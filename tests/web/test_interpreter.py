"""A serving worker's interpreter (`onward.web.interpreter`): settling its heap collects garbage first,
freezes what is left out of the collector's full passes, and frozen objects are still freed by reference
counting; a serving app hands the interpreter's lock on sooner."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from onward.settings import Settings
from onward.web import interpreter
from onward.web.app import create_app


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture(autouse=True)
def _restored() -> Iterator[None]:
    interval = sys.getswitchinterval()
    yield
    gc.unfreeze()
    sys.setswitchinterval(interval)


def test_settle_collects_cycles_before_freezing_what_is_left() -> None:
    gc.unfreeze()
    a, b = _Node(), _Node()
    a.other, b.other = b, a  # a cycle: only the collector can free it
    garbage = weakref.ref(a)
    del a, b
    kept = _Node()
    interpreter.settle()
    assert garbage() is None  # collected, not frozen for ever
    assert gc.get_freeze_count() > 0
    # What is left is in the permanent generation, which the collector's passes (and get_objects) skip.
    assert not any(o is kept for o in gc.get_objects())
    gc.unfreeze()
    assert any(o is kept for o in gc.get_objects())


def test_a_frozen_object_is_still_freed_when_its_last_reference_goes() -> None:
    gone = _Node()
    ref = weakref.ref(gone)
    interpreter.settle()
    del gone
    assert ref() is None


def test_a_serving_app_shortens_the_switch_interval_and_others_leave_it(tmp_path: Path) -> None:
    sys.setswitchinterval(0.005)
    settings = Settings(data_dir=tmp_path, environment="development")
    create_app(settings)
    assert sys.getswitchinterval() == pytest.approx(0.005)
    create_app(settings, warm_metrics=True)
    assert sys.getswitchinterval() == pytest.approx(interpreter.SWITCH_INTERVAL_SECONDS)
