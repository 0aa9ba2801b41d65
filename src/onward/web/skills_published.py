"""The skills metrics as published on the coverage page: one calendar year, per program, suppressed.

Published figures answer only on a calendar year (the year of the latest event, up to it), so two
answers never subtract to a smaller period; every count from 1 to 10 is hidden, and so is any cell from
which a hidden one could be worked out (CMS cell-size suppression, `onward.security.suppression`): each
rate is published as its numerator and the rest of its denominator per program, with totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from onward.metrics.backends import open_event_log
from onward.metrics.period import Period
from onward.metrics.skills import SKILLS_METRICS, SkillsMetrics, compute_skills_metrics
from onward.security.suppression import suppress_counts


@dataclass(frozen=True, slots=True)
class PublishedCell:
    numerator: int | None  # None: suppressed
    denominator: int | None
    value: float | int | None
    suppressed: bool


@dataclass(frozen=True, slots=True)
class PublishedSkills:
    year: int
    data_end: date
    metrics: dict[str, str]  # key -> definition
    programs: list[str]
    cells: dict[str, dict[str, PublishedCell]]  # key -> program id (or "all") -> cell


def _suppressed(metrics: SkillsMetrics, key: str, programs: list[str]) -> dict[str, PublishedCell]:
    figures = [metrics.by_program[p][key] for p in programs]
    rate = figures[0].denominator is not None if figures else False
    if rate:
        counts = np.array(
            [[f.numerator, (f.denominator or 0) - f.numerator] for f in figures], dtype=np.int64
        )
    else:
        counts = np.array([[f.numerator] for f in figures], dtype=np.int64)
    mask = suppress_counts(counts.reshape(len(programs), -1), margins="both" if rate else "columns")
    out = {}
    for i, (program, figure) in enumerate(zip(programs, figures, strict=True)):
        hidden = bool(mask.cells[i].any()) or bool(
            rate and mask.row_totals is not None and mask.row_totals[i]
        )
        out[program] = PublishedCell(
            None if hidden else figure.numerator,
            None if hidden else figure.denominator,
            None if hidden else figure.value,
            hidden,
        )
    overall = metrics.overall[key]
    total_hidden = bool(mask.grand_total) or (
        mask.column_totals is not None and bool(mask.column_totals.any())
    )
    out["all"] = PublishedCell(
        None if total_hidden else overall.numerator,
        None if total_hidden else overall.denominator,
        None if total_hidden else overall.value,
        total_hidden,
    )
    return out


def published_skills(url: str) -> PublishedSkills:
    """The calendar year of the latest event, up to it, per program and overall, suppressed."""
    log = open_event_log(db=url)
    latest = compute_skills_metrics(log, period=Period(), db=url).data_end
    metrics = compute_skills_metrics(log, period=Period(start=date(latest.year, 1, 1), end=latest), db=url)
    programs = list(metrics.by_program)
    cells = {key: _suppressed(metrics, key, programs) for key in SKILLS_METRICS} if programs else {}
    return PublishedSkills(latest.year, metrics.data_end, SKILLS_METRICS, programs, cells)
