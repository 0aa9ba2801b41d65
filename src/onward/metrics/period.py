"""The period a metric suite covers, and how its open ends resolve against the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from onward.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Period:
    """What the user asked for: each bound may be open (None means "the whole data range")."""

    start: date | None = None
    end: date | None = None
    as_of: date | None = None

    def resolve(self, *, first_event: date | None, last_event: date | None) -> ResolvedPeriod:
        """Fill open bounds from the data: data_end is `as_of`, else the latest recorded event."""
        data_end = self.as_of if self.as_of is not None else last_event
        if data_end is None:
            raise ValidationError("the event log has no dated events; nothing to measure")
        start = self.start if self.start is not None else (first_event or data_end)
        end = self.end if self.end is not None else data_end
        if start > end:
            raise ValidationError(f"the period starts ({start}) after it ends ({end})")
        return ResolvedPeriod(start=start, end=end, as_of=self.as_of, data_end=data_end)


@dataclass(frozen=True, slots=True)
class ResolvedPeriod:
    """A closed period [start, end] and the data_end that censors follow-up windows."""

    start: date
    end: date
    as_of: date | None
    data_end: date

    def months(self) -> list[date]:
        """The first day of every calendar month the period touches, in order."""
        out: list[date] = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(date(year, month, 1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def month_ends(self) -> list[tuple[date, date]]:
        """(month, checkpoint) pairs: each month's last day, clipped to the period's end."""
        pairs: list[tuple[date, date]] = []
        for first in self.months():
            nxt = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
            last = date.fromordinal(nxt.toordinal() - 1)
            pairs.append((first, min(last, self.end)))
        return pairs

    def to_json(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "data_end": self.data_end.isoformat(),
        }
