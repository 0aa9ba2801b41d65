"""The direction numbers published on their own pages, read from the live database: prevention coverage
and ideas implemented, their 12-month trends (a month with a count from 1 to 10 is a gap) and their
status against a system target; hand-computed on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from onward.interop.extracts import import_extract
from onward.metrics.direction_extras import own_page_figures, report_line
from onward.model.targets import SET_HERE, Targets, TargetView
from onward.store.engine import create_db_engine
from onward.store.migrate import upgrade_database
from onward.store.tables_skills import Cohort, SkillsSession
from onward.store.tables_voice import VoiceIdea

D = date.fromisoformat
PERIOD = {
    "period": "2024-Q1",
    "title": "Q1 2024",
    "from": "2024-01-01",
    "to": "2024-03-31",
    "as_of": "2024-03-31",
}

#: (first day, lessons planned, of them delivered on their day) per month; 2024-04 is after the month end.
LESSONS = [("2023-12-01", 12, 12), ("2024-01-01", 30, 30), ("2024-02-01", 40, 20), ("2024-03-01", 5, 3)]
LATE = ("2024-04-01", 15, 15)
#: (decided on, status, implemented on) for ideas: 12 accepted in January (all implemented), 4 declined
#: in January, 24 accepted in February (12 implemented by the month end), 3 accepted in March (1
#: implemented).
IDEAS = (
    [("2024-01-15", "implemented", "2024-02-01")] * 12
    + [("2024-02-10", "implemented", "2024-03-15")] * 12
    + [("2024-02-12", "accepted", None)] * 12
    + [("2024-01-20", "declined", None)] * 4
    + [("2024-03-05", "implemented", "2024-03-20")]
    + [("2024-03-06", "accepted", None)] * 2
)


def seed_lessons_and_ideas(url: str, program_id: str) -> None:
    """Lessons and ideas whose figures are hand-computed below (the database holds `program_id`).

    Prevention coverage 2024 to 2024-03-31: 75 due, 53 delivered (70.7 %); months 2023-12 100 %, 2024-01
    100 %, 2024-02 50 %, 2024-03 hidden (3 of 5). Ideas implemented in Q1 2024: 25 of 39 accepted
    (64.1 %); months 2023-12 no data, 2024-01 100 % (the declined left out), 2024-02 50 %, 2024-03 hidden
    (1 of 3)."""
    at = datetime(2024, 1, 1, tzinfo=UTC)
    sessions: list[dict[str, Any]] = []
    for first, planned, delivered in [*LESSONS, LATE]:
        for i in range(planned):
            day = D(first) + timedelta(days=i % 28)
            sessions.append(
                {
                    "session_id": f"s-{first}-{i}",
                    "cohort_id": "c-own",
                    "lesson_id": f"grade5-{i}",
                    "skill": "emotion_regulation",
                    "planned_on": day,
                    "delivered_on": day if i < delivered else None,
                }
            )
    ideas = [
        {
            "idea_id": f"i{n}",
            "title": f"idea {n}",
            "problem": "p",
            "proposal": "q",
            "author_role": "person_in_services",
            "status": status,
            "hidden": False,
            "submitted_at": at,
            "submitted_on": D("2024-01-02"),
            "decided_on": D(decided),
            "implemented_on": D(done) if done else None,
        }
        for n, (decided, status, done) in enumerate(IDEAS)
    ]
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(
            insert(Cohort),
            [
                {
                    "cohort_id": "c-own",
                    "kind": "class",
                    "track": "school",
                    "grade": "5",
                    "program_id": program_id,
                    "name": "Grade 5",
                    "created_at": at,
                }
            ],
        )
        connection.execute(insert(SkillsSession), sessions)
        connection.execute(insert(VoiceIdea), ideas)
    engine.dispose()


def _database(url: str, tmp_path: Path) -> str:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from metrics_helpers import episode, write_log

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
