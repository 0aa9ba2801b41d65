"""The service codes imports could not match to the catalogue, for the admin page: one line per code and
problem, as the latest import that met it found it, with how many imports met it
(`interop/service_catalogue.py`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
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
    rows: int  # in the latest import that met it (importing a file again does not add up)
    imports: int
    last_import: datetime
    last_source: str
    first_service_id: str


def code_issue_lines(*, session: Session, actor: Actor) -> list[CodeLine]:
    require_permission(actor, Permission.MANAGE_USERS)
    found = session.execute(
        select(ServiceCodeIssue, ImportRecord)
        .join(ImportRecord, ImportRecord.import_id == ServiceCodeIssue.import_id)
        .order_by(ServiceCodeIssue.import_id, ServiceCodeIssue.issue_id)
    ).all()
    latest: dict[tuple[str, str, str | None, str | None], tuple[ServiceCodeIssue, ImportRecord]] = {}
    imports: dict[tuple[str, str, str | None, str | None], set[int]] = {}
    for issue, record in found:
        key = (issue.code, issue.kind, issue.given_category, issue.catalogue_category)
        latest[key] = (issue, record)
        imports.setdefault(key, set()).add(record.import_id)
    lines = [
        CodeLine(
            code=issue.code,
            kind=issue.kind,
            given_category=issue.given_category,
            catalogue_category=issue.catalogue_category,
            rows=issue.rows,
            imports=len(imports[key]),
            last_import=record.finished_at,
            last_source=record.source,
            first_service_id=issue.first_service_id,
        )
        for key, (issue, record) in latest.items()
    ]
    return sorted(lines, key=lambda line: (line.kind != "unknown", -line.rows, line.code))
