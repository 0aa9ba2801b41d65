from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from onward.interop.files import arrow_schema, write_table
from onward.model.eventlog import EVENT_LOG, TABLES
from onward.model.instruments import INSTRUMENTS
from onward.model.service_codes import default_catalog
from onward.sim.engine import run
from onward.sim.eventlog import to_event_log
from onward.sim.result import RunResult
from onward.sim.scenario import load_scenario

START = date(2024, 1, 1)
YEARS = 3


@pytest.fixture(scope="module")
def result() -> RunResult:
    return run(load_scenario("status-quo"), people=6_000, years=YEARS, seed=5, record_events=True)


@pytest.fixture(scope="module")
def log(result: RunResult) -> dict[str, pa.Table]:
    return to_event_log(result, start=START)


def _py(table: pa.Table, column: str) -> list[object]:
    values: list[object] = table.column(column).to_pylist()
    return values


def test_every_table_matches_the_contract(log: dict[str, pa.Table]) -> None:
    _check_contract(log)


def test_a_weekly_run_writes_a_valid_log_with_monthly_measurement_rates(log: dict[str, pa.Table]) -> None:
    weekly = run(
        load_scenario("status-quo"), people=6_000, years=YEARS, seed=5, step="week", record_events=True
    )
    tables = to_event_log(weekly, start=START)
    _check_contract(tables)
    ratio = tables["measurements"].num_rows / log["measurements"].num_rows
    assert 0.8 < ratio < 1.25  # measured about monthly whatever the step


def _check_contract(log: dict[str, pa.Table]) -> None:
    assert list(log) == [t.name for t in EVENT_LOG]
    for spec in EVENT_LOG:
        table = log[spec.name]
        assert table.schema.equals(arrow_schema(spec)), spec.name
        assert table.num_rows > 0, spec.name
        ids = table.column(spec.key)
        assert pc.count_distinct(ids).as_py() == table.num_rows, f"{spec.name} ids repeat"
        for column in spec.columns:
            values = table.column(column.name)
            if not column.nullable:
                assert values.null_count == 0, f"{spec.name}.{column.name} has nulls"
            if column.choices is not None:
                seen = set(pc.unique(values.drop_null()).to_pylist())
                assert seen <= set(column.choices), f"{spec.name}.{column.name}: {seen - set(column.choices)}"
            if column.minimum is not None and len(values.drop_null()):
                assert pc.min(values).as_py() >= column.minimum, f"{spec.name}.{column.name}"
            if column.maximum is not None and len(values.drop_null()):
                assert pc.max(values).as_py() <= column.maximum, f"{spec.name}.{column.name}"
            if column.references is not None:
                target_table, target_column = column.references.split(".")
                target = set(_py(log[target_table], target_column))
                missing = set(values.drop_null().to_pylist()) - target
                assert not missing, f"{spec.name}.{column.name} → {column.references}: {list(missing)[:3]}"


def test_dates_fall_inside_the_simulated_period(log: dict[str, pa.Table]) -> None:
    end = date(START.year + YEARS, 1, 1)
    services = log["services"].column("service_date")
    assert pc.min(services).as_py() >= START and pc.max(services).as_py() < end
    for name, column in (
        ("referrals", "referral_date"),
        ("episodes", "start_date"),
        ("episodes", "end_date"),
        ("measurements", "measured_on"),
    ):
        values = log[name].column(column).drop_null()
        # records still open when the county's years began keep their true earlier dates (burn-in: 5 years)
        assert pc.min(values).as_py() >= date(START.year - 5, 1, 1) and pc.max(values).as_py() < end, (
            name,
            column,
        )
    due = log["people"].column("pregnancy_due_date").drop_null()
    assert pc.min(due).as_py() >= START and pc.max(due).as_py() < end + timedelta(days=290)


