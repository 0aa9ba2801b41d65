"""The attack issue 7 measured, done properly: difference everything the API publishes for a year.

Today's reproduction asked `/api/v1/metrics?from=2025-03-01&to=2025-03-30` and `...&to=2025-03-31` and
subtracted: two admissions on one day. Ranges are now refused. The stronger attacker here signs in as an
analyst, downloads every answer for 2025 (12 months, 4 quarters, the year; overall, by program, by month,
by program and month), and writes every relation a reader who knows the definitions can use: months add
up to quarters and the year, programs to the total, a quarter's census is its last month's, census(t) =
census(t-1) + admissions(t) - discharges(t) through four unseen flows per program and month (stayed,
left, admitted and left, admitted and stayed), and graduated = graduation rate x discharges. A linear
program then bounds every hidden count; none may be pinned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse  # type: ignore[import-untyped]
from fastapi.testclient import TestClient
from httpx import Response
from scipy.optimize import linprog  # type: ignore[import-untyped]

from onward.interop.extracts import import_extract
from onward.interop.files import arrow_schema, write_table
from onward.metrics.backends import open_event_log
from onward.metrics.period import CalendarPeriod
from onward.metrics.publish import ALL, publish
from onward.security.suppression import is_small

Login = Callable[..., Response]
D = dt.date
MONTHS = [CalendarPeriod.month(2025, m) for m in range(1, 13)]
QUARTERS = [CalendarPeriod.quarter(2025, q) for q in range(1, 5)]
YEAR = CalendarPeriod.year(2025)
PERIODS = [YEAR, *QUARTERS, *MONTHS]
PROGRAMS = ("north", "south", "harbor")
COUNTS = ("admissions", "discharges", "active_census")


def _log() -> dict[str, pa.Table]:
    """Two large outpatient programs and a small inpatient one over 2025, one service in January 2026
    (so December is over and the whole year is published)."""
    episodes: list[dict[str, Any]] = []
    for month in range(1, 13):
        plan = {"north": 30 + month % 5, "south": 18 + month % 3, "harbor": 1 + month % 4}
        stays = {"north": 45, "south": 70, "harbor": 12}
        for program, n in plan.items():
            for i in range(n):
                start = D(2025, month, 1 + (7 * i) % 28)
                end = start + dt.timedelta(days=stays[program] + i % 9)
                k = len(episodes)
                episodes.append(
                    {
                        "episode_id": f"e{k}",
                        "person_id": f"p{k}",
                        "program_id": program,
                        "referral_id": None,
                        "start_date": start,
                        "planned_end_date": None,
                        "end_date": end if end <= D(2026, 1, 2) else None,
                        "end_reason": ("graduated" if k % 3 else "disengaged")
                        if end <= D(2026, 1, 2)
                        else None,
                        "is_sud": False,
                    }
                )
    services: dict[str, list[Any]] = {name: [] for name in arrow_schema("services").names}
    for k, e in enumerate([*episodes[:1], *episodes]):
        row = {
            "service_id": f"s{k}",
            "person_id": e["person_id"],
            "episode_id": e["episode_id"],
            "staff_id": None,
            "service_date": e["start_date"] + dt.timedelta(days=3) if k else D(2026, 1, 5),
            "code": "90837",
            "minutes": 50,
            "category": "treatment",
        }
        for key, value in row.items():
            services[key].append(value)
    columns: dict[str, dict[str, list[Any]]] = {
        "people": {
            "person_id": [e["person_id"] for e in episodes],
            "birth_year": [1985] * len(episodes),
            "sex": ["female"] * len(episodes),
            "postcode_prefix": ["981"] * len(episodes),
            "school_grade": [None] * len(episodes),
            "pregnancy_due_date": [None] * len(episodes),
        },
        "programs": {
            "program_id": list(PROGRAMS),
            "name": ["North Outpatient", "South Outpatient", "Harbor Inpatient"],
            "kind": ["outpatient", "outpatient", "inpatient"],
            "level_of_care": [1, 1, 4],
            "capacity_slots": [80, 80, 12],
        },
        "episodes": {key: [e.get(key) for e in episodes] for key in arrow_schema("episodes").names},
        "services": services,
    }
    return {name: pa.table(cols, schema=arrow_schema(name)) for name, cols in columns.items()}


@pytest.fixture
def county(db_url: str, tmp_path: Path) -> str:
    folder = tmp_path / "extract"
    for name, table in _log().items():
        write_table(table, folder, name, "parquet")
    import_extract(folder, db_url, progress=False)
    return db_url


def test_the_reported_ranges_are_refused_by_name(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: str
) -> None:
    make_user("ann", "analyst")
    login("ann")
    for params in ({"from": "2025-03-01", "to": "2025-03-30"}, {"from": "2025-03-01", "to": "2025-03-31"}):
        answer = client.get("/api/v1/metrics", params=params)
        assert answer.status_code == 400
        body = answer.json()
        assert "parameter 'from' is not accepted" in body["detail"]
        assert "YYYY-MM (a month), YYYY-Qn (a quarter, n = 1-4) or YYYY (a year)" in body["detail"]
    assert "parameter 'to'" in client.get("/api/v1/metrics", params={"to": "2025-03-30"}).json()["detail"]
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/api/v1/metrics"]["get"]
    documented = {p["name"]: p for p in operation["parameters"]}
    assert documented["from"]["deprecated"] and "Refused" in documented["from"]["description"]
    assert "YYYY-Qn" in documented["period"]["description"]
    assert "from" in operation["responses"]["400"]["description"]


@pytest.mark.slow
def test_nothing_published_for_a_year_pins_a_small_count(
    client: TestClient, make_user: Callable[..., Any], login: Login, county: str
) -> None:
    make_user("ann", "analyst")
    login("ann")
    seen: dict[tuple[str, str, str], Any] = {}  # (series, row, period label) -> published value
    graduation: dict[tuple[str, str], float] = {}  # (row, period label) -> shown graduation rate
    for period in PERIODS:
        for by in (None, "program", "month", "program,month"):
            params = {"period": period.label, **({"by": by} if by else {})}
            answer = client.get("/api/v1/metrics", params=params)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["period"]["period"] == period.label and body["period"]["as_of"] == "2025-12-31"
            rows = [(ALL, period.label, body["metrics"])]
            for g in body["groups"]:
                if by and "program" in by and g["program_id"] is None:
                    continue  # items without a program: none in this county (all zero)
                rows.append((g.get("program_id") or ALL, g.get("month") or period.label, g))
            for row, label, values in rows:
                for series in COUNTS:
                    _record(seen, (series, row, label), values[series])
                if values["graduation_rate"] is not None:
                    graduation[(row, label)] = values["graduation_rate"]
    truth = publish(open_event_log(db=county), suppress=False)
    assert truth.as_of == D(2025, 12, 31)
    # Every shown value is the true one, and none is from 1 to 10.
    for (series, row, label), value in seen.items():
        exact = int(truth.counts[series][truth.rows.index(row), truth.index[CalendarPeriod.parse(label)]])
        assert value is None or (value == exact and not is_small(value)), (series, row, label, value)
    small_hidden = [k for k, v in seen.items() if v is None and _exact(truth, k) <= 10]
    assert small_hidden, "the fixture must hold small cells for the attack to mean anything"
    pinned = _attack(truth, seen, graduation)
    assert pinned == []
    # The attack has teeth: had each small cell been hidden alone, it would pin them.
    naive = {key: (None if is_small(_exact(truth, key)) else _exact(truth, key)) for key in seen}
    assert any(key[0] == "admissions" for key in naive if naive[key] is None)
    assert _attack(truth, naive, {})


def _record(seen: dict[tuple[str, str, str], Any], key: tuple[str, str, str], value: Any) -> None:
    if key in seen:  # the same cell in two answers must read the same
        assert seen[key] == value, (key, seen[key], value)
    seen[key] = value


def _exact(truth: Any, key: tuple[str, str, str]) -> int:
    series, row, label = key
    return int(truth.counts[series][truth.rows.index(row), truth.index[CalendarPeriod.parse(label)]])


def _attack(
    truth: Any, seen: dict[tuple[str, str, str], Any], graduation: dict[tuple[str, str], float]
) -> list[str]:
    """Hidden counts whose feasible range, given everything seen, is narrower than 1."""
    rows = [*PROGRAMS, ALL]
    names: dict[tuple[Any, ...], int] = {}
    values: list[float] = []
    known: dict[int, float] = {}

    def var(key: tuple[Any, ...], value: float) -> int:
        if key not in names:
            names[key] = len(values)
            values.append(value)
        return names[key]

    def cell(series: str, row: str, period: CalendarPeriod) -> int:
        key = (series, row, period.label)
        if series == "graduated":
            exact = truth.counts["graduation_rate.numerator"][truth.rows.index(row), truth.index[period]]
            return var(key, float(exact))
        i = var(key, float(_exact(truth, key)))
        if seen.get(key) is not None:
            known[i] = float(seen[key])
        return i

    equations: list[dict[int, float]] = []

    def relation(terms: list[tuple[int, float]]) -> None:
        row: dict[int, float] = {}
        for i, c in terms:
            row[i] = row.get(i, 0.0) + c
        equations.append(row)

    for series in (*COUNTS, "graduated"):
        for period in PERIODS:
            relation([(cell(series, r, period), 1.0) for r in PROGRAMS] + [(cell(series, ALL, period), -1.0)])
            if period.kind == "month":
                continue
            children = QUARTERS if period.kind == "year" else period.months()
            for row in rows:
                if series == "active_census":
                    parts = [cell(series, row, period.months()[-1])]
                else:
                    parts = [cell(series, row, p) for p in children]
                relation([(i, 1.0) for i in parts] + [(cell(series, row, period), -1.0)])
    for (row, label), rate in graduation.items():
        period = CalendarPeriod.parse(label)
        relation([(cell("graduated", row, period), 1.0), (cell("discharges", row, period), -rate)])
    for period in PERIODS:
        for row in rows:  # graduated <= discharges, as a slack variable
            slack = var(("not graduated", row, period.label), 0.0)
            values[slack] = values[cell("discharges", row, period)] - values[cell("graduated", row, period)]
            relation(
                [(cell("graduated", row, period), 1.0), (slack, 1.0), (cell("discharges", row, period), -1.0)]
            )
    for program in PROGRAMS:
        for m, month in enumerate(MONTHS):
            start = cell("active_census", program, MONTHS[m - 1]) if m else var(("zero",), 0.0)
            if not m:
                known[start] = 0.0
            end, admitted = cell("active_census", program, month), cell("admissions", program, month)
            left_total = cell("discharges", program, month)
            # The unseen flows; their true values only matter as a feasible point.
            started = values[start]
            left_stock = min(started, values[left_total])
            flows = {
                "stayed": started - left_stock,
                "left": left_stock,
                "quick": values[left_total] - left_stock,
                "kept": values[admitted] - (values[left_total] - left_stock),
            }
            ids = {name: var((name, program, month.label), value) for name, value in flows.items()}
            relation([(ids["stayed"], 1.0), (ids["left"], 1.0), (start, -1.0)])
            relation([(ids["quick"], 1.0), (ids["kept"], 1.0), (admitted, -1.0)])
            relation([(ids["left"], 1.0), (ids["quick"], 1.0), (left_total, -1.0)])
            relation([(ids["stayed"], 1.0), (ids["kept"], 1.0), (end, -1.0)])
    unknown = [i for i in range(len(values)) if i not in known]
    column = {i: k for k, i in enumerate(unknown)}
    at_rows: list[int] = []
    at_cols: list[int] = []
    coefficients: list[float] = []
    b_eq: list[float] = []
    for equation in equations:
        constant = sum(-c * known[i] for i, c in equation.items() if i in known)
        terms = [(column[i], c) for i, c in equation.items() if i in column]
        if not terms:
            assert abs(constant) < 1e-6
            continue
        for k, c in terms:
            at_rows.append(len(b_eq))
            at_cols.append(k)
            coefficients.append(c)
        b_eq.append(constant)
    a_eq = scipy.sparse.csr_matrix((coefficients, (at_rows, at_cols)), shape=(len(b_eq), len(unknown)))
    pinned = []
    for key, value in seen.items():
        if value is not None:
            continue
        i = names[key]
        objective = np.zeros(len(unknown))
        objective[column[i]] = 1.0
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert high.status in (0, 3), high.message
        top = float("inf") if high.status == 3 else -high.fun
        if top >= values[i] + 1 - 1e-6:
            continue
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert low.status == 0, low.message
        if top - low.fun < 1 - 1e-6:
            pinned.append(f"{key} = {values[i]:g} pinned to [{low.fun:g}, {top:g}]")
    return pinned
