"""The simulator's skills levers filled from the delivery logs, for the what-if form (docs/whatif.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from onward.services.skills_coverage import observed_coverage


def skills_levers_from_logs(session: Session, on: date, custom: str) -> dict[str, Any]:
    """The what-if form with the custom scenario chosen and its skills levers at the logged coverage
    (aggregates only; a lever the logs cannot measure is left blank, i.e. at the status quo)."""
    seen = observed_coverage(session, on)
    form: dict[str, Any] = {"scenarios": ["status-quo", custom], "people": 100_000, "years": 5, "runs": 10}
    parts = []
    if seen.prenatal is not None:
        form["lever_prenatal_coverage"] = f"{seen.prenatal:.2f}"
        parts.append(f"prenatal {seen.prenatal:.0%} of {seen.parents} parents whose due date has passed")
    if seen.school is not None:
        form["lever_school_coverage"] = f"{seen.school:.2f}"
        parts.append(
            f"schools {seen.school:.0%} of {seen.school_age} school-age residents in the last 12 months"
        )
    form["coverage_note"] = (
        "Skills levers from the delivery logs: " + "; ".join(parts) + "."
        if parts
        else "The delivery logs have no skills activity yet: type a target instead."
    )
    return form
