"""Lessons and ideas with hand-computed figures for the direction numbers published on their own pages
(prevention coverage, ideas implemented): shared by the metrics, web and CLI tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from onward.store.engine import create_db_engine
from onward.store.tables_skills import Cohort, SkillsSession
from onward.store.tables_voice import VoiceIdea

D = date.fromisoformat

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
