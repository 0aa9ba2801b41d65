"""The session check reads the session, its user, and the user's grants and programs in one statement
(it runs on every signed-in request): the actor it makes equals the one read the long way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from onward.security.access import actor_for, actor_of, operator
from onward.security.login_sessions import find_session, open_session
from onward.security.policy import Permission
from onward.services.users import create_user
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.store.tables import Program
from onward.store.tables_security import AccessGrant

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "s" * 48


def test_one_statement_reads_the_session_user_grants_and_programs(database_url: str) -> None:
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    factory = session_factory(engine, audit_key=b"k" * 32)
    try:
        with factory() as s:
            s.add_all(
                Program(program_id=p, name=p, kind="outpatient", level_of_care=1, capacity_slots=10)
                for p in ("b", "a")
            )
            s.commit()
            user = create_user(
                session=s,
                username="leila",
                role="manager",
                password="a long enough pass phrase 1",
                display_name="Leila",
                program_ids=["b", "a"],
                actor=operator("test"),
                now=NOW,
            )
            s.add_all(
                [
                    AccessGrant(
                        grant_id="g1",
                        user_id=user.user_id,
                        permission=Permission.CURRICULUM_LEAD.value,
                        reason="curriculum lead of the clinic",
                        granted_at=NOW,
                    ),
                    AccessGrant(  # revoked: not held
                        grant_id="g2",
                        user_id=user.user_id,
                        permission=Permission.IDENTIFIED_RECORDS.value,
                        reason="an ended project",
                        granted_at=NOW,
                        revoked_at=NOW,
                    ),
                ]
            )
            token, _ = open_session(
                session=s, secret_key=SECRET, user=user, now=NOW, address=None, user_agent=None
            )
            s.commit()
        with factory() as s:
            statements: list[str] = []

            def seen(*args: Any) -> None:
                statements.append(args[2])

            event.listen(engine, "before_cursor_execute", seen)
            active = find_session(
                session=s, secret_key=SECRET, token=token, now=NOW, idle=timedelta(minutes=30)
            )
            event.remove(engine, "before_cursor_execute", seen)
            assert active is not None
            selects = [x for x in statements if x.lstrip().upper().startswith("SELECT")]
            long_way = actor_for(s, active.user, NOW)
    except Exception:
        engine.dispose()
        raise
    engine.dispose()
    assert len(selects) == 1
    assert active.grants == (Permission.CURRICULUM_LEAD.value,) and sorted(active.programs) == ["a", "b"]
    actor = actor_of(active.user, active.grants, active.programs)
    assert actor == long_way
    assert actor.program_ids == ("a", "b") and Permission.CURRICULUM_LEAD in actor.permissions
    assert Permission.IDENTIFIED_RECORDS not in actor.permissions