def test_only_records_open_at_the_start_are_dated_before_it(log: dict[str, pa.Table]) -> None:
    ep = log["episodes"].to_pandas()
    early = ep[ep["start_date"] < START]
    assert len(early) > 0 and (early["end_date"].isna() | (early["end_date"] >= START)).all()
    ref = log["referrals"].to_pandas()
    early_refs = ref[ref["referral_date"] < START]
    still_open = early_refs["outcome_date"].isna() | (early_refs["outcome_date"] >= START)
    named = early_refs["referral_id"].isin(early["referral_id"])
    assert len(early_refs) > 0 and (still_open | named).all()
    m = log["measurements"].to_pandas()
    before = m[m["measured_on"] < START]
    starts = ep.set_index("episode_id").loc[before["episode_id"], "start_date"].to_numpy()
    assert (before["measured_on"].to_numpy() == starts).all()  # the intake measurement only


def test_the_first_month_looks_like_every_other_month(log: dict[str, pa.Table]) -> None:
    # Issue 9: the county is in steady state from its first day (no go-live wave of admissions).
    ep = log["episodes"].to_pandas()
    starts = pd.to_datetime(ep["start_date"])
    window = starts[starts >= pd.Timestamp(START)]
    monthly = window.dt.to_period("M").value_counts().sort_index()
    january, others = monthly.iloc[0], monthly.iloc[1:]
    assert others.min() * 0.8 <= january <= others.max() * 1.2
    assert 0.5 * others.median() <= january <= 1.5 * others.median()
    for table, column in (("services", "service_date"), ("referrals", "referral_date")):
        days = pd.to_datetime(log[table].to_pandas()[column])
        per_month = days[days >= pd.Timestamp(START)].dt.to_period("M").value_counts().sort_index()
        median = per_month.iloc[1:].median()
        assert abs(per_month.iloc[0] - median) <= 0.15 * median + 4 * np.sqrt(median), table


def test_measurement_items_sum_to_the_score(log: dict[str, pa.Table]) -> None:
    m = log["measurements"]
    for instrument, items, score in zip(_py(m, "instrument"), _py(m, "items"), _py(m, "score"), strict=True):
        values = json.loads(str(items))
        spec = INSTRUMENTS[instrument]  # type: ignore[index]
        assert len(values) == spec.n_items and sum(values) == score
        assert all(v in allowed for v, allowed in zip(values, spec.item_values, strict=True))
    assert set(_py(m, "instrument")) == {"phq9", "gad7", "auditc", "dast10", "epds"}


def test_episodes_are_ordered_in_time_and_linked_to_referrals(log: dict[str, pa.Table]) -> None:
    ep = log["episodes"].to_pandas()
    ref = log["referrals"].to_pandas().set_index("referral_id")
    closed = ep.dropna(subset=["end_date"])
    assert (closed["end_date"] >= closed["start_date"]).all()
    assert (ep["end_date"].isna() == ep["end_reason"].isna()).all()
    assert (ep["planned_end_date"] > ep["start_date"]).all()
    linked = ep.dropna(subset=["referral_id"])
    referral_dates = ref.loc[linked["referral_id"], "referral_date"].to_numpy()
    assert (linked["start_date"].to_numpy() >= referral_dates).all()
    assert (ref.loc[linked["referral_id"], "person_id"].to_numpy() == linked["person_id"].to_numpy()).all()
    assert set(closed["end_reason"]) >= {"graduated", "stepped_down", "disengaged", "moved"}


def test_services_use_the_catalog_and_happen_during_their_episode(log: dict[str, pa.Table]) -> None:
    catalog = default_catalog()
    sv = log["services"].to_pandas()
    assert all(
        catalog.category(code).value == cat for code, cat in zip(sv["code"], sv["category"], strict=True)
    )
    assert {"90834", "90837", "90853", "H0015", "T1017", "99213", "90791", "96127", "H0020", "90839"} <= set(
        sv["code"]
    )
    ep = log["episodes"].to_pandas().set_index("episode_id")
    inside = sv.dropna(subset=["episode_id"])
    starts = ep.loc[inside["episode_id"], "start_date"].to_numpy()
    ends = ep.loc[inside["episode_id"], "end_date"].to_numpy()
    assert (inside["service_date"].to_numpy() >= starts).all()
    closed = ~np.array([e is None for e in ends])
    assert (inside["service_date"].to_numpy()[closed] <= ends[closed]).all()


