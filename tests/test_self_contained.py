"""The project cites its own docs/, never a file outside the repository (the design brief or its notes).

Users, reviewers and newcomers only have the repository: a citation of a brief they cannot open is a dead
end. Facts with a public source belong in docs/references.md; definitions in the docs page of their area.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SCANNED = ("src", "docs", "tests", "benchmarks", "README.md", "CHANGES.md", "Makefile", "pyproject.toml")
SUFFIXES = {".py", ".md", ".toml", ".html", ".txt", ".ini", ".cfg", ".mako", ".js", ".css", ".json", ""}
OUTSIDE = re.compile(r"\bDESIGN\b|REFERENCES\.md|\bSTYLE\.md|\.\./shared/|/work/shared")
FIX = (
    "cite the project's own docs instead: a public fact and its source go in docs/references.md, "
    "a metric's definition in docs/metrics.md, the event log in docs/extracts.md, the simulator in "
    "docs/simulation.md, roles and pages in docs/web.md"
)


def _files() -> list[Path]:
    found: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        found += [p for p in candidates if p.suffix in SUFFIXES and "__pycache__" not in p.parts]
    return [p for p in found if p.resolve() != Path(__file__).resolve()]


def test_the_scan_covers_the_code_and_the_docs() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _files()}
    assert "README.md" in names and "docs/references.md" in names
    assert "src/onward/model/metric_registry.py" in names and "src/onward/sim/data/parameters.toml" in names


@pytest.mark.parametrize("pattern", ["DESIGN section 5", "see REFERENCES.md", "../shared/DESIGN.md §8"])
def test_the_pattern_catches_outside_citations(pattern: str) -> None:
    assert OUTSIDE.search(pattern)


def test_nothing_cites_a_file_outside_the_repository() -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _files()
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not hits, f"{len(hits)} citation(s) of files outside the repository; {FIX}:\n" + "\n".join(hits)
