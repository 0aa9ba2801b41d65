"""Extracts (CSV / Parquet) of the event log."""
