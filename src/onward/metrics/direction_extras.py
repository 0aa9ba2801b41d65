"""The direction numbers published on their own pages (`onward.model.own_page_metrics`), read from the
live database: prevention coverage (skills lessons delivered of those due, the calendar year to the month
end) and ideas implemented (accepted ideas decided in the period, implemented by its end), each with its
12 monthly figures and, given the targets in force, its target and status.

The small-cell rule is the one these numbers are published with (`onward.metrics.regulator.hide`): a
figure, or a month of its trend, is hidden when a count behind it is from 1 to 10; a hidden figure gets
no status and a hidden month is a gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from onward.metrics.regulator import hide
from onward.metrics.report import OwnPageLine, target_sentence
from onward.model.metric_registry import MetricDefinition
from onward.model.own_page_metrics import (
    OWN_PAGE_METRICS,
    OWN_PAGES,
    MonthShare,
    monthly_shares,
    months_ending,
)
from onward.model.targets import Status, Targets, TargetView, format_value, status


@dataclass(frozen=True, slots=True)
class ExtraFigure:
    """One direction number published on its own page, for the system."""

    definition: MetricDefinition
    numerator: int
    denominator: int
    basis: str  # what it counts, over which period
    start: date
    end: date  # the figure's period (and the day it is read as of)
    link: str  # its own page, with the period where the page takes one
    months: list[MonthShare] = field(default_factory=list)  # the 12-month trend, oldest first

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def hidden(self) -> bool:
        return hide(self.numerator, self.denominator)

    @property
    def value(self) -> float | None:
        return None if self.hidden or not self.denominator else self.numerator / self.denominator

    @property
    def figure(self) -> str:
        """The figure as text: never a hidden one's value."""
        if self.hidden:
            return "suppressed"
        value = self.value
        return "no data" if value is None else format_value(self.definition, value)

    def month_hidden(self, month: MonthShare) -> bool:
        return hide(month.numerator, month.denominator)

    def trend_rows(self) -> list[dict[str, Any]]:
        """The months as published rows (`{"month", key, "suppressed"}`): a hidden month holds no value."""
        rows = []
        for m in self.months:
            hidden = self.month_hidden(m)
            rows.append(
                {
                    "month": m.label,
                    self.key: None if hidden else m.value,
                    "suppressed": [self.key] if hidden else [],
                }
            )
        return rows

    def month_texts(self) -> list[tuple[str, str]]:
        """(YYYY-MM, the month's figure as text): "suppressed" for a hidden month, "no data" for none."""
        out = []
        for m in self.months:
            value = m.value
            if self.month_hidden(m):
                out.append((m.label, "suppressed"))
            else:
                out.append((m.label, "no data" if value is None else format_value(self.definition, value)))
        return out

    def trend_text(self) -> str:
        """Every month in words (for screen readers)."""
        return "; ".join(f"{label} {shown}" for label, shown in self.month_texts())

    def against(self, targets: Targets | None) -> tuple[TargetView | None, Status]:
        """The system's target in force and the figure's status against it (the rule of STATUS_RULE)."""
        target = None if targets is None else targets.system(self.key)
        return target, status(
            self.definition,
            self.value,
            None if target is None else target.value,
            margin=None if target is None else target.margin,
            numerator=None if self.hidden else float(self.numerator),
            denominator=None if self.hidden else float(self.denominator),
            hidden=self.hidden,
        )

    def to_json(self, targets: Targets | None) -> dict[str, Any]:
        target, state = self.against(targets)
        return {
            "metric": self.key,
            "title": self.definition.title,
            "purpose": self.definition.purpose,
            "good": self.definition.good,
            "program_id": None,
            "value": self.value,
            "suppressed": self.hidden,
            "period": {"from": self.start.isoformat(), "to": self.end.isoformat(), "basis": self.basis},
            "target": target.to_json() if target else None,
            "status": state.key,
            "status_words": state.words,
            "explanation": state.explanation,
        }


def report_line(figure: ExtraFigure, targets: Targets | None) -> OwnPageLine:
    """The figure as `onward report` prints it, with its target and status."""
    if targets is None:
        text = "Targets: none read (targets are kept in the database)."
    else:
        target, state = figure.against(targets)
        text = "No target." if target is None else target_sentence(target, state)
    return OwnPageLine(figure.key, figure.definition.title, figure.figure, figure.basis, text)


