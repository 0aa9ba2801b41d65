"""The voice report for regulators and payers: `onward report voice` writes voice.html and voice.csv
(docs/voice.md, "The voice report").

For one period: ideas received by author role, council decisions, days to a decision, accepted ideas
implemented, implemented ideas evaluated, the results measured (before/after, not causal), and the
council's composition at each month end against its rule. Counts of ideas and decisions from 1 to 10 are
suppressed, with complementary cells so that none can be worked out from the totals (CMS cell-size
policy; `onward.security.suppression`); a share or a median over 1 to 10 ideas is suppressed too. The
council's composition is about its members' seats, not anyone's care, and is published in full.
"""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import select

from onward.metrics.voice import VOICE_METRICS, VoiceMetrics, voice_metrics_of_database
from onward.model.voice import AUTHOR_ROLE_LABELS, AuthorRole
from onward.model.voice_council import CompositionRule, Group, Member, Seat, composition, council_problems
from onward.security.suppression import SMALL_CELL_MAX, suppress_counts
from onward.store.engine import create_db_engine, session_factory
from onward.store.tables_voice import CouncilDecision, CouncilMember, VoiceIdea, VoicePlan

SUPPRESSED = "≤10"
HIDDEN = "suppressed"
NOT_CAUSAL = "Measured before and after the change; not shown to be caused by it."


@dataclass(frozen=True, slots=True)
class Line:
    """One published figure: section, item, what is shown, and its parts when it is a share."""

    section: str
    item: str
    shown: str
    numerator: str = ""
    denominator: str = ""
    note: str = ""


def _counts(section: str, items: list[tuple[str, int]], total_label: str) -> list[Line]:
    """Counts with their total, small cells hidden with complementary suppression."""
    if not items:
        return [Line(section, total_label, "0")]
    values = np.array([[n] for _, n in items], dtype=np.int64)
    mask = suppress_counts(values, margins="columns")
    lines = [
        Line(section, label, _hidden(n) if mask.cells[i, 0] else str(n)) for i, (label, n) in enumerate(items)
    ]
    total = int(values.sum())
    hidden_total = bool(mask.column_totals is not None and mask.column_totals[0])
    lines.append(Line(section, total_label, _hidden(total) if hidden_total else str(total)))
    return lines


def _hidden(count: int) -> str:
    """A hidden count: "≤10" when it is small itself, "suppressed" when hidden so that a small one next to it
    cannot be worked out."""
    return SUPPRESSED if count <= SMALL_CELL_MAX else HIDDEN


def _share(section: str, item: str, numerator: int, denominator: int) -> Line:
    if denominator == 0:
        return Line(section, item, "none in the period", "0", "0")
    if 1 <= denominator <= SMALL_CELL_MAX or 1 <= numerator <= SMALL_CELL_MAX:
        return Line(
            section,
            item,
            SUPPRESSED,
            SUPPRESSED,
            SUPPRESSED if denominator <= SMALL_CELL_MAX else str(denominator),
        )
    return Line(section, item, f"{numerator / denominator:.0%}", str(numerator), str(denominator))


def _month_ends(start: date, end: date) -> list[date]:
    out, day = [], start
    while day <= end:
        nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        out.append(min(nxt - timedelta(days=1), end))
        day = nxt
    return out


