"""CLI commands: report."""

from __future__ import annotations

from onward.cli._app import app  # noqa: F401
