"""The caseload's flags are the engine's flags: on a small synthetic county imported into SQLite, each
clinician's caseload (services.caseload, the pure rules over indexed reads) names exactly the flags,
days and reasons `onward.metrics.flags.compute_flags` finds for the same episodes. Risk comes first."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from onward.interop.extracts import import_extract
from onward.metrics.backends import open_event_log
from onward.metrics.flags import compute_flags
from onward.model.flags import FLAG_NAMES, FlagRules
from onward.security.access import Actor
from onward.security.audit import AuditEvent
from onward.security.policy import role_permissions
from onward.services.caseload import caseload
from onward.sim.synth import write_synthetic_county
from onward.store.engine import create_db_engine, session_factory
from onward.store.tables import Episode


@pytest.mark.slow
def test_caseload_flags_equal_the_engine_and_risk_comes_first(tmp_path: Path, sqlite_url: str) -> None:
    folder = tmp_path / "county"
    write_synthetic_county(folder, people=1500, years=1.5, seed=7, progress=False)
    import_extract(folder, sqlite_url, progress=False)
    engine = create_db_engine(sqlite_url)
    made = session_factory(engine)
    with made() as s:
        staff = Counter(s.scalars(select(Episode.primary_staff_id).where(Episode.end_date.is_(None))))
    now = datetime(2030, 1, 1, tzinfo=UTC)  # a synthetic database: the care day is its last day
    checked = 0
    for staff_id, _ in staff.most_common(3):
        actor = Actor(
            user_id="u1",
            username="c",
            role="clinician",
            permissions=role_permissions("clinician"),
            staff_id=staff_id,
        )
        seen: list[AuditEvent] = []
        with made() as s:
            result = caseload(session=s, actor=actor, now=now, rules=FlagRules(), audit=seen.append)
        ids = [line.episode_id for line in result.lines]
        engine_flags = compute_flags(
            open_event_log(db=sqlite_url, with_items=True), as_of=result.as_of, episode_ids=ids
        )
        ours = sorted((f.episode_id, f.flag, f.since, f.reason) for line in result.lines for f in line.flags)
        theirs = sorted((f.episode_id, f.flag, f.since, f.reason) for f in engine_flags.flags)
        assert ours == theirs and engine_flags.open_episodes == len(ids)
        ranks = [
            FLAG_NAMES.index(line.flags[0].flag) if line.flags else len(FLAG_NAMES) for line in result.lines
        ]
        assert ranks == sorted(ranks)
        assert seen[0].entity == "caseload" and str(len(ids)) in (seen[0].detail or "")
        checked += len(ours)
    assert checked > 0
    engine.dispose()
