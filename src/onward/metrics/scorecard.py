"""Figures beside their targets: one line per metric and scope, with the status read as words.

Pure: it reads published rows (overall, per program; already suppressed) and the targets in force
(`onward.model.targets.Targets`), so the web, the API and the reports build the same lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from onward.metrics.registry import METRICS, MetricDefinition
from onward.model.targets import Status, Targets, TargetView, format_value, status_in_row


@dataclass(frozen=True, slots=True)
class Line:
    """One figure of one scope (program_id None: the system) against its target in force."""

    definition: MetricDefinition
    program_id: str | None
    row: Mapping[str, Any]
    target: TargetView | None
    status: Status

    @property
    def hidden(self) -> bool:
        return self.definition.key in (self.row.get("suppressed") or ())

    @property
    def figure(self) -> str:
        """The figure as text: never a hidden cell's value."""
        value = self.row.get(self.definition.key)
        if self.hidden:
            return "suppressed"
        if value is None:
            return "no data"
        return format_value(self.definition, float(value))

    def to_json(self) -> dict[str, Any]:
        value = None if self.hidden else self.row.get(self.definition.key)
        return {
            "metric": self.definition.key,
            "title": self.definition.title,
            "purpose": self.definition.purpose,
            "good": self.definition.good,
            "program_id": self.program_id,
            "value": value,
            "suppressed": self.hidden,
            "target": self.target.to_json() if self.target else None,
            "status": self.status.key,
            "status_words": self.status.words,
            "explanation": self.status.explanation,
        }


def line(key: str, row: Mapping[str, Any], targets: Targets, program_id: str | None = None) -> Line:
    """The line of metric `key` in `row` (a program's row when `program_id` is given)."""
    definition = METRICS[key]
    target = targets.system(key) if program_id is None else targets.for_program(key, program_id)
    state = status_in_row(
        definition,
        dict(row),
        None if target is None else target.value,
        None if target is None else target.margin,
    )
    return Line(definition, program_id, row, target, state)


def lines(
    keys: Iterable[str],
    overall: Mapping[str, Any] | None,
    by_program: Iterable[Mapping[str, Any]],
    targets: Targets,
    *,
    programs: Iterable[str] | None = None,
) -> list[Line]:
    """System lines (when `overall` is given) then program lines (for `programs`, default every row)."""
    wanted = None if programs is None else set(programs)
    out: list[Line] = []
    keys = list(keys)
    if overall is not None:
        out += [line(k, overall, targets) for k in keys]
    for row in by_program:
        program = str(row.get("program_id"))
        if wanted is not None and program not in wanted:
            continue
        out += [line(k, row, targets, program) for k in keys]
    return out