def test_contacts_are_near_the_aihw_anchor(log: dict[str, pa.Table], result: RunResult) -> None:
    # AIHW 2016-17: ≈ 21 community contacts per patient-year, mean 36 minutes.
    sv = log["services"].to_pandas()
    in_service_months = (result.events.svc_step.size if result.events else 0) / result.steps_per_month
    contacts_per_year = len(sv.dropna(subset=["episode_id"])) / (in_service_months / 12)
    assert 12 <= contacts_per_year <= 36
    timed = sv[sv["minutes"] > 0]
    assert 25 <= timed["minutes"].mean() <= 60


def test_sud_episodes_are_in_sud_programs_with_sud_instruments(log: dict[str, pa.Table]) -> None:
    ep = log["episodes"].to_pandas()
    kinds = log["programs"].to_pandas().set_index("program_id")["kind"]
    sud_kinds = set(kinds.loc[ep.loc[ep["is_sud"], "program_id"]])
    assert sud_kinds >= {"medication_for_oud", "residential", "intensive_outpatient"}
    assert "inpatient" not in sud_kinds
    m = log["measurements"].to_pandas()
    sud_measures = m[m["instrument"].isin(["auditc", "dast10"])]
    assert ep.set_index("episode_id").loc[sud_measures["episode_id"], "is_sud"].all()


def test_the_county_shows_stuck_people_reentries_and_follow_up(log: dict[str, pa.Table]) -> None:
    ep = log["episodes"].to_pandas()
    end = date(START.year + YEARS, 1, 1)
    open_long = ep[ep["end_date"].isna() & (ep["start_date"] <= end - timedelta(days=365))]
    assert len(open_long) > 10  # long open episodes (candidates for "stuck")
    graduated = ep[ep["end_reason"] == "graduated"]
    later = ep.merge(graduated[["person_id", "end_date"]], on="person_id", suffixes=("", "_grad"))
    assert (later["start_date"] > later["end_date_grad"]).any()  # re-entries after graduating
    kinds = log["programs"].to_pandas().set_index("program_id")["kind"]
    inpatient = ep[(kinds.loc[ep["program_id"]].to_numpy() == "inpatient") & ep["end_date"].notna()]
    assert len(inpatient) > 0 and set(inpatient["end_reason"]) & {"stepped_down", "disengaged", "graduated"}


def test_waits_in_the_log_match_the_engine(log: dict[str, pa.Table], result: RunResult) -> None:
    ep = log["episodes"].to_pandas()
    ref = log["referrals"].to_pandas().set_index("referral_id")
    linked = ep.dropna(subset=["referral_id"])
    first = linked.groupby("referral_id")["start_date"].min()
    first = first[first >= START]  # admissions of the recorded years, as the engine's summary counts them
    waits = np.array(
        [(s - r).days for s, r in zip(first, ref.loc[first.index, "referral_date"], strict=True)]
    )
    # the engine counts whole months waited; the log adds the days to a first appointment within them
    assert waits.mean() == pytest.approx(result.summary["mean_wait_days"], rel=0.2, abs=5)
    assert np.median(waits) > 0 and (waits == 0).mean() < 0.1  # day resolution: hardly anyone on day 0


def test_same_run_gives_identical_tables(result: RunResult, log: dict[str, pa.Table]) -> None:
    again = to_event_log(result, start=START)
    for name in TABLES:
        assert again[name].equals(log[name]), name


def test_needs_recorded_events() -> None:
    plain = run(load_scenario("status-quo"), people=100, years=1, seed=1)
    with pytest.raises(ValueError, match="record_events"):
        to_event_log(plain)


