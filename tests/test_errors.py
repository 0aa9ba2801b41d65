from __future__ import annotations

from onward.errors import NotFoundError, PermissionDeniedError, ValidationError


def test_validation_error_names_file_row_column_and_expectation() -> None:
    error = ValidationError(
        "'2023-02-30' is not a date",
        file="episodes.csv",
        row=7,
        column="start_date",
        expected="an ISO date YYYY-MM-DD",
    )
    text = str(error)
    assert text.startswith("file episodes.csv, row 7, column start_date:")
    assert "expected an ISO date YYYY-MM-DD" in text
    assert (error.file, error.row, error.column) == ("episodes.csv", 7, "start_date")


def test_errors_carry_http_status_and_exit_code() -> None:
    assert NotFoundError("x").http_status == 404
    assert PermissionDeniedError("x").http_status == 403
    assert PermissionDeniedError("x").exit_code != 0
