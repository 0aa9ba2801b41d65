"""Domain errors become an HTML error page or a JSON body with the error's http_status."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match

from onward.errors import OnwardError, TooManyAttemptsError
from onward.web.deps import LoginRequired
from onward.web.templating import render

API_PREFIX = "/api/"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class ErrorOut(BaseModel):
    """The body of every JSON error answer."""

    error: str = Field(description="The kind of error, e.g. LoginRequired, PermissionDeniedError.")
    detail: str = Field(description="What went wrong and what to do about it.")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for error answers, all with the ErrorOut body."""
    return {code: {"model": ErrorOut, "description": _MEANINGS[code]} for code in codes}


_MEANINGS = {
    400: "The request is not valid (the detail names the field).",
    401: "Not signed in, or the session has ended: sign in again.",
    403: "Signed in, but the role may not do this, or the CSRF token is missing or wrong.",
    404: "Nothing there, or nothing the user may see.",
    409: "The request conflicts with what is stored.",
    429: "Too many attempts: wait as long as the Retry-After header says.",
}

SIGNED_IN = error_responses(401)
"""Answers any operation that needs a session can give."""

ROLE_CHECKED = error_responses(401, 403)
"""Answers of an operation that also checks the user's role or a CSRF token."""


_HEADINGS = {
    400: "That did not work",
    401: "Please sign in",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    429: "Please wait",
}


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _error_response(request: Request, status: int, message: str, kind: str) -> Response:
    if is_api(request):
        return JSONResponse({"error": kind, "detail": message}, status_code=status)
    message = message[:1].upper() + message[1:]
    return render(
        request,
        "error.html",
        {
            "title": _HEADINGS.get(status, "Error"),
            "heading": _HEADINGS.get(status, "Something went wrong"),
            "message": message,
        },
        status_code=status,
    )


async def _onward_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OnwardError)
    if isinstance(exc, LoginRequired) and not is_api(request):
        target = request.url.path
        return RedirectResponse(f"/login?next={target}" if target != "/" else "/login", status_code=303)
    response = _error_response(request, exc.http_status, str(exc), type(exc).__name__)
    if isinstance(exc, TooManyAttemptsError):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this request's path, found by asking each route.

    Starlette's 405 names only the methods of the first route whose path matched; a path served by
    several routes (POST and DELETE /api/v1/session) must list them all (RFC 9110 section 10.2.1).
    """
    routes = [route for route in request.app.router.routes if isinstance(route, BaseRoute)]
    return [
        method
        for method in HTTP_METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI answers a JSON body that is not UTF-8 with a bare 400, but a body that is not JSON
        # with its documented 422: both are malformed JSON, so both get the 422.
        return await request_validation_exception_handler(request, _not_utf8(exc.__cause__))
    message = "there is no page at this address" if exc.status_code == 404 else str(exc.detail)
    response = _error_response(request, exc.status_code, message, "HTTPException")
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


def _not_utf8(error: UnicodeDecodeError) -> RequestValidationError:
    problem = {
        "type": "json_invalid",
        "loc": ("body", error.start),
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": "the body is not UTF-8 text"},
    }
    return RequestValidationError([problem])


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OnwardError, _onward_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
