"""`onward report voice` and `onward voice council|seat|unseat` on a real database."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import insert
from typer.testing import CliRunner

from onward.cli import app
from onward.store.engine import create_db_engine
from onward.store.migrate import upgrade_database
from onward.store.tables import Episode, Person, Program
from onward.store.tables_voice import CouncilDecision, VoiceIdea, VoicePlan

AT = datetime(2025, 3, 1, tzinfo=UTC)


def _database(url: str) -> None:
    upgrade_database(url)
    engine = create_db_engine(url)
    ideas = []
    for n in range(15):  # 12 from people in services, 3 from clinicians; 4 decided, 1 evaluated
        ideas.append(
            {
                "idea_id": f"i{n:02d}",
                "title": f"Idea {n}",
                "problem": "p",
                "proposal": "q",
                "author_role": "person_in_services" if n < 12 else "clinician",
                "status": "evaluated" if n == 0 else "declined" if n < 4 else "submitted",
                "hidden": False,
                "submitted_at": AT,
                "submitted_on": date(2025, 3, 1),
                "decided_on": date(2025, 3, 11 + n) if n < 4 else None,
                "implemented_on": date(2025, 4, 1) if n == 0 else None,
                "evaluated_on": date(2025, 6, 1) if n == 0 else None,
            }
        )
    with engine.begin() as connection:
        connection.execute(
            insert(Program),
            [
                {
                    "program_id": "p1",
                    "name": "Op",
                    "kind": "outpatient",
                    "level_of_care": 1,
                    "capacity_slots": 5,
                }
            ],
        )
        connection.execute(
            insert(Person), [{"person_id": "a", "birth_year": 1990, "sex": "female", "postcode_prefix": "1"}]
        )
        connection.execute(
            insert(Episode),
            [
                {
                    "episode_id": "e1",
                    "person_id": "a",
                    "program_id": "p1",
                    "start_date": date(2025, 1, 5),
                    "is_sud": False,
                }
            ],
        )
        connection.execute(insert(VoiceIdea), ideas)
        connection.execute(
            insert(CouncilDecision),
            [
                {
                    "decision_id": f"d{n}",
                    "idea_id": f"i{n:02d}",
                    "outcome": "accepted" if n == 0 else "declined",
                    "reason": "because",
                    "decided_on": date(2025, 3, 11 + n),
                    "present": "[]",
                    "composition": "{}",
                    "recorded_by": None,
                    "recorded_at": AT,
                }
                for n in range(4)
            ],
        )
        connection.execute(
            insert(VoicePlan),
            [
                {
                    "idea_id": "i00",
                    "owner": "o",
                    "milestones": "[]",
                    "metric_key": "admissions",
                    "baseline_from": date(2024, 1, 1),
                    "baseline_to": date(2024, 12, 31),
                    "baseline": 0.0,
                    "target": 2.0,
                    "simulated": None,
                    "after_from": date(2025, 1, 1),
                    "after_to": date(2025, 5, 31),
                    "after": 1.0,
                    "evaluation_note": None,
                    "planned_at": AT,
                }
            ],
        )
    engine.dispose()


def test_council_seats_and_the_voice_report_with_small_cells_suppressed(
    sqlite_url: str, tmp_path: Path
) -> None:
    _database(sqlite_url)
    runner = CliRunner()
    for name, group, seat in (
        ("Lee", "lived_experience", "co_chair"),
        ("Cal", "clinician", "member"),
        ("Ola", "other", "member"),
    ):
        result = runner.invoke(
            app,
            [
                "voice",
                "seat",
                name,
                "--group",
                group,
                "--seat",
                seat,
                "--joined",
                "2025-01-01",
                "--db",
                sqlite_url,
            ],
        )
        assert result.exit_code == 0, result.output
    listing = runner.invoke(app, ["voice", "council", "--on", "2025-03-31", "--db", sqlite_url])
    assert listing.exit_code == 0 and "meets the rule" in listing.output
    member_id = next(line.split()[1] for line in listing.output.splitlines() if "Ola" in line and "│" in line)
    left = runner.invoke(app, ["voice", "unseat", member_id, "--left", "2025-04-15", "--db", sqlite_url])
    assert left.exit_code == 0, left.output
    bad = runner.invoke(app, ["voice", "seat", "X", "--group", "nobody", "--db", sqlite_url])
    assert "unknown group" in str(bad.exception)

    out = tmp_path / "voice"
    result = runner.invoke(
        app,
        [
            "report",
            "voice",
            "--from",
            "2025-01-01",
            "--to",
            "2025-06-30",
            "--out",
            str(out),
            "--db",
            sqlite_url,
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {(r["section"], r["item"]): r for r in csv.DictReader((out / "voice.csv").open(encoding="utf-8"))}
    assert (
        rows[("Ideas received by author role", "Person in services")]["value"] == "suppressed"
    )  # 12: 15 - 12 = 3
    assert rows[("Ideas received by author role", "Clinician (any discipline)")]["value"] == "≤10"
    assert rows[("Ideas received by author role", "All ideas")]["value"] == "15"
    assert rows[("Council decisions", "Declined")]["value"] == "≤10"  # 3, and 1 accepted: both hidden
    assert rows[("Council decisions", "Accepted")]["value"] == "≤10"
    assert rows[("Days to a decision", "Median")]["value"] == "≤10"  # 4 decisions: too few to show
    assert "not shown to be caused" in rows[("Results", "Idea 0")]["note"]
    assert (
        rows[("Council composition at month end", "2025-03-31")]["value"]
        == "3 members: 1 with lived experience, 1 clinicians, 1 other"
    )
    assert rows[("Council composition at month end", "2025-04-30")]["note"] == "meets the rule"
    page = (out / "voice.html").read_text(encoding="utf-8")
    assert "Voice: ideas, decisions and results, 2025-01-01 to 2025-06-30" in page and "SYNTHETIC" not in page
    assert "Idea 0" in page and "admissions: 0 before, 1 after (target 2)" in page

    backwards = runner.invoke(
        app,
        [
            "report",
            "voice",
            "--from",
            "2025-06-30",
            "--to",
            "2025-01-01",
            "--out",
            str(out),
            "--db",
            sqlite_url,
        ],
    )
    assert "before --from" in str(backwards.exception)
