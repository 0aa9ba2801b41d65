"""Load: 50 signed-in users against a real `onward serve` on the demo county, SQLite then PostgreSQL.

For each database: `onward demo --no-serve` builds the demo county (synthetic, 20,000 people over 3
years) in a fresh database, bench accounts are added through the users service (clinicians in the
busiest programs, people linked to people with episodes, managers, leaders, analysts, administrators,
council members), and `onward serve` starts as a subprocess on 127.0.0.1:8140 (PostgreSQL: 8141).
Every user signs in over the JSON API from its own loopback address (127.0.0.x; a clinic's staff share
no single address here), opens each of its routes once (the "first visit" rows: cold caches, several
users at once), then for SECONDS clicks a route drawn from ROUTES by weight, thinks THINK seconds, and
clicks again. Only loopback traffic; every loop stops at its deadline.

Targets (issue 7): p95 <= 200 ms, no errors, no lost writes. A write is lost when it answered 2xx and
is not in the database afterwards; reads of a person's record are writes too (each must leave its
audit row). `GET /api/v1/health` is in the mix as the floor: the same stack with almost no work.

Settings: ONWARD_BENCH_WEB_SECONDS (20), ONWARD_BENCH_WEB_THINK ("0.5,1.5" seconds, uniform),
ONWARD_BENCH_WEB_PEOPLE (demo people, 20000), ONWARD_BENCH_WEB_WORKERS (`onward serve --workers`, one
per core),
ONWARD_BENCH_WEB_BACKENDS ("sqlite,postgres"; PostgreSQL
runs when ONWARD_TEST_POSTGRES_URL is set), ONWARD_BENCH_WEB_SEED.
To add a route to the mix, add a row to ROUTES (a write also says how to find what it stored).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from onward.security.access import operator
from onward.services.accounts import accept_invitation, invite_person
from onward.services.users import CLINICAL_STAFF_ROLES, create_user
from onward.store.engine import create_db_engine, session_factory
from onward.store.tables import AuditEntry, Episode, Measurement, Program, Staff, User

OUTPUT = Path(__file__).parent / "output"
SECONDS = float(os.environ.get("ONWARD_BENCH_WEB_SECONDS", "20"))
THINK = tuple(float(x) for x in os.environ.get("ONWARD_BENCH_WEB_THINK", "0.5,1.5").split(","))
PEOPLE = int(os.environ.get("ONWARD_BENCH_WEB_PEOPLE", "20000"))
SEED = int(os.environ.get("ONWARD_BENCH_WEB_SEED", "7"))
#: One `onward serve` worker process per core by default (Python runs one thread at a time per process).
WORKERS = int(os.environ.get("ONWARD_BENCH_WEB_WORKERS", str(os.cpu_count() or 1)))
PORTS = {"sqlite": 8140, "postgres": 8141}
TARGET_P95_MS = 200.0
PASSWORD = "bench password " + secrets.token_urlsafe(12)

#: How many users of each role sign in (50 in all).
USERS: dict[str, int] = {
    "clinician": 15,
    "person": 10,
    "manager": 5,
    "leader": 8,
    "analyst": 6,
    "admin": 3,
    "council_member": 3,
}


@dataclass
class BenchUser:
    username: str
    role: str
    address: str  # loopback source address
    user_id: str = ""
    csrf: str = ""
    writes: int = 0
    clicks: int = 0
    episode_ids: list[str] = field(default_factory=list)  # a clinician's open episodes (primary)


@dataclass(frozen=True)
class Write:
    """How to send a write and how to find it in the database afterwards."""

    form: Callable[[BenchUser, int], dict[str, Any]]  # the form fields (or JSON body) of the n-th write
    key: Callable[[BenchUser, int, httpx.Response], str]  # what identifies the stored row
    stored: Callable[[Session, set[str]], set[str]]  # which of those keys are in the database
    json: bool = False  # send the body as JSON with the X-CSRF-Token header (the API), not a form


@dataclass(frozen=True)
class Route:
    """One kind of click: who makes it, how often (relative weight), and what it sends."""

    name: str
    roles: tuple[str, ...]
    weight: float
    path: str | Callable[[BenchUser, int], str]  # a path, or one made from the user and the click number
    method: str = "GET"
    audit_entity: str | None = None  # a 2xx must leave one audit row of this entity for the user
    write: Write | None = None


def _new_user_form(user: BenchUser, n: int) -> dict[str, str]:
    name = f"{user.username}-made-{n}"
    return {
        "username": name,
        "display_name": name,
        "role": "analyst",
        "password": secrets.token_urlsafe(18),
        "csrf_token": user.csrf,
    }


def _stored_usernames(session: Session, keys: set[str]) -> set[str]:
    return set(session.scalars(select(User.username).where(User.username.in_(keys))))


ADD_USER = Write(
    form=_new_user_form,
    key=lambda user, n, _response: f"{user.username}-made-{n}",
    stored=_stored_usernames,
)


def _measurement_body(user: BenchUser, n: int) -> dict[str, Any]:
    """A GAD-7 (seven answers 0-3) with answers varied by the click number."""
    return {"instrument": "gad7", "answers": [(n + i) % 4 for i in range(7)]}


def _stored_measurements(session: Session, keys: set[str]) -> set[str]:
    return set(
        session.scalars(select(Measurement.measurement_id).where(Measurement.measurement_id.in_(keys)))
    )


RECORD_MEASURE = Write(
    form=_measurement_body,
    key=lambda _user, _n, response: str(response.json()["measurement_id"]),
    stored=_stored_measurements,
    json=True,
)


def _episode_path(user: BenchUser, n: int) -> str:
    return f"/api/v1/episodes/{user.episode_ids[n % len(user.episode_ids)]}/measurements"


def _episode_page(user: BenchUser, n: int) -> str:
    return f"/episodes/{user.episode_ids[n % len(user.episode_ids)]}"


AGGREGATES = ("leader", "analyst")
EVERYONE = tuple(USERS)

ROUTES: list[Route] = [
    Route("caseload page", ("clinician",), 4, "/caseload", audit_entity="caseload"),
    Route("episode page", ("clinician",), 3, _episode_page),
    Route("clinician records a GAD-7", ("clinician",), 1, _episode_path, method="POST", write=RECORD_MEASURE),
    Route("own record page", ("person",), 4, "/me", audit_entity="person"),
    Route("programs page", ("manager",), 2, "/programs"),
    Route("program metrics page", ("manager",), 2, "/programs/metrics"),
    Route("dashboard", AGGREGATES, 3, "/dashboard"),
    Route("leader home (/system: the direction)", AGGREGATES, 2, "/system"),
    Route("targets page", ("leader", "manager"), 1, "/targets"),
    Route("API targets", AGGREGATES, 1, "/api/v1/targets"),
    Route("API metrics", AGGREGATES, 2, "/api/v1/metrics"),
    Route("API metrics by program", AGGREGATES, 1, "/api/v1/metrics?by=program"),
    Route("API programs", ("manager", "leader", "analyst", "admin"), 1, "/api/v1/programs"),
    Route("API me", EVERYONE, 1, "/api/v1/me"),
    Route("council page", ("council_member",), 3, "/council"),
    Route("admin users page", ("admin",), 2, "/admin/users"),
    Route("API users", ("admin",), 2, "/api/v1/users"),
    Route("admin adds a user", ("admin",), 0.5, "/admin/users", method="POST", write=ADD_USER),
    Route("health (floor)", EVERYONE, 0.5, "/api/v1/health"),
]


@dataclass
class Sample:
    route: str
    seconds: float
    status: int | str  # the HTTP status, or the client's error when there was no answer
    phase: str  # "first" or "load"


@dataclass
class Outcome:
    backend: str
    samples: list[Sample] = field(default_factory=list)
    writes_sent: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    audited_ok: Counter[tuple[str, str]] = field(default_factory=Counter)  # (user_id, entity) -> 2xx
    sign_in_seconds: float = 0.0
    sign_in_failures: Counter[int] = field(default_factory=Counter)  # status -> failed attempts
    lost_writes: int = 0
    missing_audit_rows: int = 0
    wall_seconds: float = 0.0


# --- set-up ----------------------------------------------------------------------------------------


def _onward(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "onward"), *args]


def _build_demo(url: str, data_dir: Path) -> float:
    started = time.perf_counter()
    env = {**os.environ, "ONWARD_DATA_DIR": str(data_dir)}
    subprocess.run(
        _onward("demo", "--no-serve", "--people", str(PEOPLE), "--db", url),
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _add_users(url: str) -> list[BenchUser]:
    """The bench accounts: staff through the users service (`onward users add`), each clinician linked to
    a staff member who is primary clinician on open episodes (so their caseload is their own), and
    people through a one-time invitation that the person accepts (`onward users invite`)."""
    engine = create_db_engine(url)
    users: list[BenchUser] = []
    setup = operator("bench")
    secret = secrets.token_urlsafe(32)  # the invitation links are used here, not by the server
    now = datetime.now(UTC)
    try:
        with session_factory(engine)() as session:
            open_count = func.count(Episode.episode_id)
            programs = list(
                session.scalars(
                    select(Program.program_id)
                    .outerjoin(
                        Episode, (Episode.program_id == Program.program_id) & Episode.end_date.is_(None)
                    )
                    .group_by(Program.program_id)
                    .order_by(open_count.desc(), Program.program_id)
                )
            )
            # Clinical staff without an account, the busiest (most open episodes as primary) first.
            open_primary = func.count(Episode.episode_id)
            clinicians = session.execute(
                select(Staff.staff_id, Staff.program_id)
                .outerjoin(Episode, (Episode.primary_staff_id == Staff.staff_id) & Episode.end_date.is_(None))
                .where(
                    Staff.role.in_(CLINICAL_STAFF_ROLES),
                    Staff.staff_id.not_in(select(User.staff_id).where(User.staff_id.is_not(None))),
                )
                .group_by(Staff.staff_id, Staff.program_id)
                .order_by(open_primary.desc(), Staff.staff_id)
                .limit(USERS["clinician"])
            ).all()
            people = list(
                session.scalars(
                    select(Episode.person_id)
                    .group_by(Episode.person_id)
                    .order_by(func.count(Episode.episode_id).desc(), Episode.person_id)
                    .limit(USERS["person"])
                )
            )
            index = 0
            for role, count in USERS.items():
                for n in range(count):
                    username = f"bench-{role.replace('_', '-')}-{n}"
                    index += 1
                    address = f"127.0.0.{10 + index}"
                    if role == "person":
                        link = invite_person(
                            session=session, actor=setup, secret_key=secret, person_id=people[n], now=now
                        )
                        user = accept_invitation(
                            session=session,
                            secret_key=secret,
                            token=link.token,
                            username=username,
                            password=PASSWORD,
                            now=now,
                        )
                        users.append(BenchUser(username, role, address, user_id=user.user_id))
                        continue
                    kwargs: dict[str, Any] = {}
                    episodes: list[str] = []
                    if role == "clinician":
                        staff_id, program_id = clinicians[n]
                        kwargs = {"program_ids": [program_id], "staff_id": staff_id}
                        episodes = list(
                            session.scalars(
                                select(Episode.episode_id)
                                .where(Episode.primary_staff_id == staff_id, Episode.end_date.is_(None))
                                .order_by(Episode.episode_id)
                            )
                        )
                    elif role == "manager":
                        kwargs["program_ids"] = programs[n % len(programs) :][:3]
                    user = create_user(
                        session=session,
                        username=username,
                        role=role,
                        password=PASSWORD,
                        display_name=username,
                        actor=setup,
                        **kwargs,
                    )
                    users.append(
                        BenchUser(username, role, address, user_id=user.user_id, episode_ids=episodes)
                    )
    finally:
        engine.dispose()
    return users


@contextmanager
def _server(url: str, port: int, log: Path) -> Iterator[str]:
    """`onward serve` in a subprocess, until the block ends; yields its base URL once it is healthy."""
    env = {**os.environ, "ONWARD_ENVIRONMENT": "development"}
    with log.open("w") as out:
        process = subprocess.Popen(
            _onward(
                "serve", "--db", url, "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)
            ),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"onward serve did not start; see {log}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --- load ------------------------------------------------------------------------------------------


def _client(base: str, user: BenchUser) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=user.address)
    return httpx.AsyncClient(base_url=base, transport=transport, timeout=30, follow_redirects=False)


SIGN_IN_AT_ONCE = int(os.environ.get("ONWARD_BENCH_WEB_SIGN_IN_AT_ONCE", "1"))
"""Sign-ins in flight together (set-up, not measured): people arrive over minutes, not in one instant."""


async def _sign_in(
    client: httpx.AsyncClient, user: BenchUser, gate: asyncio.Semaphore, outcome: Outcome
) -> None:
    """Sign in, retrying a failed attempt (counted) up to five times."""
    async with gate:
        for _attempt in range(5):
            response = await client.post(
                "/api/v1/session", json={"username": user.username, "password": PASSWORD}
            )
            if response.status_code == 200:
                user.csrf = response.json()["csrf_token"]
                return
            outcome.sign_in_failures[response.status_code] += 1
            await asyncio.sleep(0.5)
    raise RuntimeError(f"{user.username} could not sign in: {response.status_code} {response.text[:200]}")


async def _click(
    client: httpx.AsyncClient, user: BenchUser, route: Route, phase: str, outcome: Outcome
) -> None:
    data: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    headers: dict[str, str] = {}
    if route.write is not None:
        user.writes += 1
        if route.write.json:
            body = route.write.form(user, user.writes)
            headers["X-CSRF-Token"] = user.csrf
        else:
            data = route.write.form(user, user.writes)
    user.clicks += 1
    path = (
        route.path
        if isinstance(route.path, str)
        else route.path(user, user.writes if route.write is not None else user.clicks)
    )
    started = time.perf_counter()
    response: httpx.Response | None = None
    try:
        response = await client.request(route.method, path, data=data, json=body, headers=headers)
        status: int | str = response.status_code
    except httpx.HTTPError as error:
        status = type(error).__name__  # no answer: ConnectError, ReadTimeout, RemoteProtocolError ...
    outcome.samples.append(Sample(route.name, time.perf_counter() - started, status, phase))
    if isinstance(status, int) and 200 <= status < 300:
        if route.write is not None and response is not None:
            outcome.writes_sent[route.name].add(route.write.key(user, user.writes, response))
        if route.audit_entity is not None:
            outcome.audited_ok[(user.user_id, route.audit_entity)] += 1


async def _first_visits(
    client: httpx.AsyncClient, user: BenchUser, routes: list[Route], outcome: Outcome
) -> None:
    """Each of the user's routes once, everybody at once: cold caches and start-up stampedes show here."""
    for route in routes:
        await _click(client, user, route, "first", outcome)


