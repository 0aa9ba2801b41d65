from __future__ import annotations

import pytest

from onward.errors import ValidationError
from onward.model.eventlog import ServiceCategory
from onward.model.service_codes import (
    SERVICE_CODES,
    UnknownServiceCodeError,
    default_catalog,
    parse_catalog_csv,
)


def test_reference_codes_have_their_categories() -> None:
    catalog = default_catalog()
    expected = {
        "90834": ServiceCategory.TREATMENT,
        "90853": ServiceCategory.TREATMENT,
        "H0015": ServiceCategory.TREATMENT,
        "99213": ServiceCategory.MEDICATION,
        "J0572": ServiceCategory.MEDICATION,
        "90791": ServiceCategory.ASSESSMENT,
        "96127": ServiceCategory.ASSESSMENT,
        "T1017": ServiceCategory.CASE_MANAGEMENT,
        "H2011": ServiceCategory.CRISIS,
        "90839": ServiceCategory.CRISIS,
        "H0038": ServiceCategory.PEER_SUPPORT,
        "H2014": ServiceCategory.SKILLS,
    }
    for code, category in expected.items():
        assert catalog.category(code) == category
    assert catalog["90837"].minutes == 60 and catalog["t1016"].unit == "15 min"


def test_every_code_has_a_source_and_codes_are_unique() -> None:
    assert all(c.source for c in SERVICE_CODES)
    assert len({c.code for c in SERVICE_CODES}) == len(SERVICE_CODES)


def test_unknown_codes_are_reported_not_dropped() -> None:
    catalog = default_catalog()
    known, unknown = catalog.classify(["90834", "X9999", "T1016", "X9999"])
    assert known == {"90834": ServiceCategory.TREATMENT, "T1016": ServiceCategory.CASE_MANAGEMENT}
    assert unknown == ["X9999"]
    with pytest.raises(UnknownServiceCodeError):
        catalog.category("X9999")


def test_sites_extend_the_catalog_from_csv() -> None:
    extra = parse_catalog_csv(
        "code,description,category,minutes,unit,source\nS9484,Crisis per hour,crisis,60,session,State\n"
    )
    catalog = default_catalog().extend(extra)
    assert catalog.category("S9484") == ServiceCategory.CRISIS and len(catalog) == len(SERVICE_CODES) + 1


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("S1,x,nonsense,60,session,src", "category"),
        ("S1,x,crisis,sixty,session,src", "minutes"),
        ("S1,x,crisis,60,hour,src", "unit"),
        ("S1,x,crisis,60,session,", "source"),
    ],
)
def test_bad_catalog_rows_name_row_and_column(row: str, column: str) -> None:
    with pytest.raises(ValidationError, match=f"row 2, column {column}"):
        parse_catalog_csv(f"code,description,category,minutes,unit,source\n{row}\n", file="site.csv")
