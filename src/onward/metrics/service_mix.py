"""Service-mix metrics ("treatment first"): how staff minutes split between treatment and case management."""

from __future__ import annotations

from onward.metrics.scope import CASE_MANAGEMENT, TREATMENT_CATEGORIES, Bag, Figure, Scope, Tally, total


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


def tallies(scope: Scope) -> list[Tally]:
    return [_minutes_tally(scope)]


def figures(bag: Bag) -> dict[str, Figure]:
    treatment = total(bag, "minutes", "treatment_minutes")
    case_management = total(bag, "minutes", "cm_minutes")
    return {
        "treatment_share": Figure.rate(treatment, treatment + case_management),
        "cm_per_treatment": Figure.rate(case_management, treatment),
    }
