"""Domain errors become an HTML error page or a JSON body with the error's http_status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from onward.errors import OnwardError, TooManyAttemptsError
from onward.web.deps import LoginRequired
from onward.web.templating import render

API_PREFIX = "/api/"


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


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = "there is no page at this address" if exc.status_code == 404 else str(exc.detail)
    response = _error_response(request, exc.status_code, message, "HTTPException")
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OnwardError, _onward_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
