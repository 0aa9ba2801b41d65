"""Every command answers --help with a description and an example (docs/cli.md)."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from onward.cli import app


def _command_paths() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)  # a group (Typer vendors its own click)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, (*path, name))
        else:
            paths.append(path)

    walk(root, ())
    return paths


EXPECTED = {"init", "demo", "serve", "synth", "import", "export", "metrics", "report", "users", "backup"}


def test_the_design_commands_exist() -> None:
    top = {path[0] for path in _command_paths()}
    assert top >= EXPECTED, f"missing: {sorted(EXPECTED - top)}"


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p))
def test_help_has_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "onward " + path[0] in result.output.split("Usage:", 1)[1], "help shows an example invocation"
    assert "example" in result.output.lower()


def test_readme_documents_every_command() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    undocumented = sorted(
        {p[0] for p in _command_paths()} - {w for w in EXPECTED if f"`onward {w}" in readme}
    )
    undocumented = [name for name in undocumented if f"`onward {name}" not in readme]
    assert not undocumented, f"README's command table lacks: {undocumented}"
