"""The service codes imports could not match to the catalogue, for the admin page: one line per code and
kind, summed over every import, with the latest import that met it (`interop/service_catalogue.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.security.access import Actor
from onward.security.policy import Permission
from onward.services._guard import require_permission
from onward.store.tables import ImportRecord
from onward.store.tables_access import ServiceCodeIssue


@dataclass(frozen=True, slots=True)
class CodeLine:
    code: str
    kind: str
    given_category: str | None
    catalogue_category: str | None
    rows: int
    imports: int
    last_import: datetime
    last_source: str
    first_service_id: str


def code_issue_lines(*, session: Session, actor: Actor) -> list[CodeLine]:
    require_permission(actor, Permission.MANAGE_USERS)
    grouped = (
        select(
            ServiceCodeIssue.code,
            ServiceCodeIssue.kind,
            ServiceCodeIssue.given_category,
            ServiceCodeIssue.catalogue_category,
            func.sum(ServiceCodeIssue.rows),
            func.count(),
            func.max(ServiceCodeIssue.import_id),
            func.min(ServiceCodeIssue.first_service_id),
        )
        .group_by(
            ServiceCodeIssue.code,
            ServiceCodeIssue.kind,
            ServiceCodeIssue.given_category,
            ServiceCodeIssue.catalogue_category,
        )
        .order_by(ServiceCodeIssue.kind.desc(), func.sum(ServiceCodeIssue.rows).desc(), ServiceCodeIssue.code)
    )
    rows = session.execute(grouped).all()
    imports = {
        r.import_id: r
        for r in session.scalars(select(ImportRecord).where(ImportRecord.import_id.in_({r[6] for r in rows})))
    }
    return [
        CodeLine(
            code=r[0],
            kind=r[1],
            given_category=r[2],
            catalogue_category=r[3],
            rows=int(r[4] or 0),
            imports=int(r[5]),
            last_import=imports[r[6]].finished_at,
            last_source=imports[r[6]].source,
            first_service_id=r[7],
        )
        for r in rows
    ]
