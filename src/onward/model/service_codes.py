"""The service-code catalog: HCPCS / CPT code → category and typical minutes, with the public source.

The catalog is data (docs/extracts.md), sites can extend it, and an unknown code is reported, never
silently dropped. Codes and categories follow docs/references.md ("Service codes by category", US
Medicaid; the CMS HCPCS file and AMA CPT are the truth, states set details).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from onward.errors import ValidationError
from onward.model.eventlog import ServiceCategory

Unit = Literal["session", "15 min", "encounter", "dose"]

_HCPCS = "CMS HCPCS Level II file"
_CPT = "AMA CPT (psychiatry / E/M)"
_REF = "docs/references.md, service codes by category"


@dataclass(frozen=True, slots=True)
class ServiceCode:
    """One billable code. `minutes` is the typical length of one unit (one session, 15 min, …)."""

    code: str
    description: str
    category: ServiceCategory
    minutes: int
    unit: Unit
    source: str


def _c(
    code: str, description: str, category: ServiceCategory, minutes: int, unit: Unit, source: str
) -> ServiceCode:
    return ServiceCode(code, description, category, minutes, unit, f"{source}; {_REF}")


_T, _M, _A = ServiceCategory.TREATMENT, ServiceCategory.MEDICATION, ServiceCategory.ASSESSMENT
_CM, _CR = ServiceCategory.CASE_MANAGEMENT, ServiceCategory.CRISIS
_PS, _SK = ServiceCategory.PEER_SUPPORT, ServiceCategory.SKILLS

SERVICE_CODES: tuple[ServiceCode, ...] = (
    # treatment
    _c("90832", "Psychotherapy, 30 minutes", _T, 30, "session", _CPT),
    _c("90834", "Psychotherapy, 45 minutes", _T, 45, "session", _CPT),
    _c("90837", "Psychotherapy, 60 minutes", _T, 60, "session", _CPT),
    _c("90846", "Family psychotherapy without the patient, 50 minutes", _T, 50, "session", _CPT),
    _c("90847", "Family psychotherapy with the patient, 50 minutes", _T, 50, "session", _CPT),
    _c("90853", "Group psychotherapy", _T, 60, "session", _CPT),
    _c("H0004", "Behavioral health counselling and therapy, per 15 minutes", _T, 15, "15 min", _HCPCS),
    _c("H0005", "Alcohol and/or drug services; group counselling", _T, 60, "session", _HCPCS),
    _c(
        "H0015",
        "Alcohol and/or drug services; intensive outpatient (at least 3 hours a day)",
        _T,
        180,
        "session",
        _HCPCS,
    ),
    _c("H2019", "Therapeutic behavioral services, per 15 minutes", _T, 15, "15 min", _HCPCS),
    # medication
    _c("99212", "Office visit, established patient, 10-19 minutes", _M, 15, "encounter", _CPT),
    _c("99213", "Office visit, established patient, 20-29 minutes", _M, 25, "encounter", _CPT),
    _c("99214", "Office visit, established patient, 30-39 minutes", _M, 35, "encounter", _CPT),
    _c("99215", "Office visit, established patient, 40-54 minutes", _M, 45, "encounter", _CPT),
    _c("99222", "Initial hospital inpatient care, 55 minutes", _M, 55, "encounter", _CPT),
    _c("99232", "Subsequent hospital inpatient care, 35 minutes", _M, 35, "encounter", _CPT),
    _c(
        "H0020",
        "Alcohol and/or drug services; methadone administration and/or service",
        _M,
        15,
        "encounter",
        _HCPCS,
    ),
    _c("H0033", "Oral medication administration, direct observation", _M, 15, "encounter", _HCPCS),
    _c(
        "H0014",
        "Alcohol and/or drug services; ambulatory detoxification (buprenorphine induction at some payers)",
        _M,
        60,
        "encounter",
        _HCPCS,
    ),
    _c(
        "H0016",
        "Alcohol and/or drug services; medical/somatic (buprenorphine maintenance at some payers)",
        _M,
        20,
        "encounter",
        _HCPCS,
    ),
    _c("J0571", "Buprenorphine, oral, 1 mg", _M, 0, "dose", _HCPCS),
    _c("J0572", "Buprenorphine/naloxone, oral, up to 3 mg buprenorphine", _M, 0, "dose", _HCPCS),
    _c("J0573", "Buprenorphine/naloxone, oral, 3.1-6 mg buprenorphine", _M, 0, "dose", _HCPCS),
    _c("J0574", "Buprenorphine/naloxone, oral, 6.1-10 mg buprenorphine", _M, 0, "dose", _HCPCS),
    _c("J0575", "Buprenorphine/naloxone, oral, over 10 mg buprenorphine", _M, 0, "dose", _HCPCS),
    # assessment
    _c("90791", "Psychiatric diagnostic evaluation", _A, 60, "encounter", _CPT),
    _c("90792", "Psychiatric diagnostic evaluation with medical services", _A, 60, "encounter", _CPT),
    _c("H0031", "Mental health assessment, by non-physician", _A, 60, "encounter", _HCPCS),
    _c("H0001", "Alcohol and/or drug assessment", _A, 60, "encounter", _HCPCS),
    _c(
        "H0002",
        "Behavioral health screening to determine eligibility for admission",
        _A,
        30,
        "encounter",
        _HCPCS,
    ),
    _c("H0032", "Mental health service plan development by non-physician", _A, 30, "encounter", _HCPCS),
    _c("96127", "Brief emotional/behavioral assessment with scoring (e.g. PHQ-9)", _A, 5, "encounter", _CPT),
    # case management
    _c("T1016", "Case management, per 15 minutes", _CM, 15, "15 min", _HCPCS),
    _c("T1017", "Targeted case management, per 15 minutes", _CM, 15, "15 min", _HCPCS),
    _c("G9012", "Other specified case management service", _CM, 30, "encounter", _HCPCS),
    _c("H0006", "Alcohol and/or drug services; case management", _CM, 30, "encounter", _HCPCS),
    # crisis
    _c("H2011", "Crisis intervention service, per 15 minutes", _CR, 15, "15 min", _HCPCS),
    _c("90839", "Psychotherapy for crisis, first 60 minutes", _CR, 60, "session", _CPT),
    _c("90840", "Psychotherapy for crisis, each additional 30 minutes", _CR, 30, "session", _CPT),
    # peer support and skills
    _c("H0038", "Self-help/peer services, per 15 minutes", _PS, 15, "15 min", _HCPCS),
    _c("H2014", "Skills training and development, per 15 minutes", _SK, 15, "15 min", _HCPCS),
    _c("H2017", "Psychosocial rehabilitation services, per 15 minutes", _SK, 15, "15 min", _HCPCS),
)


class UnknownServiceCodeError(KeyError):
    """A code the catalog does not know; callers must report it (never drop the service)."""


class ServiceCatalog(Mapping[str, ServiceCode]):
    """Read-only code → ServiceCode lookup; `extend` returns a new catalog with a site's own codes."""

    def __init__(self, codes: Iterable[ServiceCode] = SERVICE_CODES) -> None:
        self._codes: dict[str, ServiceCode] = {}
        for code in codes:
            self._codes[code.code.upper()] = code

    def __getitem__(self, code: str) -> ServiceCode:
        try:
            return self._codes[code.strip().upper()]
        except KeyError:
            raise UnknownServiceCodeError(code) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)

    def category(self, code: str) -> ServiceCategory:
        """The category of a code; raises UnknownServiceCodeError for a code not in the catalog."""
        return self[code].category

    def classify(self, codes: Iterable[str]) -> tuple[dict[str, ServiceCategory], list[str]]:
        """Categories of the known codes, and the sorted list of unknown ones (to report)."""
        known: dict[str, ServiceCategory] = {}
        unknown: set[str] = set()
        for code in codes:
            if code.strip().upper() in self._codes:
                known[code] = self.category(code)
            else:
                unknown.add(code)
        return known, sorted(unknown)

    def codes_in(self, category: ServiceCategory) -> list[str]:
        return [c for c, spec in self._codes.items() if spec.category == category]

    def extend(self, codes: Iterable[ServiceCode]) -> ServiceCatalog:
        """A catalog with a site's codes added (a site's entry replaces a built-in one of the same code)."""
        return ServiceCatalog([*self._codes.values(), *codes])


