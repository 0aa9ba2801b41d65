"""A mistyped command or option gets the usage line and exit status 2, never a traceback.

Run as a real process through `python -m onward`, the way a user meets it: Typer 0.2x raises its own
(vendored) click exceptions, which a non-standalone `main()` once let escape as a 40-line traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _onward(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "ONWARD_DATA_DIR": str(cwd / "onward-data")}
    return subprocess.run(
        [sys.executable, "-m", "onward", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["audti"], "No such command 'audti'"),
        (["metrics", "--dat", "x"], "No such option: --dat"),
    ],
    ids=["command", "option"],
)
def test_a_typo_prints_one_usage_line_and_exits_2(args: list[str], says: str, tmp_path: Path) -> None:
    result = _onward(*args, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    usage = [line for line in output.splitlines() if line.strip().startswith("Usage: onward")]
    assert len(usage) == 1, output
    assert says in output
    assert len(output.splitlines()) <= 8, output


def test_a_domain_error_is_one_line_with_its_exit_code(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    result = _onward("metrics", "--data", str(missing), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"error: extract folder {missing} does not exist"]
