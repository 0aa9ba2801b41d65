"""`onward` command line: thin over services/; every command has --help with an example."""

from __future__ import annotations

import sys

from rich.console import Console

from onward.cli._app import app
from onward.errors import OnwardError

# Each module registers its commands on `app` when imported.
from onward.cli import data as _data  # noqa: E402,F401  isort: skip
from onward.cli import web as _web  # noqa: E402,F401  isort: skip
from onward.cli import metrics as _metrics  # noqa: E402,F401  isort: skip
from onward.cli import sim as _sim  # noqa: E402,F401  isort: skip
from onward.cli import report as _report  # noqa: E402,F401  isort: skip
from onward.cli import demo as _demo  # noqa: E402,F401  isort: skip
from onward.cli import simulate as _simulate  # noqa: E402,F401  isort: skip
from onward.cli import accounts as _accounts  # noqa: E402,F401  isort: skip
from onward.cli import audit as _audit  # noqa: E402,F401  isort: skip
from onward.cli import consent as _consent  # noqa: E402,F401  isort: skip
from onward.cli import instruments as _instruments  # noqa: E402,F401  isort: skip
from onward.cli import flags as _flags  # noqa: E402,F401  isort: skip
from onward.cli import curricula as _curricula  # noqa: E402,F401  isort: skip
from onward.cli import voice as _voice  # noqa: E402,F401  isort: skip
from onward.cli import targets as _targets  # noqa: E402,F401  isort: skip
from onward.cli import staff_mix as _staff_mix  # noqa: E402,F401  isort: skip

__all__ = ["app", "main"]


def main() -> None:
    """Run the CLI; a domain error becomes one red line on stderr and its exit code.

    Typer runs in standalone mode, so a mistyped command or option prints the usage line and exits 2
    on every supported Typer: older ones raise click's exceptions, 0.2x its vendored copy of click, and
    standalone mode handles both, as it does `typer.Exit(code)` and Ctrl-C. Only Onward's own errors
    come out of `app()`, and they are shown without a traceback.
    """
    try:
        app(prog_name="onward")
    except OnwardError as error:
        Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {error}", highlight=False)
        sys.exit(error.exit_code)
