"""The metric pages and API over a hand-built event log imported through the real store path.

The log (March 2024, plus one case-management service on 2024-04-02, so March is a complete month: the
published figures are read as of 2024-03-31 and the default period is 2024-Q1): program "op" (capacity
40) admits 40 people on 03-04, each with a 60-minute treatment and a 30-minute case-management service on
03-11; 24 of them end on 03-25, 12 graduated and 12 disengaged. Program "ip" (capacity 8) admits 3 people
on 03-04, each with a 60-minute treatment on 03-11. By hand: admissions 43 (op 40, ip 3: ip is a small
cell), graduation rate 12/24 = 50.0 %,
days to first treatment median 7, treated within 14 days 43/43 = 100.0 %, treatment share
(40x60 + 3x60) / (2580 + 40x30) = 68.3 %, case-management minutes per treatment minute 1200/2580 = 0.47,
active census at 03-25 = 16 + 3 = 19 (shown or suppressed as the linked suppression decides).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from onward.interop.extracts import import_extract
from onward.interop.files import arrow_schema, write_table
from onward.metrics.period import CalendarPeriod
from onward.store.engine import create_db_engine, session_factory
from onward.store.migrate import upgrade_database
from onward.web.metrics_cache import MetricsCache, PeriodQuery, data_version

Login = Callable[..., Response]
D = dt.date


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


MARCH_11 = D(2024, 3, 11)


def event_log(*, extra_op_people: int = 0) -> dict[str, pa.Table]:
    """The log of the module docstring; `extra_op_people` more op admissions (open, treated on day 7)."""
    people: list[tuple[str, str]] = [(f"op{i}", "op") for i in range(40)] + [
        (f"ip{i}", "ip") for i in range(3)
    ]
    people += [(f"new{i}", "op") for i in range(extra_op_people)]
    ended = {f"op{i}": ("graduated" if i < 12 else "disengaged") for i in range(24)}
    services: dict[str, list[Any]] = {k: [] for k in arrow_schema("services").names}

    def service(sid: str, person: str, minutes: int, category: str, day: dt.date = MARCH_11) -> None:
        for key, value in (
            ("service_id", sid),
            ("person_id", person),
            ("episode_id", f"e-{person}"),
            ("staff_id", None),
            ("service_date", day),
            ("code", "90837" if category == "treatment" else "T1016"),
            ("minutes", minutes),
            ("category", category),
        ):
            services[key].append(value)

    for person, program in people:
        service(f"t-{person}", person, 60, "treatment")
        if program == "op":
            service(f"c-{person}", person, 30, "case_management")
    service("april", "op30", 30, "case_management", D(2024, 4, 2))  # after March: not in Q1's figures
    columns: dict[str, dict[str, list[Any]]] = {
        "people": {
            "person_id": [p for p, _ in people],
            "birth_year": [1980] * len(people),
            "sex": ["female"] * len(people),
            "postcode_prefix": ["981"] * len(people),
            "school_grade": [None] * len(people),
            "pregnancy_due_date": [None] * len(people),
        },
        "programs": {
            "program_id": ["op", "ip"],
            "name": ["North Outpatient", "Harbor Inpatient"],
            "kind": ["outpatient", "inpatient"],
            "level_of_care": [1, 4],
            "capacity_slots": [40, 8],
        },
        "episodes": {
            "episode_id": [f"e-{p}" for p, _ in people],
            "person_id": [p for p, _ in people],
            "program_id": [g for _, g in people],
            "referral_id": [None] * len(people),
            "primary_staff_id": [None] * len(people),
            "start_date": [D(2024, 3, 4)] * len(people),
            "planned_end_date": [None] * len(people),
            "end_date": [D(2024, 3, 25) if p in ended else None for p, _ in people],
            "end_reason": [ended.get(p) for p, _ in people],
            "is_sud": [False] * len(people),
        },
        "services": services,
    }
    return {name: pa.table(cols, schema=arrow_schema(name)) for name, cols in columns.items()}


def load(url: str, folder: Path, tables: dict[str, pa.Table]) -> None:
    for name, table in tables.items():
        write_table(table, folder, name, "parquet")
    import_extract(folder, url, progress=False)


@pytest.fixture
def imported(db_url: str, tmp_path: Path) -> str:
    load(db_url, tmp_path / "v1", event_log())
    return db_url


def test_the_default_is_the_latest_complete_quarter_as_of_the_last_month_end(
    client: TestClient, make_user: Callable[..., Any], login: Login, imported: str
) -> None:
    make_user("lee", "leader")
    login("lee")
    page = _text(client.get("/dashboard").text)
    assert "Period Q1 2024 (January-March) (2024-01-01 to 2024-03-31) · figures as of 2024-03-31" in page
    assert "the last month end on or before the latest event (2024-04-02)" in page
    march = _text(client.get("/dashboard", params={"period": "2024-03"}).text)
    assert "Period March 2024 (2024-03-01 to 2024-03-31)" in march and "Admissions admissions 43" in march
    # April is not over: not published; nor is a range, nor a period in another form
    april = client.get("/dashboard", params={"period": "2024-04"})
    assert april.status_code == 400 and "not published" in april.text
    assert client.get("/dashboard", params={"from": "2024-03-01"}).status_code == 400


@pytest.mark.parametrize("role", ["leader", "analyst"])
def test_leaders_see_hand_computed_values_on_the_dashboard(
    role: str, client: TestClient, make_user: Callable[..., Any], login: Login, imported: str
) -> None:
    make_user("lee", role)
    login("lee")
    response = client.get("/dashboard")
    assert response.status_code == 200
    page = _text(response.text)
    assert "Period Q1 2024 (January-March) (2024-01-01 to 2024-03-31)" in page
    # ip's census of 3 is hidden; with op's census as its complement, census(t) = census(t-1) + admissions
    # - discharges would give op's back from its admissions and discharges, so op's discharges go too, and
    # (ip discharged nobody) the total discharges, the graduation rate built on them and the total census.
    assert "Graduation rate suppressed episodes ended" in page
    assert "Days to first treatment (median) 7 days of 43 episodes started" in page
    assert "Treated within 14 days 100.0 % of 43 episodes started" in page
    assert "Treatment share of staff minutes 68.3 % of 3,780 staff minutes" in page
    # the table of every metric
    assert "Admissions admissions 43" in page
    assert "Case-management minutes per treatment minute cm_per_treatment 0.47" in page
    assert "Active census active_census suppressed" in page and "≤10" not in page
    # nobody graduated 12 months before data_end: an empty denominator, not 0
    assert re.search(r"Re-entry within 12 months of graduating no data", page)
    assert 'href="/metrics/recovery_rate"' in response.text
    assert "Trend: the 3 months to 2024-03" in page  # the cube starts in January of the first year


@pytest.mark.parametrize("role", ["clinician", "person", "manager", "council_member", "admin"])
def test_other_roles_may_not_see_the_dashboard_or_the_api(
    role: str, client: TestClient, make_user: Callable[..., Any], login: Login, imported: str
) -> None:
    extra = {"program_ids": ["op"]} if role in ("clinician", "manager") else {}
    make_user("someone", role, **extra)
    login("someone")
    for path in ("/dashboard", "/metrics/admissions", "/api/v1/metrics"):
        assert client.get(path).status_code == 403, path


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, imported: str) -> None:
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/metrics").status_code == 401


def test_a_small_cell_is_shown_as_suppressed_never_as_its_number(
    client: TestClient, make_user: Callable[..., Any], login: Login, imported: str
) -> None:
    make_user("lee", "leader")
    login("lee")
    page = _text(client.get("/metrics/admissions").text)
    assert "Admissions 43" in page
    assert "Episodes whose start_date is in the period." in page  # the definition text
    assert "<svg" in client.get("/metrics/admissions").text  # the server-drawn trend and bars
    definition = _text(client.get("/metrics/remission_6m").text)
    assert "HEDIS MY2024 DRR-E" in definition and "By month index month" in definition
    inpatient = page.split("Harbor Inpatient")[1].split("North Outpatient")[0]
    assert inpatient.split()[0] == "suppressed"  # 3 admissions
    # complementary suppression: with the total (43) shown, op's 40 would give ip's 3 back
    outpatient = page.split("North Outpatient")[1].split()[0]
    assert outpatient == "suppressed"
    assert " 3 " not in f" {inpatient} "
    program_page = _text(client.get("/programs/metrics").text)
    ip_row = program_page.split("Harbor Inpatient")[1].split("North Outpatient")[0]
    assert "suppressed" in ip_row and " 3 " not in f" {ip_row} "  # admissions and census 3 hidden


def test_unknown_metric_is_404_and_a_bad_date_is_refused(
    client: TestClient, make_user: Callable[..., Any], login: Login, imported: str
) -> None:
    make_user("lee", "leader")
    login("lee")
    assert client.get("/metrics/no_such_metric").status_code == 404
    assert client.get("/dashboard?period=March").status_code == 400
    assert client.get("/dashboard?period=2024-13").status_code == 400
    refused = client.get("/dashboard?from=2024-03-01&to=2024-03-20")
    assert refused.status_code == 400 and "Parameter &#39;from&#39; is not accepted" in refused.text


def test_managers_see_only_their_programs_and_leaders_all(
    client: TestClient, make_user: Callable[..., Any], login: Login, imported: str
) -> None:
    make_user("mara", "manager", program_ids=["op"])
    login("mara")
    page = _text(client.get("/programs/metrics").text)
    assert "North Outpatient" in page and "Harbor Inpatient" not in page and "All programs" not in page
    client.post("/logout", data={"csrf_token": _token(client)})
    make_user("lee", "leader")
    login("lee")
    page = _text(client.get("/programs/metrics").text)
    assert "North Outpatient" in page and "Harbor Inpatient" in page
    total = page.split("All programs")[1].split()
    # capacity 48, admissions 43, census (19) and occupancy suppressed (see the dashboard test), median and
    # p90 7 days, 100.0 %, 68.3 %
    assert total[:12] == [
        "48",
        "43",
        "suppressed",
        "suppressed",
        "7",
        "days",
        "7",
        "days",
        "100.0",
        "%",
        "68.3",
        "%",
    ]


def _token(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/programs/metrics").text)
    assert found
    return found.group(1)


def test_the_api_answers_in_the_cli_shape_with_suppression(
    client: TestClient, make_user: Callable[..., Any], login: Login, imported: str
) -> None:
    make_user("ann", "analyst")
    login("ann")
    body = client.get("/api/v1/metrics").json()
    assert set(body) == {"period", "metrics", "groups", "suppression"}
    assert dt.datetime.fromisoformat(body["period"].pop("computed_at")) <= dt.datetime.now(dt.UTC)
    assert body["period"] == {
        "period": "2024-Q1",
        "kind": "quarter",
        "title": "Q1 2024 (January-March)",
        "from": "2024-01-01",
        "to": "2024-03-31",
        "as_of": "2024-03-31",
        "data_end": "2024-03-31",
        "latest_event": "2024-04-02",
    }
    assert body["metrics"]["admissions"] == 43 and body["groups"] == []
    assert body["metrics"]["graduation_rate"] is None and "graduation_rate" in body["metrics"]["suppressed"]
    assert body["metrics"]["days_to_first_treatment_median"] == 7
    assert not any("__" in key for key in body["metrics"])
    assert body["suppression"]["marker"] == "suppressed"
    by_program = client.get("/api/v1/metrics", params={"by": "program"}).json()["groups"]
    ip = next(g for g in by_program if g["program_id"] == "ip")
    assert list(ip)[0] == "program_id" and "month" not in ip
    assert ip["admissions"] is None and "admissions" in ip["suppressed"]
    both = client.get("/api/v1/metrics", params={"by": "program,month", "period": "2024-Q1"}).json()
    assert both["period"]["from"] == "2024-01-01"
    assert {(g["program_id"], g["month"]) for g in both["groups"]} >= {
        ("op", "2024-02"),
        ("op", "2024-03"),
        ("ip", "2024-02"),
        ("ip", "2024-03"),
    }
    assert client.get("/api/v1/metrics", params={"by": "person"}).status_code == 400
    # as_of snaps to the last month end on or before it: 2024-03-10 is read as of 2024-02-29, when
    # nothing had happened yet, and only periods over by then are published (no quarter yet: the month)
    early = client.get("/api/v1/metrics", params={"as_of": "2024-03-10"}).json()
    assert early["period"]["as_of"] == "2024-02-29" and early["period"]["period"] == "2024-02"
    assert early["metrics"]["admissions"] == 0
    late = client.get("/api/v1/metrics", params={"as_of": "2024-03", "period": "2024-03"}).json()
    assert late["period"]["as_of"] == "2024-03-31" and late["metrics"]["admissions"] == 43


def test_the_cache_is_reused_until_a_new_import(
    client: TestClient, make_user: Callable[..., Any], login: Login, imported: str, tmp_path: Path
) -> None:
    make_user("lee", "leader")
    login("lee")
    assert "Admissions admissions 43" in _text(client.get("/dashboard").text)
    client.get("/metrics/admissions")
    client.get("/api/v1/metrics")
    cache: MetricsCache = client.app.state.metrics_cache  # type: ignore[attr-defined]
    assert cache.computed == 1  # one period, one data version: computed once, whatever the page
    load(imported, tmp_path / "v2", event_log(extra_op_people=20))
    assert "Admissions admissions 63" in _text(client.get("/dashboard").text)
    assert cache.computed == 2


def test_an_empty_database_says_there_is_nothing_yet(
    client: TestClient, make_user: Callable[..., Any], login: Login
) -> None:
    make_user("lee", "leader")
    login("lee")
    assert "No events recorded yet" in client.get("/dashboard").text
    assert client.get("/api/v1/metrics").status_code == 404


def test_synthetic_databases_are_labelled(
    client: TestClient, make_user: Callable[..., Any], login: Login, imported: str
) -> None:
    make_user("demo-leader", "leader")  # demo accounts mark a synthetic database (web/synthetic.py)
    login("demo-leader")
    assert "Synthetic data: these figures describe a simulated county." in client.get("/dashboard").text


def test_the_cache_computes_on_each_backend(database_url: str, tmp_path: Path) -> None:
    upgrade_database(database_url)
    load(database_url, tmp_path / "v1", event_log())
    engine = create_db_engine(database_url)
    cache = MetricsCache(database_url)
    try:
        with session_factory(engine)() as session:
            view = cache.view(session, PeriodQuery())
            again = cache.view(session, PeriodQuery(CalendarPeriod.quarter(2024, 1)))
    finally:
        engine.dispose()
    assert view is not None and again is view
    assert view.metrics["admissions"] == 43
    ip = next(g for g in view.by_program if g["program_id"] == "ip")
    assert "admissions" in ip["suppressed"] and ip["admissions"] is None


def test_a_serving_worker_settles_its_heap_after_each_new_cube(database_url: str, tmp_path: Path) -> None:
    """`after_new_cube` (a serving worker's `onward.web.interpreter.settle`) runs once per cube computed, not
    per view served from a cube already held."""
    upgrade_database(database_url)
    load(database_url, tmp_path / "v1", event_log())
    engine = create_db_engine(database_url)
    settled: list[int] = []
    cache = MetricsCache(database_url, after_new_cube=lambda: settled.append(cache.cubes_computed))
    try:
        with session_factory(engine)() as session:
            cache.view(session, PeriodQuery())
            cache.view(session, PeriodQuery(CalendarPeriod.quarter(2024, 1)))
    finally:
        engine.dispose()
    assert settled == [1] and cache.cubes_computed == 1


def _end_episode(session: Any, episode_id: str, day: dt.date) -> None:
    """A clinical write as the services make it: an episode ends (an update: no row count changes)."""
    from sqlalchemy import update

    from onward.store.tables import Episode

    session.execute(
        update(Episode).where(Episode.episode_id == episode_id).values(end_date=day, end_reason="graduated")
    )
    session.commit()


def test_clinical_writes_are_folded_in_by_a_background_refresh(database_url: str, tmp_path: Path) -> None:
    """The cube is served on after clinical writes until `refresh_seconds` pass, then recomputed once in
    the background; an import is published at once."""
    upgrade_database(database_url)
    load(database_url, tmp_path / "v1", event_log())
    engine = create_db_engine(database_url)
    cache = MetricsCache(database_url, refresh_seconds=3600)
    march = PeriodQuery(CalendarPeriod.month(2024, 3))
    try:
        with session_factory(engine)() as session:
            first = cache.view(session, march)
            assert first is not None and first.period["computed_at"].endswith("Z")
            _end_episode(session, "e-op30", D(2024, 3, 26))
            served = cache.view(session, march)  # written since, but the cube is fresh: served as it is
            assert served is first and cache.cubes_computed == 1 and cache._refreshing is None
            cache.refresh_seconds = 0  # recompute on every change: the next request computes
            now = cache.view(session, march)
            assert now is not None and now is not first and cache.cubes_computed == 2
            assert now.version == data_version(session) != first.version
            cache.refresh_seconds = 0.05
            _end_episode(session, "e-op31", D(2024, 3, 26))
            time.sleep(0.1)
            stale = cache.view(session, march)  # old enough: served once more while the refresh runs
            assert stale is now
            worker = cache._refreshing
            if worker is not None:
                worker.join(60)
            fresh = cache.view(session, march)
            assert fresh is not None and fresh.version == data_version(session) and cache.cubes_computed == 3
            cache.refresh_seconds = 3600
            load(database_url, tmp_path / "v2", event_log(extra_op_people=20))
            session.rollback()  # a new request reads a new snapshot
            published = cache.view(session, march)  # an import is a publication: at once
            assert published is not None and published.metrics["admissions"] == 63
    finally:
        engine.dispose()


def test_clinical_writes_are_looked_for_at_most_every_few_seconds_and_an_import_at_once(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting every event table on each request was a fifth of a metrics request's CPU under load: a
    process reads the counts at most every COUNT_SECONDS while figures may lag clinical writes anyway."""
    from onward.web import metrics_cache

    upgrade_database(database_url)
    load(database_url, tmp_path / "v1", event_log())
    engine = create_db_engine(database_url)
    cache = MetricsCache(database_url, refresh_seconds=3600)
    clock = [1000.0]
    monkeypatch.setattr("onward.web.metrics_cache.time.monotonic", lambda: clock[0])
    try:
        with session_factory(engine)() as session:
            first = cache.version(session)
            _end_episode(session, "e-op30", D(2024, 3, 26))
            assert cache.version(session) == first  # within the interval: the last reading
            clock[0] += metrics_cache.COUNT_SECONDS
            second = cache.version(session)
            assert second != first and second == data_version(session)  # read again: the write is seen
            load(database_url, tmp_path / "v2", event_log(extra_op_people=20))
            session.rollback()
            assert cache.version(session) == data_version(session) != second  # an import: at once
            cache.refresh_seconds = 0  # exact: every request reads the counts
            _end_episode(session, "e-op31", D(2024, 3, 26))
            assert cache.version(session) == data_version(session)
    finally:
        engine.dispose()