async def _clicks(
    client: httpx.AsyncClient,
    user: BenchUser,
    routes: list[Route],
    deadline: float,
    rng: random.Random,
    outcome: Outcome,
) -> None:
    weights = [r.weight for r in routes]
    while True:
        await asyncio.sleep(rng.uniform(*THINK))
        if time.monotonic() >= deadline:
            return
        await _click(client, user, rng.choices(routes, weights)[0], "load", outcome)


def _serves(route: Route, user: BenchUser) -> bool:
    """A route is in a user's mix when their role uses it (and, for an episode route, they have one)."""
    needs_episode = route.path in (_episode_page, _episode_path)
    return user.role in route.roles and (bool(user.episode_ids) or not needs_episode)


async def _run_users(base: str, users: list[BenchUser], outcome: Outcome) -> None:
    rng = random.Random(SEED)
    routes = {u.username: [r for r in ROUTES if _serves(r, u)] for u in users}
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(_client(base, u)) for u in users]
        # Sign-ins hash passwords (Argon2id, deliberately slow): set-up, timed apart from the load.
        started = time.perf_counter()
        gate = asyncio.Semaphore(SIGN_IN_AT_ONCE)
        await asyncio.gather(*(_sign_in(c, u, gate, outcome) for c, u in zip(clients, users, strict=True)))
        outcome.sign_in_seconds = time.perf_counter() - started
        await asyncio.gather(
            *(_first_visits(c, u, routes[u.username], outcome) for c, u in zip(clients, users, strict=True))
        )
        deadline = time.monotonic() + SECONDS
        await asyncio.gather(
            *(
                _clicks(c, u, routes[u.username], deadline, random.Random(rng.random()), outcome)
                for c, u in zip(clients, users, strict=True)
            )
        )


