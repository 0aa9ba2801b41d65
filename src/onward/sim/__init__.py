"""Vectorised microsimulation of the whole system; writes the same event log as the live system."""
