"""What the pathway pages share: charts of an episode's scores, flag words, form parsing and settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

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


def caseload_row(request: Request) -> Callable[[CaseloadLine], Markup]:
    """The HTML of one caseload row, remembered by value (a line is immutable, and the row depends on it
    alone): most rows are unchanged between a clinician's visits, and rendering each again was a third
    of the caseload page's CPU under load (docs/benchmarks.md). One renderer per app."""
    state = request.app.state
    found: Callable[[CaseloadLine], Markup] | None = getattr(state, "caseload_row", None)
    if found is None:
        templates: Jinja2Templates = state.templates
        template = templates.env.get_template(
            "_caseload_row.html",
            globals={"flag_labels": FLAG_LABELS, "spark": spark, "short_name": short_name},
        )
        macro = template.module.row  # type: ignore[attr-defined]

        @lru_cache(maxsize=8192)
        def row(line: CaseloadLine) -> Markup:
            rendered = macro(line)
            # The templates autoescape, so a macro returns Markup with every value in it escaped.
            if not isinstance(rendered, Markup):
                raise TypeError("caseload rows must come from an autoescaping template")
            return rendered

        found = row
        state.caseload_row = found
    return found


@dataclass(frozen=True, slots=True)
class FormFragments:
    """Cached renderers of `_episode_forms.html`'s macros (see `form_fragments`)."""

    measure_fields: Callable[[Definition], Markup]
    service_code_options: Callable[[tuple[ServiceCode, ...]], Markup]


def form_fragments(request: Request) -> FormFragments:
    """The episode page's instrument items and service-code options, remembered by value (definitions
    and the catalogue are immutable, and a site's own item text gives new values): they were most of
    the page's rendering. One set per app."""
    state = request.app.state
    found: FormFragments | None = getattr(state, "episode_form_fragments", None)
    if found is None:
        templates: Jinja2Templates = state.templates
        module = templates.env.get_template("_episode_forms.html").module

        def escaped(rendered: object) -> Markup:
            if not isinstance(rendered, Markup):  # the templates autoescape: every value is escaped
                raise TypeError("form fragments must come from an autoescaping template")
            return rendered

        @lru_cache(maxsize=64)
        def measure_fields(definition: Definition) -> Markup:
            return escaped(module.measure_fields(definition))  # type: ignore[attr-defined]

        @lru_cache(maxsize=4)
        def service_code_options(codes: tuple[ServiceCode, ...]) -> Markup:
            return escaped(module.service_code_options(codes))  # type: ignore[attr-defined]

        found = FormFragments(measure_fields, service_code_options)
        state.episode_form_fragments = found
    return found


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
