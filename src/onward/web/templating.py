"""Jinja2 templates and the context every page shares (user, navigation, CSRF token, synthetic banner)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Match

from onward.model.roles import NAVIGATION, NavItem, Role
from onward.store.tables import User
from onward.web.sessions import csrf_token, keep_anonymous_csrf
from onward.web.synthetic import is_synthetic

TEMPLATES_DIR = Path(__file__).parent / "templates"
#: CMS cell-size suppression policy: a count from 1 to 10 is never shown (docs/references.md, privacy).
SMALL_CELL_MAX = 10


def small_cell(count: int | None) -> str:
    """A count for display, with 1..SMALL_CELL_MAX shown as '≤10'; zero and large counts as they are."""
    if count is None:
        return "—"
    if 1 <= count <= SMALL_CELL_MAX:
        return f"≤{SMALL_CELL_MAX}"
    return f"{count:,}"


def utc_minute(moment: datetime | None) -> str:
    """A timestamp for people: UTC, to the minute (naive values are UTC already, as SQLite returns them)."""
    if moment is None:
        return "never"
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.strftime("%Y-%m-%d %H:%M UTC")


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    templates.env.filters["small_cell"] = small_cell
    templates.env.filters["utc_minute"] = utc_minute
    return templates


def serves(app: Starlette, path: str) -> bool:
    """True when a GET of `path` reaches a route of `app` (asked through the public routing API)."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "path_params": {}}
    return any(route.matches(scope)[0] is Match.FULL for route in app.router.routes)


def navigation_for(request: Request, role: str) -> list[NavItem]:
    """The role's navigation, leaving out pages this app does not serve (e.g. an area not installed).
    Worked out once per role and app: an app's routes are fixed once it is built, and matching every
    navigation item against every route on each page was a visible share of a page's CPU under load."""
    known: dict[str, list[NavItem]] | None = getattr(request.app.state, "navigation", None)
    if known is None:
        known = {}
        request.app.state.navigation = known
    found = known.get(role)
    if found is None:
        try:
            items = NAVIGATION[Role(role)]
        except ValueError:
            items = ()
        found = [item for item in items if serves(request.app, item.path)]
        known[role] = found
    return list(found)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    user: User | None = None,
    status_code: int = 200,
) -> Response:
    """Render a page with the shared context; the user defaults to the one the request signed in as."""
    if user is None:
        user = getattr(request.state, "user", None)
    shared: dict[str, Any] = {
        "title": "Onward",
        "user": user,
        "nav": navigation_for(request, user.role) if user else [],
        "role_label": user.role.replace("_", " ") if user else "",
        "current_path": request.url.path,
        "csrf_token": csrf_token(request),
        "synthetic": is_synthetic(request),
    }
    shared.update(context or {})
    templates: Jinja2Templates = request.app.state.templates
    response = templates.TemplateResponse(request, name, shared, status_code=status_code)
    keep_anonymous_csrf(request, response)
    return response
