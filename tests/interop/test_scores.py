"""Imported measurements are checked against their instrument: item count, item range, sum, total range."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from onward.errors import ValidationError
from onward.interop.extracts import import_extract
from onward.interop.scores import score_problems

RowCounts = Callable[[str], dict[str, int]]

PHQ_OK = "[1, 2, 1, 0, 3, 1, 0, 0, 1]"


def _table(rows: list[tuple[str, int, str | None]]) -> pa.Table:
    return pa.table(
        {
            "instrument": pa.array([r[0] for r in rows], pa.string()),
            "score": pa.array([r[1] for r in rows], pa.int64()),
            "items": pa.array([r[2] for r in rows], pa.string()),
        }
    )


def _only(rows: list[tuple[str, int, str | None]]) -> tuple[int, str, str, str]:
    problems = score_problems(_table(rows))
    assert len(problems) == 1, problems
    p = problems[0]
    return p.index, p.column, p.message, p.expected


def test_good_rows_pass() -> None:
    rows = [
        ("phq9", 9, PHQ_OK),
        ("phq9", 27, None),
        ("epds", 21, "[0,0,3,0,3,3,3,3,3,3]"),
        ("audit", 40, "[4,4,4,4,4,4,4,4,4,4]"),
        ("dast10", 1, "[0,0,1,0,0,0,0,0,0,0]"),
        ("pcl5", 0, "[" + ",".join(["0"] * 20) + "]"),
    ]
    assert score_problems(_table(rows)) == []


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        (("phq9", 9, "[1, 2, 1, 0, 3, 1, 0, 1]"), "items", ["8 item scores for PHQ-9", "9 items"]),
        (("phq9", 12, "[1, 2, 1, 0, 3, 1, 0, 0, 4]"), "items", ["PHQ-9 item 9 score 4 is out of range"]),
        (("audit", 1, "[0,0,0,0,0,0,0,0,1,0]"), "items", ["AUDIT item 9 score 1", "0, 2, 4"]),
        (("phq9", 10, PHQ_OK), "score", ["10 but its item scores add up to 9"]),
        (("gad7", 22, None), "score", ["GAD-7 total 22 is out of range", "0..21"]),
        (("dast10", 0, "[]"), "items", ["0 item scores for DAST-10"]),
    ],
    ids=["count", "range", "audit-step", "sum", "total", "empty"],
)
def test_a_bad_row_is_named(row: tuple[str, int, str | None], column: str, words: list[str]) -> None:
    index, col, message, expected = _only([("phq9", 9, PHQ_OK), row])
    assert (index, col) == (1, column)
    for word in words:
        assert word in f"{message} (expected {expected})"


def test_import_refuses_a_measurement_that_does_not_score(
    sqlite_url: str, tmp_path: Path, row_counts: RowCounts
) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "people.csv").write_text(
        "person_id,birth_year,sex,postcode_prefix,school_grade,pregnancy_due_date\np1,1990,female,981,,\n"
    )
    (folder / "programs.csv").write_text(
        "program_id,name,kind,level_of_care,capacity_slots\nop,OP,outpatient,1,9\n"
    )
    header = "measurement_id,person_id,episode_id,instrument,measured_on,score,items\n"
    (folder / "measurements.csv").write_text(
        header + f'm1,p1,,phq9,2024-01-01,9,"{PHQ_OK}"\nm2,p1,,phq9,2024-02-01,11,"{PHQ_OK}"\n'
    )
    with pytest.raises(ValidationError) as caught:
        import_extract(folder, sqlite_url, progress=False)
    error = caught.value
    assert error.file is not None and error.file.endswith("measurements.csv")
    assert (error.row, error.column) == (2, "score")
    assert "11 but its item scores add up to 9" in str(error) and "CSV line 3" in str(error)
    assert set(row_counts(sqlite_url).values()) == {0}
