"""Liveness for load balancers and `onward serve` users: does the database answer, at which schema?"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from onward.store.migrate import head_revision
from onward.web.schemas import HealthOut

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(request: Request) -> JSONResponse:
    """Database reachable and its schema revision; no sign-in needed, no data disclosed."""
    engine: Engine = request.app.state.engine
    head = head_revision()
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as error:
        body = HealthOut(
            status="error", database=f"unreachable: {type(error).__name__}", revision=None, head=head
        )
        return JSONResponse(body.model_dump(), status_code=503)
    ok = revision == head
    body = HealthOut(
        status="ok" if ok else "error",
        database="ok"
        if ok
        else ("not initialised" if revision is None else "needs upgrade (run onward init)"),
        revision=revision,
        head=head,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)
