"""The direction numbers published on their own pages, read from the live database: prevention coverage
and ideas implemented, their 12-month trends (a month with a count from 1 to 10 is a gap) and their
status against a system target; hand-computed on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from metrics_helpers import episode, write_log
from tests.own_page_seed import seed_lessons_and_ideas

from onward.interop.extracts import import_extract
from onward.metrics.direction_extras import own_page_figures, report_line
from onward.model.targets import SET_HERE, Targets, TargetView
from onward.store.migrate import upgrade_database

PERIOD = {
    "period": "2024-Q1",
    "title": "Q1 2024",
    "from": "2024-01-01",
    "to": "2024-03-31",
    "as_of": "2024-03-31",
}


def _database(url: str, tmp_path: Path) -> str:
    upgrade_database(url)
    import_extract(
        write_log(tmp_path / "log", episodes=[episode("E1", "a", "2024-01-05")]), url, progress=False
    )
    seed_lessons_and_ideas(url, "P1")
    return url


def _target(key: str, value: float) -> Targets:
    return Targets([TargetView(key, None, value, None, SET_HERE, "why", "lee")])


def test_figures_trends_and_status_on_each_database(database_url: str, tmp_path: Path) -> None:
    skills, voice = own_page_figures(_database(database_url, tmp_path), PERIOD)

    assert skills.key == "skills_coverage" and (skills.numerator, skills.denominator) == (53, 75)
    assert skills.figure == "70.7 %" and not skills.hidden
    assert skills.basis == "lessons delivered of lessons due, 2024 to 2024-03-31 (75 due)"
    assert [m.label for m in skills.months][0] == "2023-04" and len(skills.months) == 12
    assert skills.trend_text().endswith(
        "2023-12 100.0 %; 2024-01 100.0 %; 2024-02 50.0 %; 2024-03 suppressed"
    )
    assert skills.trend_text().startswith("2023-04 no data")
    rows = skills.trend_rows()
    assert rows[-1] == {"month": "2024-03", "skills_coverage": None, "suppressed": ["skills_coverage"]}
    assert rows[-2]["skills_coverage"] == 0.5

    assert voice.key == "voice_share_implemented" and (voice.numerator, voice.denominator) == (25, 39)
    assert voice.figure == "64.1 %" and voice.link == "/voice/metrics?from=2024-01-01&to=2024-03-31"
    assert voice.trend_text().endswith("2023-12 no data; 2024-01 100.0 %; 2024-02 50.0 %; 2024-03 suppressed")

    # No target: no status. 70.7 % of 75 against 75 %: the 95 % Wilson interval (59.6-79.8 %) holds the
    # target, so at risk; against 90 % it is off track.
    assert skills.against(Targets([]))[1].key == "none"
    target, state = skills.against(_target("skills_coverage", 0.75))
    assert target is not None and state.label == "! at risk" and "59.6-79.8 %" in state.explanation
    assert skills.against(_target("skills_coverage", 0.9))[1].key == "off_track"
    assert voice.against(_target("voice_share_implemented", 0.4))[1].label == "✓ on track"
    answer = voice.to_json(_target("voice_share_implemented", 0.4))
    assert answer["status"] == "on_track" and answer["value"] == 25 / 39 and answer["program_id"] is None
    assert answer["period"] == {
        "from": "2024-01-01",
        "to": "2024-03-31",
        "basis": "accepted ideas decided in Q1 2024, implemented by 2024-03-31",
    }
    assert answer["target"]["target"] == "at least 40.0 %"
    line = report_line(skills, _target("skills_coverage", 0.75))
    assert line.figure == "70.7 %" and line.target.startswith(
        "Target at least 75.0 % (set by lee: why) · ! at risk"
    )
    assert report_line(voice, Targets([])).target == "No target."


def test_a_hidden_figure_gets_no_status(sqlite_url: str, tmp_path: Path) -> None:
    url = _database(sqlite_url, tmp_path)
    quarter = {**PERIOD, "period": "2024-03", "title": "March 2024", "from": "2024-03-01"}
    skills, voice = own_page_figures(url, {**quarter, "from": "2024-03-01"}, trend=False)
    assert voice.hidden and voice.figure == "suppressed" and voice.months == []  # 1 of 3 in March
    state = voice.against(_target("voice_share_implemented", 0.5))[1]
    assert state.key == "none" and "suppressed" in state.explanation
    assert voice.to_json(_target("voice_share_implemented", 0.5))["value"] is None
    assert not skills.hidden  # the calendar year to the month end, whatever the period
