"""Docs that tests keep true (Datasette's habit): every route, setting, permission and command is in docs/.

Engineers add routes, settings, permissions and commands all the time; each failure below says exactly
what to write where, or which command regenerates the generated parts (docs/cli.md, README's settings).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from onward.cli import _docs
from onward.security.policy import Permission
from onward.settings import Settings

ROOT = Path(__file__).parents[1]


def _docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))


def _routes(tmp_path: Path) -> list[tuple[str, str]]:
    """(method, path) of every route of `create_app`, through included routers of any FastAPI version."""
    from fastapi import routing

    from onward.web.app import create_app

    app = create_app(Settings(data_dir=tmp_path))
    # FastAPI >= 0.16x keeps included routers as branches; iter_route_contexts flattens them.
    flatten: Any = getattr(routing, "iter_route_contexts", None)
    routes: list[Any] = list(flatten(app.routes)) if flatten else list(app.routes)
    found: set[tuple[str, str]] = set()
    for route in routes:
        methods = getattr(route, "methods", None)
        if not methods:  # a Mount (static files): not an endpoint a user calls
            continue
        found |= {(method, str(route.path)) for method in methods if method != "HEAD"}
    return sorted(found)


def _documented(method: str, path: str, docs: str) -> bool:
    if f"`{method} {path}`" in docs:
        return True
    # A page (GET) may be named by its path alone, as in the pages-by-role table.
    return method == "GET" and re.search(rf"`{re.escape(path)}(\?[^`]*)?`", docs) is not None


def test_every_route_of_the_app_is_in_the_docs(tmp_path: Path) -> None:
    routes = _routes(tmp_path)
    assert ("GET", "/api/v1/health") in routes and ("POST", "/logout") in routes  # API and pages both walked
    docs = _docs_text()
    missing = [f"{method} {path}" for method, path in routes if not _documented(method, path, docs)]
    assert not missing, (
        "docs/ does not mention these routes: "
        + ", ".join(missing)
        + ". Add a row for each to docs/web.md (pages: the pages table; /api/v1: the JSON API table), e.g. "
        + "| `POST /logout` | signed in | sign out |. A GET page may be written as its path alone (`/me`)."
    )


def test_every_setting_is_in_the_readme_and_the_cli_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    cli = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    names = [f"ONWARD_{name.upper()}" for name in Settings.model_fields]
    missing = [name for name in names if f"`{name}`" not in readme or f"`{name}`" not in cli]
    assert not missing, f"settings missing from README.md or docs/cli.md: {missing}; {_docs.REGENERATE}"
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]
    assert not undescribed, f"give these Settings fields a description= (their documentation): {undescribed}"


def test_every_permission_is_in_the_docs() -> None:
    docs = _docs_text()
    missing = [p.value for p in Permission if f"`{p.value}`" not in docs]
    assert not missing, (
        f"docs/ does not mention these permissions of onward.security.policy: {missing}. Add a row "
        "| `name` | who holds it | what it allows | to the permissions table of docs/web.md "
        "(or docs/security.md)."
    )


def test_every_cli_command_is_in_the_cli_reference() -> None:
    cli = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [c.name for c in _docs.commands() if f"## `{c.name}`" not in cli]
    assert not missing, f"docs/cli.md lacks {missing}: {_docs.REGENERATE}"


def test_the_generated_docs_are_current() -> None:
    stale = [str(p.relative_to(ROOT)) for p in _docs.stale(ROOT)]
    assert not stale, f"{', '.join(stale)} differ from what the code says: {_docs.REGENERATE}"


def test_the_settings_table_comes_from_the_settings_class() -> None:
    table = _docs.settings_table()
    assert "| `ONWARD_PORT` | `8000` | Port `onward serve` listens on. |" in table
    assert "(one of `development`, `production`)" in table


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Intro.\n\nSecond\n  line.", "Intro.\n\nSecond line."),
        ("Do it.\n\n\b\nExample:\n  onward init", "Do it.\n\n```text\nExample:\n  onward init\n```"),
    ],
)
def test_help_text_becomes_markdown(text: str, expected: str) -> None:
    assert _docs._help_markdown(text) == expected
