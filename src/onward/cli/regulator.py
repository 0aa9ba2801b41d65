"""The parts of `onward report regulator` that need the services and the web layer: skills coverage
suppressed as the coverage page publishes it, the council's composition from its register, and the PDF
printed by headless Chromium. The figures from the event log and the HTML/CSV are `onward.metrics.regulator`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from onward.metrics.period import CalendarPeriod
from onward.metrics.regulator import (
    CUBE_SECTIONS,
    RegulatorReport,
    Row,
    cube_rows,
    own_page_target,
    plain,
    render_csv,
    render_html,
    voice_rows,
)
from onward.metrics.report import gather
from onward.model.targets import Targets


def skills_rows(
    url: str, period: CalendarPeriod, as_of: date, targets: Targets | None = None
) -> tuple[list[Row], str]:
    from onward.metrics.backends import open_event_log
    from onward.metrics.period import Period
    from onward.metrics.skills import SKILLS_METRICS, compute_skills_metrics
    from onward.web.skills_published import _suppressed

    year = period.end.year
    end = min(date(year, 12, 31), as_of)
    log = open_event_log(db=url)
    metrics = compute_skills_metrics(log, period=Period(date(year, 1, 1), end, as_of), db=url)
    programs = list(metrics.by_program)
    rows: list[Row] = []
    for key, text in SKILLS_METRICS.items():
        cells = _suppressed(metrics, key, programs) if programs else {}
        for scope, cell in cells.items():
            value = "suppressed" if cell.suppressed else plain(cell.value, cell.denominator is not None)
            rows.append(
                Row(
                    "Skills coverage",
                    key,
                    text,
                    "system" if scope == "all" else scope,
                    "All programs" if scope == "all" else scope,
                    value,
                    "" if cell.numerator is None else f"{cell.numerator:,}",
                    "" if cell.denominator is None else f"{cell.denominator:,}",
                    cell.suppressed,
                    *(
                        own_page_target(key, cell.numerator, cell.denominator, cell.suppressed, targets)
                        if scope == "all"
                        else ("", "", "")
                    ),
                )
            )
    note = (
        f"Calendar year {year} from 1 January to {end} (skills figures are published per calendar year, "
        "suppressed per program: docs/metrics.md, Skills metrics)."
    )
    return rows, note


def council(url: str, on: date) -> str:
    try:
        from onward.services.voice_council import council_state
    except ImportError:
        return "Not included: this installation has no council register."
    from onward.settings import load_settings
    from onward.store.engine import create_db_engine, session_factory

    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            state = council_state(session, on, load_settings(database_url=url).council_rule)
    finally:
        engine.dispose()
    verdict = (
        "meets the rule" if not state.problems else "does not meet the rule: " + "; ".join(state.problems)
    )
    return f"On {on}: {state.text}. Rule: {state.rule} The council {verdict}."


def build(
    *, url: str, period: CalendarPeriod, as_of: date | None, targets: Targets | None, synthetic: bool
) -> RegulatorReport:
    from onward.metrics.backends import open_event_log

    data = gather(open_event_log(db=url), period=period, as_of=as_of, synthetic=synthetic)
    month_end = date.fromisoformat(data.period["as_of"])
    report = RegulatorReport(data.period, data.source, synthetic)
    report.rows = cube_rows(data, targets)
    for section, _ in CUBE_SECTIONS:
        report.notes[section] = (
            f"{data.period['title']}, figures as of {month_end}; suppressed as one linked system with every "
            "published figure (docs/metrics.md, Published figures)."
        )
    skills, report.notes["Skills coverage"] = skills_rows(url, period, month_end, targets)
    voice, report.notes["Ideas received and acted on"] = voice_rows(url, period, month_end, targets)
    report.rows += skills + voice
    report.council = council(url, period.end if period.end <= month_end else month_end)
    return report


def write(report: RegulatorReport, out: Path) -> list[Path]:
    """regulator.html, regulator.pdf (headless Chromium) and regulator.csv in `out`."""
    from onward.services.skills_packets import html_to_pdf
    from onward.web.app import STATIC_DIR

    out.mkdir(parents=True, exist_ok=True)
    page = render_html(report)
    html_path, pdf_path, csv_path = out / "regulator.html", out / "regulator.pdf", out / "regulator.csv"
    html_path.write_text(page, encoding="utf-8")
    csv_path.write_text(render_csv(report), encoding="utf-8")
    pdf_path.write_bytes(html_to_pdf(page.encode("utf-8"), static_dir=STATIC_DIR, path="/regulator"))
    return [html_path, pdf_path, csv_path]
