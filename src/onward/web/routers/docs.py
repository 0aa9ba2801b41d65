"""A readable list of the API's operations, built from the OpenAPI document (no CDN, works offline)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)

_METHODS = ("get", "post", "put", "patch", "delete")


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (path, method) of an OpenAPI document, in path order."""
    rows = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in _METHODS:
            if method in item:
                op = item[method]
                rows.append(
                    {
                        "method": method.upper(),
                        "path": path,
                        "tags": op.get("tags", []),
                        "summary": op.get("summary", ""),
                        "description": op.get("description", ""),
                    }
                )
    return rows


@router.get("/api/v1/docs")
def api_docs(request: Request) -> Response:
    spec = request.app.openapi()
    context = {
        "title": "API",
        "spec": spec,
        "operations": operations(spec),
        "openapi_url": request.app.openapi_url,
    }
    return render(request, "api_docs.html", context)
