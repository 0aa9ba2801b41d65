"""Onward: a public mental-health and SUD treatment system built so that people get better and move on."""

from __future__ import annotations

__version__ = "0.1.0"