_UNITS: dict[str, Unit] = {"session": "session", "15 min": "15 min", "encounter": "encounter", "dose": "dose"}
_COLUMNS = ("code", "description", "category", "minutes", "unit", "source")


def parse_catalog_csv(text: str, *, file: str = "<catalog>") -> list[ServiceCode]:
    """A site's extension from CSV text (columns code, description, category, minutes, unit, source)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError("missing column", file=file, column=missing[0], expected=", ".join(_COLUMNS))
    out: list[ServiceCode] = []
    categories = {c.value for c in ServiceCategory}
    units = tuple(_UNITS)
    for row_number, row in enumerate(reader, start=2):
        code = (row["code"] or "").strip()
        if not code:
            raise ValidationError("empty code", file=file, row=row_number, column="code")
        if row["category"] not in categories:
            raise ValidationError(
                f"unknown category {row['category']!r}",
                file=file,
                row=row_number,
                column="category",
                expected=", ".join(sorted(categories)),
            )
        try:
            minutes = int(row["minutes"])
        except (TypeError, ValueError):
            raise ValidationError(
                f"not a whole number: {row['minutes']!r}", file=file, row=row_number, column="minutes"
            ) from None
        if not 0 <= minutes <= 1440:
            raise ValidationError(
                f"{minutes} out of range", file=file, row=row_number, column="minutes", expected="0..1440"
            )
        unit = row["unit"]
        if unit not in units:
            raise ValidationError(
                f"unknown unit {unit!r}", file=file, row=row_number, column="unit", expected=", ".join(units)
            )
        if not (row["source"] or "").strip():
            raise ValidationError("every code needs a source", file=file, row=row_number, column="source")
        out.append(
            ServiceCode(
                code,
                row["description"],
                ServiceCategory(row["category"]),
                minutes,
                _UNITS[unit],
                row["source"].strip(),
            )
        )
    return out


def default_catalog() -> ServiceCatalog:
    return ServiceCatalog(SERVICE_CODES)
