"""Service-mix metrics ("treatment first"): how staff minutes split between treatment and case management."""

from __future__ import annotations

from collections.abc import Callable, Collection

from onward.metrics.scope import (
    CASE_MANAGEMENT,
    TREATMENT_CATEGORIES,
    Bag,
    Figure,
    Scope,
    Tally,
    build_tallies,
    total,
)


def _minutes_tally(scope: Scope) -> Tally:
    s = scope.services_with_program()
    rows = s.filter(scope.in_period(s.service_date))
    rows = rows.mutate(**scope.keys(program=rows.program_id, when=rows.service_date))
    expr = scope.aggregate(
        rows,
        treatment_minutes=rows.minutes.sum(where=rows.category.isin(TREATMENT_CATEGORIES)),
        cm_minutes=rows.minutes.sum(where=rows.category == CASE_MANAGEMENT),
    )
    return Tally("minutes", expr)


#: The tallies each metric is finished from (lets a caller compute a subset of the suite).
NEEDS: dict[str, tuple[str, ...]] = {"treatment_share": ("minutes",), "cm_per_treatment": ("minutes",)}


_BUILDERS: dict[str, Callable[[Scope], Tally]] = {"minutes": _minutes_tally}


def tallies(scope: Scope, needed: Collection[str] | None = None) -> list[Tally]:
    """The aggregate queries of this area (only those `needed`)."""
    return build_tallies(_BUILDERS, scope, needed)


def figures(bag: Bag) -> dict[str, Figure]:
    treatment = total(bag, "minutes", "treatment_minutes")
    case_management = total(bag, "minutes", "cm_minutes")
    return {
        "treatment_share": Figure.rate(treatment, treatment + case_management),
        "cm_per_treatment": Figure.rate(case_management, treatment),
    }
