"""Done when (issue 8), on a demo county made the way `onward demo` makes it (smaller): the demo
clinician sees a caseload of assigned episodes with flags and can graduate someone; the demo person
sees their own progress chart and planned exit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from onward.interop.extracts import import_extract
from onward.services.users import ensure_demo_users
from onward.settings import Settings
from onward.sim.synth import write_synthetic_county
from onward.store.engine import create_db_engine, session_factory
from onward.store.tables import Episode
from onward.web.app import create_app
from onward.web.sessions import CSRF_HEADER


@pytest.mark.slow
def test_the_demo_clinician_graduates_someone_and_the_demo_person_sees_progress(
    tmp_path: Path, sqlite_url: str
) -> None:
    folder = tmp_path / "county"
    write_synthetic_county(folder, people=2000, years=2, seed=2026, progress=False)
    import_extract(folder, sqlite_url, progress=False)
    engine = create_db_engine(sqlite_url)
    with session_factory(engine)() as session:
        passwords = {username: password for username, _, password in ensure_demo_users(session=session)}
    app = create_app(Settings(database_url=sqlite_url, environment="development", data_dir=tmp_path))
    with TestClient(app) as client:
        csrf = client.post(
            "/api/v1/session", json={"username": "demo-clinician", "password": passwords["demo-clinician"]}
        ).json()["csrf_token"]
        page = client.get("/caseload").text
        assert "Synthetic data" in page
        load = client.get("/api/v1/caseload").json()
        assert load["episodes"] and any(line["flags"] for line in load["episodes"])
        assert load["episodes"][0]["flags"], "the most urgent line comes first"
        ready = [e for e in load["episodes"] if any(f["flag"] == "ready_to_graduate" for f in e["flags"])]
        chosen = (ready or load["episodes"])[-1]["episode_id"]
        assert f'href="/episodes/{chosen}"' in page
        ended = client.post(
            f"/api/v1/episodes/{chosen}/end", json={"note": "criteria met"}, headers={CSRF_HEADER: csrf}
        )
        assert ended.status_code == 200 and ended.json()["end_reason"] == "graduated"
        # In a synthetic database the care day is the county's last day: the graduation lands there.
        assert ended.json()["end_date"] == load["as_of"]

        client.cookies.clear()
        client.post("/api/v1/session", json={"username": "demo-person", "password": passwords["demo-person"]})
        me = client.get("/me").text
        assert 'class="trend"' in me and "Your planned exit is" in me
        assert re.search(r"PHQ-9: first \d+, latest \d+|GAD-7: first \d+, latest \d+", me)
    with session_factory(engine)() as session:
        assert session.scalar(select(Episode.end_reason).where(Episode.episode_id == chosen)) == "graduated"
    engine.dispose()