def _rows(url: str, statement: Any) -> list[Any]:
    from onward.store.engine import create_db_engine

    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(statement))
    finally:
        engine.dispose()


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _tally(url: str, statement: Any, window: list[date], as_of: date) -> list[MonthShare]:
    """Monthly shares from rows of (the day an item was due or decided, the day it was done): done
    counts only when done by `as_of`."""
    pairs = []
    for day, done_on in _rows(url, statement):
        done = _day(done_on)
        pairs.append((_day(day) or as_of, done is not None and done <= as_of))
    return monthly_shares(pairs, window)


def skills_coverage(url: str, as_of: date, *, trend: bool = True) -> ExtraFigure:
    """Lessons delivered of lessons due, 1 January of the as_of year to `as_of` (as the skills metrics
    count them); the trend: lessons planned in each of the 12 months to `as_of`, delivered by `as_of`."""
    from sqlalchemy import and_, column, select, table

    from onward.metrics.backends import open_event_log
    from onward.metrics.period import Period
    from onward.metrics.skills import compute_skills_metrics

    start = date(as_of.year, 1, 1)
    found = compute_skills_metrics(
        open_event_log(db=url), period=Period(start, as_of, as_of), db=url
    ).overall["skills_coverage"]
    months: list[MonthShare] = []
    if trend:
        window = months_ending(as_of)
        sessions, cohorts = (
            table("skills_sessions", column("cohort_id"), column("planned_on"), column("delivered_on")),
            table("cohorts", column("cohort_id")),
        )
        statement = (
            select(sessions.c.planned_on, sessions.c.delivered_on)
            .select_from(sessions.join(cohorts, sessions.c.cohort_id == cohorts.c.cohort_id))
            .where(and_(sessions.c.planned_on >= window[0], sessions.c.planned_on <= as_of))
        )
        months = _tally(url, statement, window, as_of)
    denominator = int(found.denominator or 0)
    return ExtraFigure(
        OWN_PAGE_METRICS["skills_coverage"],
        int(found.numerator),
        denominator,
        f"lessons delivered of lessons due, {as_of.year} to {as_of}"
        + ("" if hide(found.numerator, denominator) or not denominator else f" ({denominator:,} due)"),
        start,
        as_of,
        OWN_PAGES["skills_coverage"],
        months,
    )


def ideas_implemented(
    url: str, start: date, end: date, title: str, *, as_of: date | None = None, trend: bool = True
) -> ExtraFigure | None:
    """Accepted ideas decided in [start, end], implemented by `end` (the voice metrics); the trend: ideas
    accepted in each of the 12 months to `as_of` (default `end`), implemented by `as_of`. None for an
    installation without the voice metrics."""
    try:
        from onward.metrics.voice import voice_metrics_of_database
    except ImportError:  # an installation without voice
        return None
    from sqlalchemy import and_, column, select, table

    figure = voice_metrics_of_database(url, start, end).figures["voice_share_implemented"]
    read_as_of = as_of or end
    months: list[MonthShare] = []
    if trend:
        window = months_ending(read_as_of)
        ideas = table("voice_ideas", column("status"), column("decided_on"), column("implemented_on"))
        statement = select(ideas.c.decided_on, ideas.c.implemented_on).where(
            and_(
                ideas.c.decided_on.is_not(None),
                ideas.c.decided_on >= window[0],
                ideas.c.decided_on <= read_as_of,
                ideas.c.status != "declined",
            )
        )
        months = _tally(url, statement, window, read_as_of)
    return ExtraFigure(
        OWN_PAGE_METRICS["voice_share_implemented"],
        int(figure.numerator),
        int(figure.denominator or 0),
        f"accepted ideas decided in {title}, implemented by {end}",
        start,
        end,
        f"{OWN_PAGES['voice_share_implemented']}?from={start}&to={end}",
        months,
    )


def own_page_figures(url: str, period: dict[str, Any], *, trend: bool = True) -> list[ExtraFigure]:
    """Both numbers for a published period (`{"from", "to", "as_of", "title"}`): prevention coverage for
    the calendar year to `as_of`, ideas implemented for the period; trends to `as_of`."""
    as_of = date.fromisoformat(str(period["as_of"]))
    start, end = date.fromisoformat(str(period["from"])), date.fromisoformat(str(period["to"]))
    out = [skills_coverage(url, as_of, trend=trend)]
    voice = ideas_implemented(url, start, end, str(period["title"]), as_of=as_of, trend=trend)
    if voice is not None:
        out.append(voice)
    return out
