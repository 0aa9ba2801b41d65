"""Skills metrics on the metric backends: coverage, lessons delivered, attendance, perinatal screening,
follow-up of positive screens, and perinatal depression with and without the course (docs/metrics.md,
"Skills metrics").

The skills tables (cohorts, planned and delivered lessons, attendance, EPDS screens) sit beside the event
log: in the live database, or as optional files of the same names in an extract folder (a folder without
them has no skills activity). They are attached to an opened event log on its own backend, so the same
Ibis expressions run on DuckDB, SQLite, PostgreSQL and PySpark. Every figure is a count or a rate with
its numerator and denominator, per program; suppression is applied where figures are published (the
coverage page), not here.

The comparison of perinatal depression between parents who took most of the prenatal course and those
who did not is OBSERVATIONAL: parents choose whether to come, so the difference is not the course's
effect (docs/metrics.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from onward.metrics.backends import EventLog, fetch_arrow, quiet_engine_warnings, small_table
from onward.metrics.period import Period
from onward.metrics.scope import TREATMENT_CATEGORIES, make_scope

#: Columns the metrics read from each skills table, with their types.
SKILLS_SCHEMAS: dict[str, dict[str, str]] = {
    "cohorts": {
        "cohort_id": "string",
        "kind": "string",
        "program_id": "string",
        "person_id": "string",
        "birth_date": "date",
    },
    "skills_sessions": {
        "session_id": "string",
        "cohort_id": "string",
        "lesson_id": "string",
        "planned_on": "date",
        "delivered_on": "date",
    },
    "skills_attendance": {"session_id": "string", "member_id": "string", "present": "boolean"},
    "perinatal_screens": {
        "screen_id": "string",
        "person_id": "string",
        "cohort_id": "string",
        "screened_on": "date",
        "positive": "boolean",
    },
}
_ARROW = {"string": pa.string(), "date": pa.date32(), "boolean": pa.bool_(), "int64": pa.int64()}

PROBABLE_DEPRESSION = 13  # EPDS (Cox et al. 1987; docs/references.md)
FOLLOW_UP_DAYS = 14
TOOK_COURSE_LESSONS = 5  # at least half of the 10 prenatal lessons, attended
WINDOW_DAYS = 365  # perinatal depression: the 12 months after birth (ACOG CO 757)

SKILLS_METRICS: dict[str, str] = {
    "skills_lessons_due": "Lessons planned in the period whose day has come (by data_end)",
    "skills_lessons_delivered": "Of those, lessons logged as delivered",
    "skills_coverage": "Lessons delivered / lessons due",
    "skills_sessions_delivered": "Lessons delivered in the period (delivered_on in the period)",
    "skills_attendance": "Members present / members listed, at lessons delivered in the period",
    "perinatal_screening_rate": "Parents with a perinatal lesson due in the period who had an EPDS in it",
    "perinatal_followup_14d": "Positive EPDS screens in the period (14 days observed) followed within "
    "14 days by a referral or a treatment service",
    "perinatal_depression_course": "OBSERVATIONAL: EPDS >= 13 within 12 months of birth, parents who "
    "attended >= 5 prenatal lessons (of those screened after the birth)",
    "perinatal_depression_no_course": "OBSERVATIONAL: the same, parents who attended fewer than 5",
}


@dataclass(frozen=True, slots=True)
class SkillsFigure:
    numerator: int
    denominator: int | None  # None for plain counts

    @property
    def value(self) -> float | int | None:
        if self.denominator is None:
            return self.numerator
        return self.numerator / self.denominator if self.denominator else None


@dataclass(frozen=True, slots=True)
class SkillsMetrics:
    start: date
    end: date
    data_end: date
    backend: str
    overall: dict[str, SkillsFigure]
    by_program: dict[str, dict[str, SkillsFigure]]


def _empty(log: EventLog, name: str) -> Any:
    schema = pa.schema([pa.field(c, _ARROW[t]) for c, t in SKILLS_SCHEMAS[name].items()])
    return (
        small_table(log, schema.empty_table())
        if log.backend == "duckdb"
        else ibis.memtable(schema.empty_table())
    )


def _from_folder(log: EventLog, folder: Path, name: str) -> Any:
    columns = SKILLS_SCHEMAS[name]
    for suffix in (".parquet", ".csv"):
        path = folder / f"{name}{suffix}"
        if not path.is_file():
            continue
        if log.backend == "pyspark":
            session = log.connection._session
            frame = (
                session.read.parquet(str(path))
                if suffix == ".parquet"
                else session.read.csv(str(path), header=True, inferSchema=False)
            )
            view = f"onward_skills_{name}"
            frame.createOrReplaceTempView(view)
            table = log.connection.table(view)
        elif suffix == ".parquet":
            table = log.connection.read_parquet(str(path), table_name=f"skills_{name}")
        else:
            table = log.connection.read_csv(str(path), table_name=f"skills_{name}", header=True)
        return table.select(*[table[c].cast(t).name(c) for c, t in columns.items()])
    return _empty(log, name)


def _from_database(log: EventLog, url: str, name: str) -> Any:
    """A skills table of the live database as Arrow, registered on the log's DuckDB connection."""
    from sqlalchemy import column, select, table

    from onward.store.engine import create_db_engine

    columns = SKILLS_SCHEMAS[name]
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            rows: list[Any] = list(
                connection.execute(select(*[column(c) for c in columns]).select_from(table(name)))
            )
    finally:
        engine.dispose()
    arrays = []
    for i, (_, kind) in enumerate(columns.items()):
        values = [row[i] for row in rows]
        if kind == "date":
            values = [
                v if v is None or isinstance(v, date) else date.fromisoformat(str(v)[:10]) for v in values
            ]
        if kind == "boolean":
            values = [None if v is None else bool(v) for v in values]
        arrays.append(pa.array(values, _ARROW[kind]))
    return small_table(log, pa.Table.from_arrays(arrays, names=list(columns)))


