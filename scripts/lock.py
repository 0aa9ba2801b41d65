"""Keep requirements/*.lock true to pyproject.toml: `stamp` after `make lock`, `check` before installing.

pyproject.toml holds lower bounds (what Onward supports); the lock files hold the exact versions, with
hashes, that the tests ran on (what `make` installs). Each lock carries a fingerprint of the dependency
tables it was resolved from, so a dependency added, removed or re-bounded in pyproject.toml without
`make lock` fails the install and CI with a message that says so. Standard library only: it runs before
anything is installed.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "# pyproject-fingerprint: "
#: Each lock file and the optional-dependency groups ("extras") it was resolved with.
LOCKS: dict[str, tuple[str, ...]] = {
    "requirements/base.lock": (),
    "requirements/dev.lock": ("dev", "spark"),
}
FIX = "run `make lock` (needs network; resolves with uv) and commit requirements/*.lock"


def fingerprint(extras: tuple[str, ...], pyproject: Path = ROOT / "pyproject.toml") -> str:
    """SHA-256 of what the lock was resolved from: Python range, dependencies, the given extras."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    optional = project.get("optional-dependencies", {})
    inputs = {
        "requires-python": project.get("requires-python", ""),
        "dependencies": sorted(project.get("dependencies", [])),
        "extras": {name: sorted(optional.get(name, [])) for name in extras},
        "tools": _requirements(ROOT / "requirements" / "tools.in"),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _requirements(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return sorted(line for line in lines if line)


def recorded(lock: Path) -> str | None:
    """The fingerprint a lock file was stamped with, if any."""
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line.startswith(MARK):
            return line[len(MARK) :].strip()
    return None


def stamp() -> None:
    for name, extras in LOCKS.items():
        lock = ROOT / name
        lines = [line for line in lock.read_text(encoding="utf-8").splitlines() if not line.startswith(MARK)]
        lock.write_text("\n".join([MARK + fingerprint(extras), *lines]) + "\n", encoding="utf-8")


def problems(names: list[str]) -> list[str]:
    found = []
    for name in names or list(LOCKS):
        lock = ROOT / name
        if not lock.exists():
            found.append(f"{name} is missing: {FIX}")
        elif recorded(lock) != fingerprint(LOCKS[name]):
            found.append(f"{name} is stale against pyproject.toml (its dependencies changed): {FIX}")
    return found


def main(argv: list[str]) -> int:
    if argv[:1] == ["stamp"]:
        stamp()
        return 0
    if argv[:1] == ["check"]:
        found = problems(argv[1:])
        for problem in found:
            print(problem, file=sys.stderr)
        return 1 if found else 0
    print("usage: python scripts/lock.py check [LOCK...] | stamp", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
