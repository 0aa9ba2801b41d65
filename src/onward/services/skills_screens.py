"""EPDS screens in the perinatal tracks (docs/skills.md, "Perinatal screening")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from onward.store.tables_skills import PerinatalScreen


def screens_of(session: Session, cohort_id: str) -> list[PerinatalScreen]:
    """A parent cohort's screens, oldest first."""
    return list(
        session.scalars(
            select(PerinatalScreen)
            .where(PerinatalScreen.cohort_id == cohort_id)
            .order_by(PerinatalScreen.screened_on, PerinatalScreen.screen_id)
        )
    )
