"""Domain exceptions. The CLI turns them into one clear line and a non-zero exit; the web into HTTP errors."""

from __future__ import annotations


class OnwardError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""

    exit_code = 1
    http_status = 400


class ConfigurationError(OnwardError):
    """A setting is missing or unsafe."""

    exit_code = 2
    http_status = 500


class ValidationError(OnwardError):
    """Input that breaks the data contract. Names the file, row and field when it can."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file, self.row, self.column, self.expected = file, row, column, expected
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"column {column}" if column else "",
            )
            if part
        )
        text = f"{where}: {message}" if where else message
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


class NotFoundError(OnwardError):
    http_status = 404


class PermissionDeniedError(OnwardError):
    """Default deny: the role may not do this."""

    exit_code = 3
    http_status = 403


class AuthenticationError(OnwardError):
    exit_code = 3
    http_status = 401


class ConflictError(OnwardError):
    http_status = 409


class TooManyAttemptsError(OnwardError):
    """A throttle refused an attempt for now; `retry_after` says how long to wait, in seconds."""

    exit_code = 3
    http_status = 429

    def __init__(self, message: str, *, retry_after_seconds: float) -> None:
        self.retry_after = max(1, int(retry_after_seconds) + 1)
        super().__init__(f"{message}; try again in {self.retry_after} seconds")
