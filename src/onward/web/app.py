"""The web application factory: nothing is built at import time, everything from the given settings."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response

from onward import __version__
from onward.metrics.period import Period
from onward.settings import Settings
from onward.store.engine import create_db_engine, session_factory
from onward.web.api import API_PREFIX, api_router
from onward.web.errors import install_error_handlers
from onward.web.metrics_cache import MetricsCache
from onward.web.routers import admin, auth, dashboards, docs, homes, whatif
from onward.web.templating import make_templates
from onward.web.throttle import LoginThrottle

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "onward_session"

#: Same-origin everything: no CDN, no external fonts; inline styles/scripts allowed for chart specs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if not request.url.path.startswith("/static/"):
        # Pages can hold identified records: never keep them in a shared cache (HIPAA 164.312).
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _warm_metrics(app: FastAPI) -> None:
    """Compute the dashboard's default view once, so the first leader to open it does not wait."""
    try:
        with app.state.session_factory() as session:
            app.state.metrics_cache.view(session, Period(None, None, None))
    except Exception:  # a warm-up is an optimisation: the page computes (and reports errors) itself
        logging.getLogger(__name__).exception("metrics warm-up failed")


def create_app(settings: Settings, *, warm_metrics: bool = False) -> FastAPI:
    """A FastAPI app over the database of `settings`; the engine is disposed when the app shuts down.

    `warm_metrics` (used by `onward serve` and `onward demo`) computes the dashboard's default view in
    the background at start-up.
    """
    engine = create_db_engine(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_metrics:
            threading.Thread(target=_warm_metrics, args=(app,), name="metrics-warm-up", daemon=True).start()
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Onward",
        version=__version__,
        summary="Run a public mental-health and SUD treatment system so that people get better and move on.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN; /api/v1/docs is served from our own templates instead
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory(engine)
    app.state.templates = make_templates()
    app.state.clock = _utc_now
    app.state.login_throttle = LoginThrottle()
    app.state.metrics_cache = MetricsCache(settings.resolved_database_url)

    app.middleware("http")(_security_headers)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=settings.session_idle_minutes * 60,
        same_site="lax",
        https_only=settings.environment != "development",
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (auth.router, homes.router, admin.router, docs.router, dashboards.router, whatif.router):
        app.include_router(router)
    app.include_router(api_router())
    install_error_handlers(app)
    return app