def gather(url: str, start: date, end: date, rule: CompositionRule) -> tuple[VoiceMetrics, list[Line]]:
    figures = voice_metrics_of_database(url, start, end)
    f = figures.figures
    lines: list[Line] = []
    by_role = [(AUTHOR_ROLE_LABELS[r], figures.by_author_role.get(r.value, 0)) for r in AuthorRole]
    lines += _counts("Ideas received by author role", by_role, "All ideas")
    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            decisions = [d for d in session.scalars(select(CouncilDecision)) if start <= d.decided_on <= end]
            outcomes = [(o.title(), sum(d.outcome == o for d in decisions)) for o in ("accepted", "declined")]
            lines += _counts("Council decisions", outcomes, "All decisions")
            days = f["voice_days_to_decision_median"]
            lines.append(
                Line("Days to a decision", "Median", "none in the period", "", "0")
                if not days.denominator
                else Line("Days to a decision", "Median", SUPPRESSED, "", SUPPRESSED)
                if days.denominator <= SMALL_CELL_MAX
                else Line(
                    "Days to a decision", "Median", f"{days.numerator:g} days", "", str(days.denominator)
                )
            )
            impl, ev = f["voice_share_implemented"], f["voice_share_evaluated"]
            lines.append(
                _share(
                    "Carried out", "Accepted ideas implemented", int(impl.numerator), impl.denominator or 0
                )
            )
            lines.append(
                _share("Carried out", "Implemented ideas evaluated", int(ev.numerator), ev.denominator or 0)
            )
            results = session.execute(
                select(VoiceIdea, VoicePlan)
                .join(VoicePlan, VoicePlan.idea_id == VoiceIdea.idea_id)
                .where(VoiceIdea.evaluated_on >= start, VoiceIdea.evaluated_on <= end)
                .order_by(VoiceIdea.evaluated_on)
            ).all()
            for idea, plan in results:
                before = "no value" if plan.baseline is None else f"{plan.baseline:.3g}"
                after = "no value" if plan.after is None else f"{plan.after:.3g}"
                lines.append(
                    Line(
                        "Results",
                        idea.title,
                        f"{plan.metric_key}: {before} before, {after} after (target {plan.target:.3g})",
                        note=NOT_CAUSAL,
                    )
                )
            members = list(session.scalars(select(CouncilMember)))
    finally:
        engine.dispose()
    for day in _month_ends(start, end):
        seated = [
            Member(m.member_id, m.name, Group(m.member_group), Seat(m.seat))
            for m in members
            if m.joined_on <= day and (m.left_on is None or m.left_on > day)
        ]
        problems = council_problems(seated, rule)
        lines.append(
            Line(
                "Council composition at month end",
                day.isoformat(),
                composition(seated).to_text(),
                note="meets the rule" if not problems else "does not meet the rule: " + "; ".join(problems),
            )
        )
    return figures, lines


def write_voice_report(
    url: str, start: date, end: date, out: Path, rule: CompositionRule, *, synthetic: bool
) -> tuple[Path, Path]:
    """Write voice.html and voice.csv into the folder `out`; returns their paths."""
    figures, lines = gather(url, start, end, rule)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = out / "voice.csv", out / "voice.html"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["section", "item", "value", "numerator", "denominator", "note"])
        for line in lines:
            writer.writerow(
                [line.section, line.item, line.shown, line.numerator, line.denominator, line.note]
            )
    html_path.write_text(_html(figures, lines, rule, start, end, synthetic), encoding="utf-8")
    return html_path, csv_path


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b2430}"
    "table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border-bottom:1px solid #d8dde5;"
    "padding:.4rem .5rem;text-align:left}.banner{background:#f2c14e;padding:.5rem 1rem;font-weight:600}"
    ".note{color:#4a5566}"
)


def _html(
    figures: VoiceMetrics, lines: list[Line], rule: CompositionRule, start: date, end: date, synthetic: bool
) -> str:
    e = html.escape
    sections: dict[str, list[Line]] = {}
    for line in lines:
        sections.setdefault(line.section, []).append(line)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Voice report</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<div class='banner'>SYNTHETIC data: generated by the Onward simulator and demo.</div>"
        if synthetic
        else "",
        f"<h1>Voice: ideas, decisions and results, {start} to {end}</h1>",
        f"<p class='note'>Figures as of {figures.period.data_end}. Counts of ideas and decisions from 1 to "
        f"{SMALL_CELL_MAX} are shown as “{SUPPRESSED}”, with other cells hidden where they would reveal them "
        "(CMS cell-size suppression policy). Council rule: " + e(rule.describe()) + "</p>",
    ]
    for section, rows in sections.items():
        parts.append(
            f"<h2>{e(section)}</h2><table><thead><tr><th>Item</th><th>Value</th><th>Of</th>"
            "<th>Note</th></tr></thead><tbody>"
        )
        for r in rows:
            parts.append(
                f"<tr><td>{e(r.item)}</td><td>{e(r.shown)}</td><td>{e(r.denominator)}</td><td>{e(r.note)}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append("<h2>Definitions</h2><dl>")
    for d in VOICE_METRICS.values():
        parts.append(f"<dt>{e(d.title)}</dt><dd>{e(d.definition)}</dd>")
    parts.append("</dl></body></html>")
    return "".join(parts)