def attach_skills_tables(log: EventLog, *, data: Path | None = None, db: str | None = None) -> dict[str, Any]:
    """The skills tables on the log's backend: the live database's own tables on SQLite/PostgreSQL, a copy
    next to the event log's copy on DuckDB, or the extract folder's optional files."""
    out = {}
    for name, columns in SKILLS_SCHEMAS.items():
        if log.backend in ("sqlite", "postgres"):
            table = log.connection.table(name)
            out[name] = table.select(*[table[c].cast(t).name(c) for c, t in columns.items()])
        elif data is not None:
            out[name] = _from_folder(log, data, name)
        elif db is not None:
            out[name] = _from_database(log, db, name)
        else:
            out[name] = _empty(log, name)
    return out


def compute_skills_metrics(
    log: EventLog, *, period: Period, data: Path | None = None, db: str | None = None
) -> SkillsMetrics:
    """Every skills metric over the period, overall and per program (the cohort's program)."""
    with quiet_engine_warnings():
        scope = make_scope(log, period, ("program",))
        t = attach_skills_tables(log, data=data, db=db)
        rows: dict[str, list[dict[str, Any]]] = {
            name: _run(expr, log) for name, expr in _tallies(scope, t).items()
        }
    p = scope.period
    overall: dict[str, SkillsFigure] = {}
    by_program: dict[str, dict[str, SkillsFigure]] = {}
    for key, (num, den) in _PARTS.items():
        total_n = total_d = 0
        for row in rows[key]:
            n, d = int(row[num] or 0), (int(row[den] or 0) if den else None)
            total_n += n
            total_d += d or 0
            by_program.setdefault(row["program_id"], {})[key] = SkillsFigure(n, d)
        overall[key] = SkillsFigure(total_n, total_d if den else None)
    for figures in by_program.values():
        for key, (_, den) in _PARTS.items():
            figures.setdefault(key, SkillsFigure(0, 0 if den else None))
    return SkillsMetrics(p.start, p.end, p.data_end, log.backend, overall, dict(sorted(by_program.items())))


def _run(expr: Any, log: EventLog) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = fetch_arrow(expr, log).to_pylist()
    return rows


#: metric key -> (numerator column, denominator column or None) in its tally.
_PARTS: dict[str, tuple[str, str | None]] = {
    "skills_lessons_due": ("due", None),
    "skills_lessons_delivered": ("delivered", None),
    "skills_coverage": ("delivered", "due"),
    "skills_sessions_delivered": ("delivered", None),
    "skills_attendance": ("present", "listed"),
    "perinatal_screening_rate": ("screened", "parents"),
    "perinatal_followup_14d": ("followed", "positive"),
    "perinatal_depression_course": ("depressed", "screened"),
    "perinatal_depression_no_course": ("depressed", "screened"),
}