# --- checks and report -----------------------------------------------------------------------------


def _verify(url: str, users: list[BenchUser], outcome: Outcome) -> None:
    """Lost writes: 2xx writes not stored, and 2xx reads of a person's record without their audit row."""
    engine = create_db_engine(url)
    try:
        with session_factory(engine)() as session:
            for route in ROUTES:
                if route.write is not None and outcome.writes_sent[route.name]:
                    keys = outcome.writes_sent[route.name]
                    outcome.lost_writes += len(keys - route.write.stored(session, keys))
            ids = [u.user_id for u in users]
            rows = session.execute(
                select(AuditEntry.user_id, AuditEntry.entity, func.count())
                .where(AuditEntry.user_id.in_(ids), AuditEntry.action == "read")
                .group_by(AuditEntry.user_id, AuditEntry.entity)
            )
            stored = {(str(u), str(e)): int(n) for u, e, n in rows}
            outcome.missing_audit_rows = sum(
                max(0, ok - stored.get(key, 0)) for key, ok in outcome.audited_ok.items()
            )
    finally:
        engine.dispose()


def _ok(status: int | str) -> bool:
    return isinstance(status, int) and 200 <= status < 400


def _percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if values else float("nan")


def _summary(outcome: Outcome) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {}
    load = [s for s in outcome.samples if s.phase == "load"]
    for phase, samples in (("load", load), ("first", [s for s in outcome.samples if s.phase == "first"])):
        by_route: dict[str, list[Sample]] = defaultdict(list)
        for sample in samples:
            by_route[sample.route].append(sample)
        for name, group in by_route.items():
            ms = [s.seconds * 1000 for s in group]
            statuses = Counter(s.status for s in group)
            rows[f"{phase}:{name}"] = {
                "phase": phase,
                "route": name,
                "requests": len(group),
                "errors": sum(n for code, n in statuses.items() if not _ok(code)),
                "statuses": {str(k): v for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))},
                "p50_ms": round(_percentile(ms, 50), 1),
                "p95_ms": round(_percentile(ms, 95), 1),
                "max_ms": round(max(ms), 1),
            }
    all_ms = [s.seconds * 1000 for s in load]
    errors = sum(1 for s in load if not _ok(s.status))
    return {
        "backend": outcome.backend,
        "users": sum(USERS.values()),
        "seconds": SECONDS,
        "think_seconds": list(THINK),
        "requests": len(load),
        "requests_per_second": round(len(load) / SECONDS, 1),
        "errors": errors,
        "p50_ms": round(_percentile(all_ms, 50), 1) if all_ms else None,
        "p95_ms": round(_percentile(all_ms, 95), 1) if all_ms else None,
        "lost_writes": outcome.lost_writes,
        "missing_audit_rows": outcome.missing_audit_rows,
        "writes_ok": sum(len(v) for v in outcome.writes_sent.values()),
        "audited_reads_ok": sum(outcome.audited_ok.values()),
        "sign_in_seconds": round(outcome.sign_in_seconds, 1),
        "sign_in_failures": {str(k): v for k, v in sorted(outcome.sign_in_failures.items())},
        "routes": rows,
    }


