from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from onward.interop.files import arrow_schema, write_table
from onward.metrics.backends import open_event_log
from onward.metrics.publish import PER_PERIOD, denominator_series
from onward.metrics.registry import METRICS
from onward.metrics.report import (
    MINUTE_BASED,
    NO_PROGRAM,
    ReportData,
    build_report,
    gather,
    is_synthetic_source,
    published,
    render_html,
)
from onward.security.suppression import SUPPRESSED, is_small

CHROMIUM = "/usr/bin/chromium"


def _write(folder: Path, name: str, rows: list[dict[str, Any]]) -> None:
    schema = arrow_schema(name)
    write_table(pa.Table.from_pylist(rows, schema=schema), folder, name, "parquet")


def _extract(folder: Path) -> Path:
    """Three programs, Jan-Feb 2024: the crisis team admits 3 people in January, the perinatal clinic 4."""
    kinds = {"P1": ("Outpatient North", "outpatient"), "P2": ("Crisis Team", "crisis")}
    kinds["P3"] = ("Perinatal Clinic", "perinatal")
    programs = [
        {"program_id": pid, "name": name, "kind": kind, "level_of_care": 1, "capacity_slots": 50}
        for pid, (name, kind) in kinds.items()
    ]
    staff = [{"staff_id": "S1", "role": "clinician", "program_id": "P1", "hours_per_week": 40}]
    plan = {("P1", 1): 30, ("P1", 2): 25, ("P2", 1): 3, ("P2", 2): 40, ("P3", 2): 4}
    episodes, services, people = [], [], []
    n = 0
    for (program, month), count in plan.items():
        for i in range(count):
            n += 1
            start = date(2024, month, 1 + i % 27)
            ended = n % 2 == 0
            people.append(
                {
                    "person_id": f"u{n}",
                    "birth_year": 1980,
                    "sex": "female",
                    "postcode_prefix": "Z10",
                    "school_grade": None,
                    "pregnancy_due_date": None,
                }
            )
            episodes.append(
                {
                    "episode_id": f"e{n}",
                    "person_id": f"u{n}",
                    "program_id": program,
                    "referral_id": None,
                    "start_date": start,
                    "planned_end_date": None,
                    "end_date": start + timedelta(days=20) if ended else None,
                    "end_reason": ("graduated" if n % 4 == 0 else "disengaged") if ended else None,
                    "is_sud": False,
                }
            )
            services.append(
                {
                    "service_id": f"s{n}",
                    "person_id": f"u{n}",
                    "episode_id": f"e{n}",
                    "staff_id": "S1",
                    "service_date": start + timedelta(days=n % 9),
                    "code": "90834",
                    "minutes": 45,
                    "category": "treatment",
                }
            )
            services.append(
                {
                    "service_id": f"c{n}",
                    "person_id": f"u{n}",
                    "episode_id": f"e{n}",
                    "staff_id": "S1",
                    "service_date": start + timedelta(days=1),
                    "code": "T1017",
                    "minutes": 30,
                    "category": "case_management",
                }
            )
    _write(folder, "people", people)
    _write(folder, "programs", programs)
    _write(folder, "staff", staff)
    _write(folder, "referrals", [])
    _write(folder, "episodes", episodes)
    _write(folder, "services", services)
    _write(folder, "measurements", [])
    return folder


def _closed(folder: Path) -> Path:
    """The extract plus a service on 2024-04-02: March is over, so 2024-Q1 is published."""
    services = pa.parquet.read_table(folder / "services.parquet").to_pylist()
    services.append({**services[0], "service_id": "april", "service_date": date(2024, 4, 2)})
    _write(folder, "services", services)
    return folder


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _closed(_extract(tmp_path_factory.mktemp("extract")))


@pytest.fixture(scope="module")
def report_data(extract: Path) -> ReportData:
    return gather(open_event_log(data=extract), synthetic=True)


@pytest.fixture(scope="module")
def internal_data(extract: Path) -> ReportData:
    return gather(open_event_log(data=extract), synthetic=True, suppress=False)


def test_gather_holds_three_breakdowns_and_program_names(report_data: ReportData) -> None:
    assert report_data.period["period"] == "2024-Q1"  # the latest complete quarter
    assert report_data.overall["admissions"] == 102
    # Episodes end 20 days after they start, so discharges reach into March.
    assert [g["month"] for g in report_data.by_month] == ["2024-01", "2024-02", "2024-03"]
    assert {g["program_id"] for g in report_data.by_program} == {"P1", "P2", "P3", NO_PROGRAM}
    assert len(report_data.by_program_month) == 4 * 3
    assert report_data.programs == {"P1": "Outpatient North", "P2": "Crisis Team", "P3": "Perinatal Clinic"}
    # A rate carries the counts behind it.
    assert report_data.overall["graduation_rate__denominator"] == report_data.overall["discharges"]


def _counts(row: dict[str, Any]) -> dict[str, Any]:
    """Every count a published row shows: counts, and for rates and waits their numerator, denominator
    and the rest (denominator - numerator) when both are shown."""
    out: dict[str, Any] = {}
    for key, definition in METRICS.items():
        if key in MINUTE_BASED or key not in row:
            continue
        if definition.kind == "count":
            out[key] = row[key]
            continue
        numerator: Any = row.get(f"{key}__numerator")
        denominator: Any = row.get(f"{key}__denominator")
        out[f"{key}__denominator"] = denominator
        if definition.kind == "rate" and key not in row.get(SUPPRESSED, []) and row[key] is not None:
            out[f"{key}__numerator"] = numerator
            out[f"{key}__rest"] = denominator - numerator
    return out


