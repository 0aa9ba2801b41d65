from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from onward.cli import app
from onward.interop.files import arrow_schema, write_table


def _extract(folder: Path) -> Path:
    """One program, twelve people admitted in March 2024, each with one treatment session, and one more
    session on 2024-04-02 (so March is over: figures are read as of 2024-03-31, default period 2024-Q1)."""
    tables: dict[str, list[dict[str, object]]] = {
        "people": [
            {"person_id": f"u{i}", "birth_year": 1990, "sex": "male", "postcode_prefix": "Z1"}
            for i in range(12)
        ],
        "programs": [
            {
                "program_id": "P1",
                "name": "Outpatient",
                "kind": "outpatient",
                "level_of_care": 1,
                "capacity_slots": 9,
            }
        ],
        "staff": [{"staff_id": "S1", "role": "clinician", "program_id": "P1", "hours_per_week": 30}],
        "referrals": [],
        "episodes": [
            {
                "episode_id": f"e{i}",
                "person_id": f"u{i}",
                "program_id": "P1",
                "start_date": date(2024, 3, 1 + i),
            }
            | {"is_sud": False}
            for i in range(12)
        ],
        "services": [
            {"service_id": f"s{i}", "person_id": f"u{i}", "episode_id": f"e{i}", "staff_id": "S1"}
            | {"service_date": date(2024, 3, 2 + i), "code": "90834", "minutes": 45, "category": "treatment"}
            for i in range(12)
        ]
        + [
            {"service_id": "april", "person_id": "u0", "episode_id": "e0", "staff_id": "S1"}
            | {"service_date": date(2024, 4, 2), "code": "90834", "minutes": 45, "category": "treatment"}
        ],
        "measurements": [],
    }
    for name, rows in tables.items():
        write_table(pa.Table.from_pylist(rows, schema=arrow_schema(name)), folder, name, "parquet")
    return folder


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _extract(tmp_path_factory.mktemp("extract"))


def test_report_writes_one_html_file(extract: Path, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "report.html"
    result = CliRunner().invoke(app, ["report", "--data", str(extract), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    text = out.read_text(encoding="utf-8")
    assert "Period Q1 2024 (January-March) (2024-01-01 to 2024-03-31)" in text
    assert "figures as of 2024-03-31, the last month end on or before the latest event (2024-04-02)" in text
    assert "period 2024-Q1 (2024-01-01 to 2024-03-31), figures as of 2024-03-31" in result.output
    assert "INTERNAL USE ONLY" not in text and "Synthetic data" not in text


def test_no_suppress_and_synthetic_label_are_marked(extract: Path, tmp_path: Path) -> None:
    out = tmp_path / "internal.html"
    args = ["report", "--data", str(extract), "--out", str(out), "--no-suppress", "--synthetic-label"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "suppression OFF" in result.output and "labelled synthetic" in result.output
    text = out.read_text(encoding="utf-8")
    assert "INTERNAL USE ONLY" in text and "Synthetic data" in text


def test_period_options_pick_a_calendar_period(extract: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    args = ["report", "--data", str(extract), "--out", str(out), "--period", "2024-03"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Period March 2024 (2024-03-01 to 2024-03-31)" in out.read_text(encoding="utf-8")
    early = CliRunner().invoke(app, [*args[:-1], "2024-02", "--as-of", "2024-03-15"])
    assert early.exit_code == 0, early.output
    assert "figures as of 2024-02-29" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "svg"], "--format 'svg'"),
        (["--from", "2024-03-05"], "--from is not accepted by onward report"),
        (["--to", "2024-03-10"], "--to is not accepted by onward report"),
        (["--period", "March"], "--period 'March' is not a calendar period"),
        (["--period", "2024-04"], "period 2024-04 is not published"),
        (["--db", "sqlite:///x.sqlite"], "not both"),
    ],
)
def test_user_errors_are_one_clear_line(extract: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        app, ["report", "--data", str(extract), "--out", str(tmp_path / "r.html"), *args]
    )
    assert result.exit_code != 0
    assert message in str(result.exception) or message in result.output


def test_report_from_the_live_database_labels_a_demo_database_synthetic(
    extract: Path, tmp_path: Path, sqlite_url: str
) -> None:
    from onward.model.roles import Role
    from onward.services.users import create_user, demo_username
    from onward.store.engine import create_db_engine, session_factory

    runner = CliRunner()
    for args in (["init", "--db", sqlite_url], ["import", str(extract), "--db", sqlite_url, "--no-progress"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    plain = tmp_path / "plain.html"
    result = runner.invoke(app, ["report", "--db", sqlite_url, "--out", str(plain)])
    assert result.exit_code == 0, result.output
    assert "Synthetic data" not in plain.read_text(encoding="utf-8")

    engine = create_db_engine(sqlite_url)
    with session_factory(engine)() as session, session.begin():
        create_user(
            session=session,
            username=demo_username(Role.LEADER),
            role=Role.LEADER.value,
            password="a long demo passphrase 42!",
            display_name="Demo leader",
        )
    engine.dispose()
    demo = tmp_path / "demo.html"
    result = runner.invoke(app, ["report", "--db", sqlite_url, "--out", str(demo)])
    assert result.exit_code == 0, result.output
    assert "labelled synthetic" in result.output
    text = demo.read_text(encoding="utf-8")
    assert "Synthetic data" in text and "Period Q1 2024 (January-March)" in text


def test_report_on_onward_synth_output_is_labelled_synthetic(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "county"
    result = runner.invoke(
        app, ["synth", "--people", "300", "--years", "1", "--seed", "4", "--out", str(folder)]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "county.html"
    result = runner.invoke(app, ["report", "--data", str(folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "labelled synthetic" in result.output
    assert "Synthetic data: produced by a simulation" in out.read_text(encoding="utf-8")