def _print(summary: dict[str, Any]) -> None:
    print(
        f"\n{summary['backend']}: {summary['users']} users, {summary['seconds']:g} s, think "
        f"{summary['think_seconds'][0]:g}-{summary['think_seconds'][1]:g} s: {summary['requests']} requests, "
        f"{summary['requests_per_second']} req/s, {summary['errors']} errors, p50 {summary['p50_ms']} ms, "
        f"p95 {summary['p95_ms']} ms (target <= {TARGET_P95_MS:g}); writes 2xx {summary['writes_ok']}, "
        f"lost {summary['lost_writes']}; audited reads 2xx {summary['audited_reads_ok']}, "
        f"without audit row {summary['missing_audit_rows']}; 50 sign-ins {summary['sign_in_seconds']} s "
        f"(failed attempts, retried: {summary['sign_in_failures'] or 'none'})",
        flush=True,
    )
    header = ("phase", "route", "requests", "errors", "p50 ms", "p95 ms", "max ms")
    print("{:<6} {:<24} {:>8} {:>6} {:>8} {:>8} {:>8}  statuses".format(*header))
    for row in sorted(summary["routes"].values(), key=lambda r: (r["phase"] != "load", r["route"])):
        cells = [row[k] for k in ("phase", "route", "requests", "errors", "p50_ms", "p95_ms", "max_ms")]
        print("{:<6} {:<24} {:>8} {:>6} {:>8.1f} {:>8.1f} {:>8.1f}  ".format(*cells) + str(row["statuses"]))