def _tallies(scope: Any, t: dict[str, Any]) -> dict[str, Any]:
    start, end, data_end = scope.start, scope.end, scope.data_end
    cohorts, sessions = t["cohorts"], t["skills_sessions"]
    s = sessions.join(cohorts, sessions.cohort_id == cohorts.cohort_id)
    due = s.filter((s.planned_on >= start) & (s.planned_on <= end) & (s.planned_on <= data_end))
    delivered_by_end = due.delivered_on.notnull() & (due.delivered_on <= data_end)
    coverage = due.group_by("program_id").aggregate(
        due=due.count(), delivered=delivered_by_end.ifelse(1, 0).sum()
    )
    lessons_due = coverage.select("program_id", due="due", delivered="delivered")
    given = s.filter(s.delivered_on.notnull() & (s.delivered_on >= start) & (s.delivered_on <= end))
    sessions_delivered = given.group_by("program_id").aggregate(delivered=given.count())
    att = t["skills_attendance"]
    a = given.join(att, given.session_id == att.session_id)
    attendance = a.group_by("program_id").aggregate(present=a.present.ifelse(1, 0).sum(), listed=a.count())

    measurements = scope.tables["measurements"]
    epds = measurements.filter(measurements.instrument == "epds")
    parents = cohorts.filter(cohorts.kind == "parent")
    active = (
        s.filter(
            (s.kind == "parent")
            & (s.planned_on >= start)
            & (s.planned_on <= end)
            & (s.planned_on <= data_end)
        )
        .select("cohort_id", "program_id", "person_id")
        .distinct()
    )
    in_period = epds.filter((epds.measured_on >= start) & (epds.measured_on <= end))
    screened_people = in_period.select(screened_person=in_period.person_id).distinct()
    sp = active.left_join(screened_people, active.person_id == screened_people.screened_person)
    screening = sp.group_by("program_id").aggregate(
        parents=sp.count(), screened=sp.screened_person.notnull().ifelse(1, 0).sum()
    )

    screens = t["perinatal_screens"]
    screen_program = screens.join(cohorts, screens.cohort_id == cohorts.cohort_id)
    positive = (
        screen_program.filter(
            screen_program.positive
            & (screen_program.screened_on >= start)
            & (screen_program.screened_on <= end)
            & (data_end.delta(screen_program.screened_on, unit="day") >= FOLLOW_UP_DAYS)
        )
        .select("screen_id", "program_id", "screened_on", screen_person=screen_program.person_id)
        .distinct()
    )
    referrals, services = scope.tables["referrals"], scope.tables["services"]
    contacts = referrals.select(c_person=referrals.person_id, c_day=referrals.referral_date).union(
        services.filter(services.category.isin(TREATMENT_CATEGORIES)).select(
            c_person=services.person_id, c_day=services.service_date
        )
    )
    pc = positive.join(contacts, positive.screen_person == contacts.c_person)
    gap = pc.c_day.delta(pc.screened_on, unit="day")
    hits = pc.filter((gap >= 0) & (gap <= FOLLOW_UP_DAYS)).select(hit_screen=pc.screen_id).distinct()
    ph = positive.left_join(hits, positive.screen_id == hits.hit_screen)
    followup = ph.group_by("program_id").aggregate(
        positive=ph.count(), followed=ph.hit_screen.notnull().ifelse(1, 0).sum()
    )

    born = parents.filter(
        parents.birth_date.notnull()
        & (parents.birth_date >= start)
        & (parents.birth_date <= end)
        & (data_end.delta(parents.birth_date, unit="day") >= WINDOW_DAYS)
    )
    prenatal = s.filter(s.lesson_id.startswith("prenatal") & s.delivered_on.notnull())
    pa_ = prenatal.join(att, prenatal.session_id == att.session_id).filter(lambda r: r.present)
    attended = pa_.group_by(took_cohort=pa_.cohort_id).aggregate(lessons=pa_.count())
    be = born.join(epds, born.person_id == epds.person_id)
    after = be.measured_on.delta(be.birth_date, unit="day")
    within = be.filter((after >= 0) & (after <= WINDOW_DAYS))
    per_parent = within.group_by("cohort_id", "program_id").aggregate(worst=within.score.max())
    pp = per_parent.left_join(attended, per_parent.cohort_id == attended.took_cohort)
    took = pp.lessons.fill_null(0) >= TOOK_COURSE_LESSONS

    def group(course: bool) -> Any:
        chosen = pp.filter(took if course else ~took)
        flag = (chosen.worst >= PROBABLE_DEPRESSION).ifelse(1, 0)
        return chosen.group_by("program_id").aggregate(screened=chosen.count(), depressed=flag.sum())

    return {
        "skills_lessons_due": lessons_due,
        "skills_lessons_delivered": lessons_due,
        "skills_coverage": coverage,
        "skills_sessions_delivered": sessions_delivered,
        "skills_attendance": attendance,
        "perinatal_screening_rate": screening,
        "perinatal_followup_14d": followup,
        "perinatal_depression_course": group(True),
        "perinatal_depression_no_course": group(False),
    }
