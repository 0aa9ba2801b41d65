"""Metric definitions of DESIGN section 5 as Ibis expressions over the event-log tables."""