def run_backend(backend: str, url: str, folder: Path) -> dict[str, Any]:
    """Build the demo county at `url`, serve it, load it, check the writes; returns the summary."""
    started = time.perf_counter()
    print(f"{backend}: building the demo county ({PEOPLE:,} people) ...", flush=True)
    built = _build_demo(url, folder)
    users = _add_users(url)
    print(f"{backend}: demo built in {built:.1f} s; {len(users)} bench users added", flush=True)
    outcome = Outcome(backend)
    with _server(url, PORTS[backend], OUTPUT / f"bench_web-{backend}-server.log") as base:
        asyncio.run(_run_users(base, users, outcome))
    _verify(url, users, outcome)
    outcome.wall_seconds = time.perf_counter() - started
    summary = _summary(outcome)
    _print(summary)
    return summary


@contextmanager
def _postgres_database(base: str) -> Iterator[str]:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"onward_bench_web_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    OUTPUT.mkdir(exist_ok=True)
    wanted = os.environ.get("ONWARD_BENCH_WEB_BACKENDS", "sqlite,postgres").split(",")
    postgres = os.environ.get("ONWARD_TEST_POSTGRES_URL")
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="onward-bench-web-") as tmp:
        if "sqlite" in wanted:
            folder = Path(tmp) / "sqlite"
            results.append(
                run_backend("sqlite", f"sqlite:///{(folder / 'onward.sqlite').as_posix()}", folder)
            )
        if "postgres" in wanted:
            if not postgres:
                print("postgres: skipped (ONWARD_TEST_POSTGRES_URL is not set)")
            else:
                with _postgres_database(postgres) as url:
                    results.append(run_backend("postgres", url, Path(tmp) / "postgres"))
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    (OUTPUT / "bench_web.json").write_text(json.dumps({"measured": stamp, "results": results}, indent=1))


if __name__ == "__main__":
    main()
