"""Metric definitions of docs/metrics.md as Ibis expressions over the event-log tables."""
