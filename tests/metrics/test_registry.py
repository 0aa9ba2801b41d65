"""The registry holds every key of docs/metrics.md, each with a definition and a source."""

from __future__ import annotations

from onward.metrics.registry import METRICS

DOCUMENTED_KEYS = [
    "admissions",
    "discharges",
    "active_census",
    "treatment_share",
    "cm_per_treatment",
    "days_to_first_treatment_median",
    "days_to_first_treatment_p90",
    "share_treated_within_14_days",
    "share_treated_within_6_weeks",
    "share_treated_within_18_weeks",
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
    "sud_initiation_14d",
    "sud_engagement_34d",
    "followup_7d",
    "followup_30d",
]


def test_every_documented_key_in_display_order() -> None:
    assert list(METRICS) == DOCUMENTED_KEYS


def test_each_metric_says_what_it_counts_and_where_that_comes_from() -> None:
    for key, metric in METRICS.items():
        assert metric.key == key
        assert len(metric.definition) > 30 and metric.source and metric.title and metric.month_grouping
        assert metric.has_parts == (metric.kind != "count")
    assert METRICS["remission_6m"].source.startswith("HEDIS") and "DRR-E" in METRICS["remission_6m"].source
    assert "NHS Talking Therapies" in METRICS["recovery_rate"].source


def test_docs_list_every_metric_with_its_definition() -> None:
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "metrics.md").read_text()
    for metric in METRICS.values():
        assert f"`{metric.key}`" in docs
        assert metric.definition.replace("|", "\\|") in docs, (
            f"docs/metrics.md has an old definition of {metric.key}"
        )
