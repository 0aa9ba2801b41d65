"""The service-code catalogue applied on import: every imported service's code is looked up; a code the
catalogue does not know, or a category that disagrees with the catalogue's, is counted in the import
summary and kept in `service_code_issues` (listed at `/admin/service-codes`). The rows themselves are
imported as given: never dropped (docs/extracts.md, "Service codes").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, insert

from onward.errors import NotFoundError
from onward.model.service_codes import ServiceCatalog, default_catalog, parse_catalog_csv
from onward.store.tables_access import ServiceCodeIssue

UNKNOWN = "unknown"
CATEGORY = "category"


@dataclass(frozen=True, slots=True)
class CodeIssue:
    """Rows of one import with one code (and given category) the catalogue does not confirm."""

    code: str
    kind: str  # UNKNOWN or CATEGORY
    given_category: str | None
    catalogue_category: str | None
    rows: int
    first_service_id: str

    def describe(self) -> str:
        if self.kind == UNKNOWN:
            return f"{self.code}: not in the catalogue ({self.rows:,} rows, as {self.given_category})"
        return (
            f"{self.code}: given as {self.given_category}, the catalogue says {self.catalogue_category} "
            f"({self.rows:,} rows)"
        )


def load_catalogue(path: Path | None) -> ServiceCatalog:
    """The built-in catalogue, extended by a site's CSV (code, description, category, minutes, unit,
    source) when one is given."""
    catalogue = default_catalog()
    if path is None:
        return catalogue
    if not path.is_file():
        raise NotFoundError(f"no service-code file {path}")
    return catalogue.extend(parse_catalog_csv(path.read_text(encoding="utf-8"), file=str(path)))


def catalogue_arrays(catalogue: ServiceCatalog) -> tuple[pa.Array, pa.Array]:
    """(codes upper-cased, their categories), aligned, for vectorised look-ups."""
    codes = list(catalogue)
    return pa.array(codes, pa.string()), pa.array([catalogue[c].category.value for c in codes], pa.string())


def code_issues(services: pa.Table, catalogue: ServiceCatalog) -> list[CodeIssue]:
    """The codes of `services` (event-log columns) the catalogue does not know or categorises otherwise."""
    if services.num_rows == 0:
        return []
    codes = pc.utf8_upper(pc.utf8_trim_whitespace(services.column("code")))
    grouped = (
        pa.table(
            {"code": codes, "category": services.column("category"), "sid": services.column("service_id")}
        )
        .group_by(["code", "category"], use_threads=False)
        .aggregate([("sid", "min"), ("sid", "count")])
    )
    known_codes, known_categories = catalogue_arrays(catalogue)
    where = pc.index_in(grouped.column("code"), known_codes)
    expected = pc.take(known_categories, where)
    issues: list[CodeIssue] = []
    for code, given, first, rows, wanted in zip(
        grouped.column("code").to_pylist(),
        grouped.column("category").to_pylist(),
        grouped.column("sid_min").to_pylist(),
        grouped.column("sid_count").to_pylist(),
        expected.to_pylist(),
        strict=True,
    ):
        if wanted is None:
            issues.append(CodeIssue(code, UNKNOWN, given, None, int(rows), first))
        elif wanted != given:
            issues.append(CodeIssue(code, CATEGORY, given, wanted, int(rows), first))
    return sorted(issues, key=lambda i: (i.kind, -i.rows, i.code))


def record_issues(connection: Connection, import_id: int, issues: list[CodeIssue]) -> None:
    if not issues:
        return
    connection.execute(
        insert(ServiceCodeIssue),
        [
            {
                "import_id": import_id,
                "code": i.code[:16],
                "kind": i.kind,
                "given_category": i.given_category,
                "catalogue_category": i.catalogue_category,
                "rows": i.rows,
                "first_service_id": i.first_service_id,
            }
            for i in issues
        ],
    )
