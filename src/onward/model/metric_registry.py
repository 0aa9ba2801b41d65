"""Every metric of docs/metrics.md with its definition text and public source, in display order.

The CLI help, the report and the web read titles and definitions from here, so a number is never
shown without the words that say what it counts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

MetricKind = Literal["count", "rate", "days", "ratio"]
#: Which way a figure should move; None for a volume (admissions, census) that has no good direction.
Good = Literal["higher", "lower"]
#: The two kinds of number (docs/targets.md): "ship" numbers say whether the ship runs (access, waits,
#: caseloads, service mix), managers watch them for their programs; "direction" numbers say whether the
#: system goes the right way (recovery, graduation, stuck, re-entry), leaders watch them for the system.
Purpose = Literal["ship", "direction"]
PURPOSE_TITLES: dict[str, str] = {"ship": "Running the ship", "direction": "The direction"}
Area = Literal["flow", "service_mix", "access", "outcomes", "quality", "voice", "prevention"]

_ONWARD = "Onward definition (docs/metrics.md)"
_NHS_TT = "NHS Talking Therapies manual (caseness and reliable change)"


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    """One metric: `key` is the JSON key, `definition` the exact rule the code implements."""

    key: str
    title: str
    area: Area
    kind: MetricKind
    definition: str
    source: str
    month_grouping: str  # what "by month" means for this metric
    good: Good | None = None  # set from GOOD below
    purpose: Purpose = "ship"  # set from PURPOSE below

    @property
    def has_parts(self) -> bool:
        """Rates, ratios and day figures carry a numerator and a denominator (for suppression)."""
        return self.kind != "count"


_DEFINITIONS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        "admissions",
        "Admissions",
        "flow",
        "count",
        "Episodes whose start_date is in the period.",
        _ONWARD,
        "start month",
    ),
    MetricDefinition(
        "discharges",
        "Discharges",
        "flow",
        "count",
        "Episodes whose end_date is in the period.",
        _ONWARD,
        "end month",
    ),
    MetricDefinition(
        "active_census",
        "Active census",
        "flow",
        "count",
        "Episodes open at `to`: start_date <= to and (no end_date or end_date > to).",
        _ONWARD,
        "open at the month's last day (or at `to` in the period's last month)",
    ),
    MetricDefinition(
        "treatment_share",
        "Treatment share of staff minutes",
        "service_mix",
        "rate",
        "Minutes of treatment services (category treatment or medication) / minutes of treatment plus "
        "case_management services, service_date in the period.",
        _ONWARD,
        "service month",
    ),
    MetricDefinition(
        "cm_per_treatment",
        "Case-management minutes per treatment minute",
        "service_mix",
        "ratio",
        "Minutes of case_management services / minutes of treatment services (treatment or medication), "
        "service_date in the period.",
        _ONWARD,
        "service month",
    ),
    MetricDefinition(
        "days_to_first_treatment_median",
        "Days to first treatment (median)",
        "access",
        "days",
        "Episodes started in the period; origin = the referral's referral_date (start_date without a "
        "referral); days from origin to the episode's first treatment service; episodes without one are "
        "censored at data_end; Kaplan-Meier median (smallest t with survival <= 0.5; null if never reached).",
        _ONWARD + "; Kaplan & Meier 1958 product-limit estimator",
        "start month",
    ),
    MetricDefinition(
        "days_to_first_treatment_p90",
        "Days to first treatment (90th percentile)",
        "access",
        "days",
        "As the median, but the smallest t with Kaplan-Meier survival <= 0.1 (null if never reached).",
        _ONWARD + "; Kaplan & Meier 1958 product-limit estimator",
        "start month",
    ),
    MetricDefinition(
        "share_treated_within_14_days",
        "Treated within 14 days",
        "access",
        "rate",
        "Of episodes started in the period with origin + 14 <= data_end: share whose first treatment service "
        "is at most 14 days after origin.",
        _ONWARD,
        "start month",
    ),
    MetricDefinition(
        "share_treated_within_6_weeks",
        "Treated within 6 weeks",
        "access",
        "rate",
        "Of episodes started in the period with origin + 42 <= data_end: share whose first treatment service "
        "is at most 42 days after origin.",
        "NHS Talking Therapies waiting-time standard (75 % within 6 weeks)",
        "start month",
    ),
    MetricDefinition(
        "share_treated_within_18_weeks",
        "Treated within 18 weeks",
        "access",
        "rate",
        "Of episodes started in the period with origin + 126 <= data_end: share whose first treatment "
        "service is at most 126 days after origin.",
        "NHS Talking Therapies waiting-time standard (95 % within 18 weeks)",
        "start month",
    ),
    MetricDefinition(
        "graduation_rate",
        "Graduation rate",
        "flow",
        "rate",
        "Episodes ended in the period with end_reason graduated / episodes ended in the period.",
        _ONWARD,
        "end month",
    ),
    MetricDefinition(
        "stuck_count",
        "People stuck",
        "flow",
        "count",
        "Episodes open at `to`, started >= 365 days before `to`, with no planned_end_date after `to`, and "
        "either no reliable improvement (PHQ-9/GAD-7 of the episode up to `to`, first vs latest; fewer than "
        "2 of an instrument means none) or no PHQ-9/GAD-7 measurement in the 90 days up to `to` (days 0-89 "
        "before it).",
        _ONWARD + "; reliable change per " + _NHS_TT,
        "evaluated at the month's last day (or at `to`)",
    ),
    MetricDefinition(
        "stuck_share",
        "Stuck share of census",
        "flow",
        "rate",
        "stuck_count / active_census, both at `to`.",
        _ONWARD,
        "evaluated at the month's last day (or at `to`)",
    ),
    MetricDefinition(
        "recovery_rate",
        "Recovery rate",
        "outcomes",
        "rate",
        "Episodes ended in the period with >= 2 measurements of PHQ-9 and/or GAD-7 (first vs last of each "
        "instrument that has >= 2): at caseness first (PHQ-9 >= 10 or GAD-7 >= 8) and below caseness on "
        "every measure last / those at caseness first.",
        _NHS_TT,
        "end month",
    ),
    MetricDefinition(
        "reliable_improvement_rate",
        "Reliable improvement rate",
        "outcomes",
        "rate",
        "Of the same episodes (all of them): a reliable drop (PHQ-9 >= 6, GAD-7 >= 4 points) on at least "
        "one measure and no reliable rise on the other.",
        _NHS_TT,
        "end month",
    ),
    MetricDefinition(
        "reliable_recovery_rate",
        "Reliable recovery rate",
        "outcomes",
        "rate",
        "Episodes at caseness first that both recovered and reliably improved / episodes at caseness first.",
        _NHS_TT,
        "end month",
    ),
    MetricDefinition(
        "reliable_deterioration_rate",
        "Reliable deterioration rate",
        "outcomes",
        "rate",
        "Of the same episodes as reliable improvement: a reliable rise on at least one measure and no "
        "reliable drop on the other.",
        _NHS_TT,
        "end month",
    ),
    MetricDefinition(
        "remission_6m",
        "Depression remission at 6 months",
        "outcomes",
        "rate",
        "Index = a person's first PHQ-9 > 9 measured in the period (index events with day 240 after "
        "data_end are left out); the last PHQ-9 of the person on days 120-240 after the index is < 5. "
        "No PHQ-9 in that window counts as not in remission.",
        "HEDIS MY2024 DRR-E (Depression Remission or Response for Adolescents and Adults)",
        "index month",
    ),
    MetricDefinition(
        "response_6m",
        "Depression response at 6 months",
        "outcomes",
        "rate",
        "Same index events; the last PHQ-9 on days 120-240 after the index is <= half the index score.",
        "HEDIS MY2024 DRR-E (Depression Remission or Response for Adolescents and Adults)",
        "index month",
    ),
    MetricDefinition(
        "reentry_12m_rate",
        "Re-entry within 12 months of graduating",
        "flow",
        "rate",
        "Graduated episodes ended in the period with end_date + 365 <= data_end whose person starts "
        "another episode on days 1-365 after the end.",
        _ONWARD,
        "end month",
    ),
    MetricDefinition(
        "sud_initiation_14d",
        "SUD treatment initiation (14 days)",
        "quality",
        "rate",
        "SUD episodes (is_sud) started in the period with start_date + 48 <= data_end: a treatment "
        "service of the episode on days 0-13 after start.",
        "HEDIS MY2024 IET (Initiation and Engagement of SUD Treatment)",
        "start month",
    ),
    MetricDefinition(
        "sud_engagement_34d",
        "SUD treatment engagement (34 days)",
        "quality",
        "rate",
        "Same episodes: initiated, and >= 2 more treatment services of the episode on days 1-34 after the "
        "first initiating one.",
        "HEDIS MY2024 IET (Initiation and Engagement of SUD Treatment)",
        "start month",
    ),
    MetricDefinition(
        "followup_7d",
        "Follow-up within 7 days of inpatient discharge",
        "quality",
        "rate",
        "Episodes in inpatient programs ended in the period with end_date + 30 <= data_end: the person "
        "has a service in a non-inpatient program on days 1-7 after discharge.",
        "HEDIS MY2024 FUH (Follow-Up After Hospitalization for Mental Illness)",
        "discharge month",
    ),
    MetricDefinition(
        "followup_30d",
        "Follow-up within 30 days of inpatient discharge",
        "quality",
        "rate",
        "Same discharges: a service in a non-inpatient program on days 1-30 after discharge.",
        "HEDIS MY2024 FUH (Follow-Up After Hospitalization for Mental Illness)",
        "discharge month",
    ),
)

#: The direction of good of every metric that has one (docs/targets.md); the others are volumes.
GOOD: dict[str, Good] = {
    "treatment_share": "higher",
    "cm_per_treatment": "lower",
    "days_to_first_treatment_median": "lower",
    "days_to_first_treatment_p90": "lower",
    "share_treated_within_14_days": "higher",
    "graduation_rate": "higher",
    "stuck_count": "lower",
    "stuck_share": "lower",
    "recovery_rate": "higher",
    "reliable_improvement_rate": "higher",
    "reliable_recovery_rate": "higher",
    "reliable_deterioration_rate": "lower",
    "remission_6m": "higher",
    "response_6m": "higher",
    "reentry_12m_rate": "lower",
    "sud_initiation_14d": "higher",
    "sud_engagement_34d": "higher",
    "followup_7d": "higher",
    "followup_30d": "higher",
}
#: The direction numbers; every other metric runs the ship (tests/metrics/test_registry.py checks both).
DIRECTION: frozenset[str] = frozenset(
    {
        "graduation_rate",
        "stuck_count",
        "stuck_share",
        "recovery_rate",
        "reliable_improvement_rate",
        "reliable_recovery_rate",
        "reliable_deterioration_rate",
        "remission_6m",
        "response_6m",
        "reentry_12m_rate",
    }
)

#: Every metric key of docs/metrics.md, in display order.
METRICS: dict[str, MetricDefinition] = {
    m.key: replace(m, good=GOOD.get(m.key), purpose="direction" if m.key in DIRECTION else "ship")
    for m in _DEFINITIONS
}

#: What "by program" means: the program an item belongs to.
PROGRAM_GROUPING = (
    "the program of the episode the item belongs to; a service without an episode counts for its "
    "staff member's program; a DRR-E index measurement for its episode's program (none if it has no "
    "episode)."
)