def test_people_staff_and_programs_are_plausible(log: dict[str, pa.Table]) -> None:
    people = log["people"].to_pandas()
    age = START.year + YEARS - 1 - people["birth_year"]  # school grade and pregnancy: at the end
    graded = people["school_grade"].notna()
    assert (
        graded.any()
        and age[graded].between(5, 17).all()
        and (people.loc[graded, "school_grade"] == (age[graded] - 5)).all()
    )
    due = people["pregnancy_due_date"].notna()
    due_age = pd.to_datetime(people.loc[due, "pregnancy_due_date"]).dt.year - people.loc[due, "birth_year"]
    assert due.any() and (people.loc[due, "sex"] != "male").all() and due_age.between(15, 46).all()
    born_here = people["birth_year"] >= START.year
    assert born_here.sum() > 0  # births during the recorded years join the county
    assert set(people["sex"]) >= {"female", "male"}
    staff = log["staff"].to_pandas()
    assert set(staff["role"]) == {
        "clinician",
        "prescriber",
        "case_manager",
        "peer_specialist",
        "teacher",
        "manager",
        "leader",
    }
    programs = log["programs"].to_pandas()
    assert set(programs["kind"]) == {
        "outpatient",
        "intensive_outpatient",
        "act_team",
        "case_management",
        "medication_for_oud",
        "residential",
        "inpatient",
        "crisis",
        "school",
        "perinatal",
    }
    assert (programs["capacity_slots"] > 0).all()
    referrals = log["referrals"].to_pandas()
    assert set(referrals["priority"]) == {"emergent", "urgent", "routine"}
    assert referrals["priority"].value_counts()["routine"] > referrals["priority"].value_counts()["emergent"]


def test_metrics_on_the_log_agree_with_the_engine_summary(tmp_path: Path) -> None:
    # Issue 4 item 5: docs/metrics.md metrics computed on the written log match the run's own summary.
    from onward.metrics.backends import open_event_log
    from onward.metrics.period import Period
    from onward.metrics.suite import compute_metrics

    result = run(load_scenario("status-quo"), people=20_000, years=3, seed=8, record_events=True)
    for name, table in to_event_log(result, start=START).items():
        write_table(table, tmp_path, name, "parquet")
    metrics = compute_metrics(open_event_log(data=tmp_path), period=Period()).metrics
    summary = result.summary
    assert metrics["active_census"] == summary["in_services"]
    assert metrics["treatment_share"] == pytest.approx(summary["treatment_share"], abs=0.02)
    graduated = float(metrics["graduation_rate"] or 0) * float(metrics["discharges"] or 0)
    assert graduated == pytest.approx(summary["graduations"], rel=0.08)
    assert float(metrics["stuck_count"] or 0) == pytest.approx(summary["stuck"], rel=0.2)


def test_the_risk_item_is_positive_in_a_few_percent_of_administrations(log: dict[str, pa.Table]) -> None:
    # NHANES 2005-2010: 3.5 % answer PHQ-9 item 9 above "not at all" (docs/references.md); the
    # treatment population is more severe, so a few percent, never the majority.
    m = log["measurements"]
    for instrument, item in (("phq9", 8), ("epds", 9)):
        rows = m.filter(pc.equal(m["instrument"], instrument))
        positive = [json.loads(str(x))[item] > 0 for x in _py(rows, "items")]
        assert len(positive) > 50
        assert 0.005 < float(np.mean(positive)) < 0.08, instrument


def test_risk_item_probability_rises_with_the_total() -> None:
    from onward.sim._contacts import risk_item_probability

    p = risk_item_probability(np.array([0, 5, 10, 15, 20, 27]))
    assert p[0] == 0 and (np.diff(p) > 0).all() and p[2] < 0.05 and p[-1] > 0.3


def test_item_lists_are_one_arrow_array_however_many() -> None:
    from onward.sim._arrow import json_digit_lists

    items = json_digit_lists(np.ones((200_000, 9), dtype=np.int64))
    assert isinstance(items, pa.Array) and len(items) == 200_000
    assert items[0].as_py() == "[1, 1, 1, 1, 1, 1, 1, 1, 1]"


def test_a_tiny_county_still_writes_a_log(tmp_path: Path) -> None:
    from onward.sim.synth import write_synthetic_county

    counts = write_synthetic_county(tmp_path, people=30, years=1, seed=3, progress=False)
    assert counts["people"] > 0
