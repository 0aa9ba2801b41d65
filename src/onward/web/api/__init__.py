"""The JSON API under /api/v1: one router per area, collected here."""

from __future__ import annotations

from fastapi import APIRouter

from onward.web.api import health, programs, session, users

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """All API routers under API_PREFIX."""
    router = APIRouter(prefix=API_PREFIX)
    for module in (health, session, programs, users):
        router.include_router(module.router)
    router.include_router(__import__("onward.web.api.metrics", fromlist=["router"]).router)
    return router
