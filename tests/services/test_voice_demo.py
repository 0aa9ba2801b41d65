"""The demo county's SYNTHETIC voice activity: a council, a campaign and ideas at every stage; once only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.errors import ValidationError
from onward.metrics.voice import measure
from onward.model.roles import Role
from onward.model.voice import Status
from onward.security import passwords
from onward.services.users import demo_username, ensure_demo_users
from onward.services.voice_demo import seed_voice_demo
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import AuditEntry, Episode, Person, Program, Referral, Service, Staff, User
from onward.store.tables_voice import CouncilMember, VoiceIdea, VoiceNotification, VoicePlan


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def session(sqlite_url: str) -> Iterator[Session]:
    upgrade_database(sqlite_url)
    engine = create_db_engine(sqlite_url)
    with session_factory(engine)() as s:
        s.add_all(
            [
                Program(
                    program_id="p1", name="Outpatient", kind="outpatient", level_of_care=1, capacity_slots=5
                ),
                *[
                    Person(person_id=f"w{n}", birth_year=1990, sex="female", postcode_prefix="100")
                    for n in range(4)
                ],
            ]
        )
        s.flush()
        s.add(Staff(staff_id="s1", role="clinician", program_id="p1", hours_per_week=40))
        s.flush()
        for n in range(4):
            s.add(
                Referral(
                    referral_id=f"r{n}",
                    person_id=f"w{n}",
                    program_id="p1",
                    referral_date=date(2025, 1, 2 + n),
                    source="self",
                    priority="routine",
                )
            )
            s.flush()
            s.add(
                Episode(
                    episode_id=f"e{n}",
                    person_id=f"w{n}",
                    program_id="p1",
                    referral_id=f"r{n}",
                    primary_staff_id="s1",
                    start_date=date(2025, 1 + n, 10),
                    is_sud=False,
                )
            )
            s.flush()
            s.add(
                Service(
                    service_id=f"x{n}",
                    person_id=f"w{n}",
                    episode_id=f"e{n}",
                    staff_id="s1",
                    service_date=date(2025, 1 + n, 12),
                    code="90834",
                    minutes=45,
                    category="treatment",
                )
            )
        s.commit()
        yield s
    engine.dispose()


def test_only_a_synthetic_database_gets_demo_voice_data(session: Session, sqlite_url: str) -> None:
    with pytest.raises(ValidationError, match="synthetic"):
        seed_voice_demo(session=session, measure=lambda k, s, e: measure(sqlite_url, k, s, e))


def test_the_demo_has_a_campaign_with_ideas_at_every_stage_once(session: Session, sqlite_url: str) -> None:
    ensure_demo_users(session=session)
    assert seed_voice_demo(session=session, measure=lambda k, s, e: measure(sqlite_url, k, s, e)) == 8
    statuses = {i.status for i in session.scalars(select(VoiceIdea))}
    assert statuses == {s.value for s in Status}
    assert all(m.name.startswith("Synthetic") for m in session.scalars(select(CouncilMember)))
    evaluated = session.scalar(select(VoicePlan).where(VoicePlan.after_from.is_not(None)))
    assert evaluated is not None and evaluated.after is not None and evaluated.simulated is not None
    person = session.scalar(select(User).where(User.username == demo_username(Role.PERSON)))
    assert person is not None
    notices = list(
        session.scalars(select(VoiceNotification).where(VoiceNotification.user_id == person.user_id))
    )
    assert len(notices) > 8  # the demo person wrote most ideas and hears of every step
    seeds = list(session.scalars(select(AuditEntry.detail).where(AuditEntry.entity == "voice_demo")))
    assert len(seeds) == 1 and str(seeds[0]).startswith("SYNTHETIC")
    assert seed_voice_demo(session=session, measure=lambda k, s, e: 0.5) == 0  # a second run adds nothing


def test_the_voice_report_of_the_demo_is_labelled_synthetic_and_suppressed(
    session: Session, sqlite_url: str, tmp_path: Path
) -> None:
    from onward.cli.voice import report_voice

    ensure_demo_users(session=session)
    seed_voice_demo(session=session, measure=lambda k, s, e: measure(sqlite_url, k, s, e))
    report_voice(from_="2024-01-01", to="2025-12-31", out=tmp_path / "voice", db=sqlite_url)
    page = (tmp_path / "voice" / "voice.html").read_text(encoding="utf-8")
    assert "SYNTHETIC data" in page
    rows = (tmp_path / "voice" / "voice.csv").read_text(encoding="utf-8")
    assert "Ideas received by author role,All ideas,≤10" in rows  # 8 ideas: a small cell
    assert "Results,Text reminders the day before" in rows
