"""Done when (issue 10): the manager's dashboard shows the same numbers as `onward metrics` for the same
period (published, suppressed figures), on a SYNTHETIC county; plus its waiting-list trend, clinicians'
service mix and caseloads, and the stuck list."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from onward.cli import app
from onward.interop.extracts import import_extract
from onward.metrics.backends import open_event_log
from onward.metrics.period import Period
from onward.metrics.registry import METRICS
from onward.metrics.staff_mix import compute_staff_mix
from onward.sim.synth import write_synthetic_county
from onward.store.tables import AuditEntry, Program
from onward.web.routers.dashboards import shown

Login = Callable[..., Response]
KEYS = (
    "admissions",
    "days_to_first_treatment_median",
    "days_to_first_treatment_p90",
    "share_treated_within_14_days",
    "share_treated_within_6_weeks",
    "share_treated_within_18_weeks",
    "treatment_share",
    "cm_per_treatment",
    "active_census",
    "stuck_count",
    "stuck_share",
)


@pytest.fixture(scope="module")
def county_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("county")
    write_synthetic_county(folder, people=4000, years=2, seed=3, progress=False)
    return folder


def _cells(html: str, program_id: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for row in re.findall(rf'<tr id="access-{program_id}">(.*?)</tr>', html, flags=re.S):
        found.update(dict(re.findall(r'data-metric="([a-z0-9_]+)">([^<]*)<', row)))
    table = html.split('<table class="metric-table">', 1)[1]
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        if f'href="/programs/{program_id}/capacity"' in row:
            found.update(dict(re.findall(r'data-metric="([a-z0-9_]+)">([^<]*)<', row)))
    return found


def test_the_dashboard_equals_onward_metrics_for_the_same_period(
    client: TestClient,
    make_user: Callable[..., Any],
    login: Login,
    db_url: str,
    db: Session,
    county_folder: Path,
) -> None:
    import_extract(county_folder, db_url, progress=False)
    programs = db.scalars(select(Program.program_id).order_by(Program.program_id)).all()
    mine = list(programs[:3])
    make_user("mia", "manager", program_ids=mine)
    login("mia")
    period = "2023"
    page = client.get(f"/programs/access?period={period}")
    assert page.status_code == 200, page.text[:500]
    html = page.text
    cli = CliRunner().invoke(
        app, ["metrics", "--db", db_url, "--suppress", "--period", period, "--by", "program", "--json"]
    )
    assert cli.exit_code == 0, cli.output
    published = json.loads(cli.stdout[cli.stdout.index("{") :])
    assert published["period"]["period"] == period
    groups = {g["program_id"]: g for g in published["groups"]}
    compared = 0
    for program_id in mine:
        cells = _cells(html, program_id)
        group = groups[program_id]
        for key in KEYS:
            # the CLI's public row carries the suppressed keys as a list, like the page's source
            want = shown(METRICS[key], {**group, "suppressed": group.get("suppressed", [])}).text
            assert cells[key] == want, (program_id, key, cells[key], want)
            compared += want not in {"suppressed", "no data"}
    assert compared >= 10, "the county should give real numbers to compare"
    # the public default targets of the waits (docs/targets.md) sit below each program, with a status
    targets = re.findall(r'class="target-status status-([a-z_]+)" title="([^"]+)">([^<]+)<', html)
    assert targets and all(" days" in phrase for _, _, phrase in targets[:2]), targets[:3]
    # clinicians' mix and caseloads: the engine's per-staff figures for the same period
    mix = compute_staff_mix(
        open_event_log(db=db_url),
        period=Period(date(2023, 1, 1), date(2023, 12, 31)),
        program_ids=mine,
    )
    some = next(s for s in mix.staff if s.treatment_minutes + s.cm_minutes > 0)
    row = re.search(rf'<th scope="row">{re.escape(some.staff_id)}</th>(.*?)</tr>', html, flags=re.S)
    assert row, some.staff_id
    share = 100 * some.treatment_minutes / (some.treatment_minutes + some.cm_minutes)
    assert f"{share:.0f} %" in row.group(1) and f'<td class="num">{some.caseload}</td>' in row.group(1)
    assert "Waiting list" in html and html.count('class="num">') > 20
    db.rollback()
    if "<h2>Stuck</h2>\n<div" in html:  # people named: the read is audited
        assert db.scalars(select(AuditEntry.entity).where(AuditEntry.entity == "stuck_list")).first()


def test_other_roles_and_empty_states(
    client: TestClient, make_user: Callable[..., Any], login: Login, db_url: str
) -> None:
    make_user("mia", "manager", program_ids=[])
    make_user("cara", "clinician")
    login("mia")
    page = client.get("/programs/access")
    assert page.status_code == 200 and "No events recorded yet" in page.text
    client.post(
        "/logout", data={"csrf_token": re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]}
    )
    login("cara")
    assert client.get("/programs/access").status_code == 403
