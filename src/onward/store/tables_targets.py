"""Targets: what a published figure should reach, per metric and program, with its history (docs/targets.md).

Every change is a new row; nothing is overwritten. A leader's target is `active` at once and the one it
replaces becomes `superseded`; a manager's proposal for one of their programs waits as `proposed` until a
leader accepts it (then it is `active`) or declines it (`declined`). A target is removed by a leader with
a row of status `removed`. Each row says who, when, and why (`reason`, required).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onward.store.tables import ID, Base


class Target(Base):
    """One version of the target of a metric for the system (program_id NULL) or one program."""

    __tablename__ = "targets"
    __table_args__ = (Index("ix_targets_metric_program", "metric_key", "program_id"),)

    target_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    metric_key: Mapped[str] = mapped_column(String(64))
    program_id: Mapped[str | None] = mapped_column(ID, ForeignKey("programs.program_id"))
    value: Mapped[float | None] = mapped_column(Float)  # None only on a `removed` row
    margin: Mapped[float | None] = mapped_column(Float)  # the at-risk band, in the metric's unit
    status: Mapped[str] = mapped_column(String(16))  # proposed, active, superseded, declined, removed
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str | None] = mapped_column(String(32))  # user id; None for the command line
    set_by_name: Mapped[str] = mapped_column(String(120))  # username (cli:login for the command line)
    set_by_role: Mapped[str] = mapped_column(String(32))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by_name: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
