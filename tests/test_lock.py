"""The lock files pin what pyproject.toml asks for, and are stamped from its current dependency tables."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).parents[1]


def _lock_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_script", ROOT / "scripts" / "lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _pinned(lock: Path) -> set[str]:
    return {
        _name(line)
        for line in lock.read_text(encoding="utf-8").splitlines()
        if re.match(r"[A-Za-z0-9]", line)
    }


def test_the_locks_are_current() -> None:
    problems = _lock_script().problems([])
    assert not problems, "\n".join(problems)


def test_each_lock_pins_every_requirement_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for name, extras in _lock_script().LOCKS.items():
        lock = ROOT / name
        wanted = {_name(r) for r in project["dependencies"]}
        wanted |= {_name(r) for extra in extras for r in project["optional-dependencies"][extra]}
        missing = wanted - _pinned(lock)
        assert not missing, f"{name} lacks {sorted(missing)}: run `make lock`"
        text = lock.read_text(encoding="utf-8")
        assert text.count("==") <= text.count("--hash=sha256:"), f"{name}: every pin carries its hashes"


def test_a_changed_dependency_makes_the_lock_stale(tmp_path: Path) -> None:
    script = _lock_script()
    pyproject = tmp_path / "pyproject.toml"
    original = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pyproject.write_text(original, encoding="utf-8")
    before = script.fingerprint(("dev",), pyproject)
    pyproject.write_text(original.replace('"alembic>=1.13"', '"alembic>=1.14"'), encoding="utf-8")
    assert script.fingerprint(("dev",), pyproject) != before
