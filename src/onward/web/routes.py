"""Routes by their full path templates ("GET /people/{person_id}"), whatever FastAPI version runs.

Recent FastAPI keeps included routers as nested objects whose routes know only their own part of the
path; older versions flatten them. The access policy and its tests need the full template either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from starlette.routing import BaseRoute


def route_templates(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, full path template) of every HTTP route of `app`, in routing order."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before included routers were kept nested: app.routes is flat
        contexts: Any = app.routes
    else:
        contexts = iter_route_contexts(app.routes)
    for route in contexts:
        methods = getattr(route, "methods", None)
        path = getattr(route, "path", None)
        if not methods or not path:
            continue  # a mount (static files)
        for method in sorted(methods):
            if method != "HEAD":
                yield method, path


def request_template(request: Request) -> str:
    """The full path template of the route that matched this request (its path when none did)."""
    route: BaseRoute | None = request.scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    actual = request.url.path
    if not isinstance(template, str):
        return actual
    try:
        rendered = template.format(**request.path_params)
    except (KeyError, IndexError, ValueError):
        return template
    if actual.endswith(rendered):
        return actual[: len(actual) - len(rendered)] + template
    return template
