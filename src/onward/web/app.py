"""The web application factory: nothing is built at import time, everything from the given settings."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from onward import __version__
from onward.metrics.period import Period
from onward.security.audit_writer import AuditWriter
from onward.security.keys import audit_key
from onward.settings import Settings
from onward.store.engine import create_db_engine, session_factory
from onward.web import interpreter
from onward.web.api import API_PREFIX, api_router
from onward.web.deps import enforce_policy
from onward.web.errors import install_error_handlers
from onward.web.metrics_cache import MetricsCache
from onward.web.routers import (
    access,
    account,
    admin,
    auth,
    capacity,
    dashboards,
    docs,
    homes,
    pathways,
    people,
    referrals,
    selfreport,
    service_codes,
    skills,
    skills_cohorts,
    skills_screens,
    story,
    targets,
    voice,
    voice_council,
    voice_moderation,
    waiting,
    whatif,
)
from onward.web.templating import make_templates

STATIC_DIR = Path(__file__).parent / "static"

#: Same-origin everything, and no inline script or style at all (OWASP ASVS V14.4.3): chart data
#: travels in `<script type="application/json">` blocks, which browsers never execute.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)
REQUEST_ID_HEADER = "X-Request-ID"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SecurityHeaders:
    """Pure ASGI middleware: a request id, and the security and caching headers of every answer.

    Written against ASGI rather than as `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs
    each request through an extra task and memory stream, which was a measurable share of a small
    request's CPU under load (docs/benchmarks.md, "Web under load")."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # One id per request, in every audit entry it causes and in the response, to trace both together.
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                if not static:
                    # Pages can hold identified records: never keep them in a shared cache (HIPAA 164.312).
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _warm_metrics(app: FastAPI) -> None:
    """Compute the dashboard's default view once, so the first leader to open it does not wait."""
    try:
        with app.state.session_factory() as session:
            app.state.metrics_cache.view(session, Period(None, None, None))
    except Exception:  # a warm-up is an optimisation: the page computes (and reports errors) itself
        logging.getLogger(__name__).exception("metrics warm-up failed")
    interpreter.settle()  # what the worker imported and built at start-up, it keeps (web/interpreter.py)


def create_app(settings: Settings, *, warm_metrics: bool = False) -> FastAPI:
    """A FastAPI app over the database of `settings`; the engine is disposed when the app shuts down.

    `warm_metrics` (used by `onward serve` and `onward demo`) computes the dashboard's default view in
    the background at start-up, then freezes the worker's long-lived objects out of the garbage
    collector's full passes, again after each new cube of published figures, and shortens the
    interpreter lock's switch interval: it is a serving process (`onward.web.interpreter`).
    """
    settings.check_serving()
    if warm_metrics:
        interpreter.tune_for_serving()
    engine = create_db_engine(settings.resolved_database_url)
    factory = session_factory(engine, audit_key=audit_key(settings))
    writer = AuditWriter(factory)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm_metrics:
            threading.Thread(target=_warm_metrics, args=(app,), name="metrics-warm-up", daemon=True).start()
        try:
            yield
        finally:
            writer.close()
            engine.dispose()

    app = FastAPI(
        title="Onward",
        version=__version__,
        summary="Run a public mental-health and SUD treatment system so that people get better and move on.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI loads from a CDN; /api/v1/docs is served from our own templates instead
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(enforce_policy)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = factory
    app.state.audit_writer = writer
    app.state.templates = make_templates()
    app.state.clock = _utc_now
    app.state.metrics_cache = MetricsCache(
        settings.resolved_database_url,
        refresh_seconds=settings.published_refresh_seconds,
        # A serving worker keeps each cube for minutes: out of the collector's full passes.
        after_new_cube=interpreter.settle if warm_metrics else None,
    )

    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (
        auth.router,
        account.router,
        homes.router,
        pathways.router,
        referrals.router,
        selfreport.router,
        people.router,
        admin.router,
        docs.router,
        dashboards.router,
        whatif.router,
        targets.router,
        story.router,
        skills.router,
        skills_cohorts.router,
        skills_screens.router,
        access.router,
        waiting.router,
        voice.router,
        voice_council.router,
        voice_moderation.router,
        capacity.router,
        service_codes.router,
    ):
        app.include_router(router)
    app.include_router(api_router())
    install_error_handlers(app)
    return app


def app_from_environment() -> FastAPI:
    """The app of the ONWARD_* environment: what each worker of `onward serve --workers N` runs."""
    from onward.settings import load_settings

    return create_app(load_settings(), warm_metrics=True)
