"""The JSON API under /api/v1: one router per area, collected here."""

from __future__ import annotations

from fastapi import APIRouter

from onward.web.api import (
    audit,
    health,
    metrics,
    pathways,
    people,
    programs,
    session,
    targets,
    users,
    waiting,
)

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """All API routers under API_PREFIX."""
    router = APIRouter(prefix=API_PREFIX)
    for module in (health, session, programs, users, metrics, people, audit, pathways, targets, waiting):
        router.include_router(module.router)
    return router
