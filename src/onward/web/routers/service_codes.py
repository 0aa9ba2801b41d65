"""`/admin/service-codes`: the service codes imports met that the catalogue does not know or
categorises otherwise (docs/extracts.md, "Service codes"), and the catalogue itself."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from onward.model.service_codes import default_catalog
from onward.services.service_code_issues import code_issue_lines
from onward.web.deps import ActorDep, SessionDep
from onward.web.templating import render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/admin/service-codes")
def service_codes_page(request: Request, actor: ActorDep, session: SessionDep) -> Response:
    lines = code_issue_lines(session=session, actor=actor)
    catalogue = default_catalog()
    context = {
        "title": "Service codes",
        "lines": lines,
        "catalogue": [catalogue[c] for c in catalogue],
    }
    return render(request, "admin_service_codes.html", context)