def test_published_view_shows_no_count_from_1_to_10(report_data: ReportData) -> None:
    view = published(report_data)
    for row in [view["metrics"], *view["groups"]]:
        for key, value in _counts(row).items():
            assert not is_small(value), (row.get("program_id"), row.get("month"), key, value)
    cell = next(g for g in view["groups"] if g["program_id"] == "P2" and g["month"] == "2024-01")
    assert cell["admissions"] is None and "admissions" in cell[SUPPRESSED]
    # Partners go too, or 3 would follow from the totals.
    hidden = {(g["program_id"], g["month"]) for g in view["groups"] if "admissions" in g.get(SUPPRESSED, [])}
    assert {("P2", "2024-01"), ("P3", "2024-02"), ("P3", None)} <= hidden
    assert view["metrics"]["admissions"] == 102
    # The waits' cohort is the admissions: one count, hidden together.
    for row in view["groups"]:
        same = denominator_series("days_to_first_treatment_median") == "admissions"
        assert same and (
            ("admissions" in row[SUPPRESSED]) == ("days_to_first_treatment_median" in row[SUPPRESSED])
        )
    assert all(key not in g for g in report_data.by_month for key in PER_PERIOD)  # not by month


def test_unsuppressed_view_keeps_every_value(internal_data: ReportData) -> None:
    view = published(internal_data)
    cell = next(g for g in view["groups"] if g["program_id"] == "P2" and g["month"] == "2024-01")
    assert cell["admissions"] == 3
    assert all(not g[SUPPRESSED] for g in [view["metrics"], *view["groups"]])


def test_html_is_self_contained_and_explains_every_metric(report_data: ReportData, tmp_path: Path) -> None:
    out = build_report(report_data, out=tmp_path / "r.html")
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", text, re.IGNORECASE)
    assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", text, re.IGNORECASE)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text, re.IGNORECASE)
    assert "vegaEmbed" in text and text.count("vegaEmbed('#chart-") == len(METRICS)
    for definition in METRICS.values():
        assert f'<section id="{definition.key}">' in text
        assert json.dumps(definition.source)[1:-1].split(";")[0] in text
    assert "Synthetic data" in text
    assert "INTERNAL USE ONLY" not in text


def test_html_without_suppression_is_labelled_internal(
    report_data: ReportData, internal_data: ReportData
) -> None:
    suppressed = render_html(report_data)
    internal = render_html(internal_data)
    assert "INTERNAL USE ONLY" in internal
    row = re.compile(r"<td>Perinatal Clinic</td><td class=num>([^<]*)</td>")

    def admissions(page: str) -> str:
        return str(row.findall(page.split('<section id="admissions">')[1])[0])

    assert admissions(internal) == "4"
    assert "Period Q1 2024 (January-March) (2024-01-01 to 2024-03-31)" in suppressed
    assert admissions(suppressed) == "–"
    assert "<td class=num>–</td>" not in internal


def test_real_data_is_not_labelled_synthetic(report_data: ReportData) -> None:
    report_data = ReportData(**{**report_data.__dict__, "synthetic": False})
    assert "Synthetic data" not in render_html(report_data)


@pytest.mark.parametrize(("fmt", "magic"), [("pdf", b"%PDF"), ("png", b"\x89PNG")])
def test_charts_render_through_vl_convert(
    report_data: ReportData, tmp_path: Path, fmt: str, magic: bytes
) -> None:
    out = build_report(report_data, out=tmp_path / f"r.{fmt}", fmt=fmt)  # type: ignore[arg-type]
    assert out.read_bytes().startswith(magic)
    assert out.stat().st_size > 10_000


def test_synthetic_source_detection(tmp_path: Path) -> None:
    assert not is_synthetic_source(data=tmp_path)
    (tmp_path / "onward-synth.json").write_text(json.dumps({"synthetic": False}))
    assert not is_synthetic_source(data=tmp_path)
    (tmp_path / "onward-synth.json").write_text(json.dumps({"synthetic": True, "generator": "onward synth"}))
    assert is_synthetic_source(data=tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "SYNTHETIC").write_text("")
    assert is_synthetic_source(data=other)
    assert not is_synthetic_source(db=f"sqlite:///{(tmp_path / 'empty.sqlite').as_posix()}")


def test_items_without_a_program_get_their_own_row() -> None:
    assert NO_PROGRAM not in {"P1", "P2"}
    data = ReportData(
        overall={"admissions": 30},
        by_month=[],
        by_program=[{"program_id": NO_PROGRAM, "admissions": 30}],
        by_program_month=[],
        period={"period": "2024-01", "from": "2024-01-01", "to": "2024-01-31", "as_of": "2024-01-31"},
    )
    assert published(data)["groups"][0]["program_id"] == NO_PROGRAM


@pytest.mark.browser
def test_charts_draw_in_chromium_without_network(report_data: ReportData, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    out = build_report(report_data, out=tmp_path / "r.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        try:
            page = browser.new_page()
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(out.as_uri())
            page.wait_for_function(
                f"document.querySelectorAll('.chart svg').length >= {len(METRICS)}", timeout=30_000
            )
            marks = page.locator("#chart-0 svg path").count()
        finally:
            browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file:")] == []
    assert marks > 0
