"""What the pathway pages share: charts of an episode's scores, flag words, form parsing and settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from onward.errors import ValidationError
from onward.metrics.flags import rules_from_settings
from onward.model.eventlog import EndReason, ProgramKind, ServiceCategory
from onward.model.flags import FlagRules
from onward.model.instruments import Definition, spec
from onward.model.service_codes import ServiceCode
from onward.services.caseload import CaseloadLine
from onward.services.episode_record import ServiceLine
from onward.services.episode_rows import Scores
from onward.settings import Settings
from onward.web.charts import Point, TimelineMark, TrendSpec, services_timeline, sparkline, trend_chart

#: How each flag reads on a page, most urgent first (docs/flags.md has the rules).
FLAG_LABELS: dict[str, str] = {
    "risk": "Risk",
    "deteriorating": "Deteriorating",
    "not_improving": "Not improving",
    "stuck": "Stuck",
    "exit_passed": "Exit passed",
    "measure_overdue": "Measure overdue",
    "ready_to_graduate": "Ready to graduate",
}

END_REASON_LABELS: dict[str, str] = {r.value: r.value.replace("_", " ") for r in EndReason}

#: What graduating means, in plain words, per program kind (shown to the person on /me).
GRADUATING_MEANS = (
    "Graduating means you have reached the goals you set with your clinician and no longer need this "
    "service. It is a good ending, planned together, not being sent away."
)
COMING_BACK = (
    "If things get harder after you graduate, you can come back quickly: ask your clinician or the program "
    "to refer you back. You will not have to go through the full intake again, and a returning person is "
    "offered a place before others of the same urgency."
)


def flag_rules(request: Request) -> FlagRules:
    settings: Settings = request.app.state.settings
    return rules_from_settings(settings)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def points(scores: Scores) -> list[Point]:
    return [Point(d, s) for d, s in scores.points]


@lru_cache(maxsize=8192)
def spark(scores: Scores) -> Markup:
    """The sparkline of one episode's scores. Remembered by value (a caseload page draws one per episode
    and instrument on every visit, and the scores rarely change between visits); Markup is immutable."""
    d = spec(scores.instrument)
    return sparkline(points(scores), max_score=d.max_total, label=d.short_name, caseness=d.caseness)


@lru_cache(maxsize=4096)
def trend(
    scores: Scores, *, planned_exit: date | None, plain: bool = False, today: date | None = None
) -> Markup:
    """An episode's trend chart for one instrument, remembered by value like `spark` (the episode page
    and a person's own page draw one per instrument on every visit)."""
    d = spec(scores.instrument)
    return trend_chart(
        TrendSpec(
            name=d.short_name,
            points=points(scores),
            max_score=d.max_total,
            caseness=d.caseness,
            reliable_change=d.reliable_change,
            planned_exit=planned_exit,
        ),
        plain=plain,
        today=today,
    )


def timeline(services: Sequence[ServiceLine], *, start: date, end: date) -> Markup:
    """The services chart of an episode; remembered by value like `trend`."""
    return _timeline(tuple(services), start, end)


@lru_cache(maxsize=1024)
def _timeline(services: tuple[ServiceLine, ...], start: date, end: date) -> Markup:
    marks = [
        TimelineMark(
            s.service_date,
            s.category,
            f"{s.service_date} {s.code} ({s.category.replace('_', ' ')}), {s.minutes} min",
        )
        for s in services
    ]
    return services_timeline(marks, categories=[c.value for c in ServiceCategory], start=start, end=end)


def short_name(instrument: str) -> str:
    return spec(instrument).short_name


def remembered_macro(
    request: Request, template: str, macro: str, *, size: int, globals: dict[str, Any] | None = None
) -> Callable[[Any], Markup]:
    """A macro of an autoescaping template as a function remembered by value (its one argument is
    immutable and hashable, and the HTML depends on it alone). One per app, template and macro."""
    state = request.app.state
    held: dict[tuple[str, str], Callable[[Any], Markup]] | None = getattr(state, "remembered_macros", None)
    if held is None:
        held = {}
        state.remembered_macros = held
    found = held.get((template, macro))
    if found is None:
        templates: Jinja2Templates = state.templates
        render = getattr(templates.env.get_template(template, globals=globals).module, macro)

        @lru_cache(maxsize=size)
        def remembered(value: Any) -> Markup:
            rendered = render(value)
            # The templates autoescape, so a macro returns Markup with every value in it escaped.
            if not isinstance(rendered, Markup):
                raise TypeError(f"{template} must be an autoescaping template")
            return rendered

        found = held[(template, macro)] = remembered
    return found


def caseload_row(request: Request) -> Callable[[CaseloadLine], Markup]:
    """The HTML of one caseload row, remembered by value (a line is immutable, and the row depends on it
    alone): most rows are unchanged between a clinician's visits, and rendering each again was a third
    of the caseload page's CPU under load (docs/benchmarks.md)."""
    return remembered_macro(
        request,
        "_caseload_row.html",
        "row",
        size=8192,
        globals={"flag_labels": FLAG_LABELS, "spark": spark, "short_name": short_name},
    )


@dataclass(frozen=True, slots=True)
class FormFragments:
    """Renderers of `_episode_forms.html`'s macros (see `form_fragments`)."""

    measure_fields: Callable[[Definition], Markup]
    service_code_options: Callable[[tuple[ServiceCode, ...]], Markup]


def form_fragments(request: Request) -> FormFragments:
    """The episode page's instrument items and service-code options, remembered by value (definitions
    and the catalogue are immutable, and a site's own item text gives new values): they were most of
    the page's rendering."""
    return FormFragments(
        remembered_macro(request, "_episode_forms.html", "measure_fields", size=64),
        remembered_macro(request, "_episode_forms.html", "service_code_options", size=4),
    )


def parse_day(value: str | None, field: str) -> date | None:
    """A form's ISO date (empty means "use the default"), refused naming the field when malformed."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a date", column=field, expected="YYYY-MM-DD") from None


def parse_int(value: str | None, field: str) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a whole number", column=field) from None


def program_kind_label(kind: str) -> str:
    try:
        return ProgramKind(kind).value.replace("_", " ")
    except ValueError:
        return kind
