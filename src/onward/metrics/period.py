"""The period a metric suite covers, and how its open ends resolve against the data.

`Period` is the analyst's: any range, exact figures (`onward metrics` on data the analyst holds).
`CalendarPeriod` is the published one: a month, quarter or year, read as of a month end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

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


# --- the published hierarchy: calendar months, quarters and years -------------------------------------------

PeriodKind = Literal["month", "quarter", "year"]

#: The forms a published period is asked in (the web, the API, `onward report`, `onward metrics --suppress`).
PERIOD_FORMS = "YYYY-MM (a month), YYYY-Qn (a quarter, n = 1-4) or YYYY (a year)"
_FORM = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})|-[Qq](?P<quarter>[1-4]))?$")


def month_end(day: date) -> date:
    """The last day of the month of `day`."""
    following = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
    return following - timedelta(days=1)


def last_month_end(day: date) -> date:
    """The latest month end on or before `day`: `day` itself when it is a month's last day.

    Published figures are only ever computed as of such a day, so a month is published once it is over
    and answers never differ by a few days' events.
    """
    return day if month_end(day) == day else date(day.year, day.month, 1) - timedelta(days=1)


@dataclass(frozen=True, slots=True, order=True)
class CalendarPeriod:
    """A month, quarter or year: the only periods published outputs answer on.

    Any two overlapping answers on arbitrary ranges subtract to a smaller one (January-March minus
    January-February is March), so published outputs take periods from this fixed hierarchy only, and
    suppress the whole hierarchy together (docs/metrics.md, "Published figures").
    """

    start: date
    kind: PeriodKind

    @staticmethod
    def parse(text: str, *, name: str = "period") -> CalendarPeriod:
        """'2025-03' (a month), '2025-Q1' (a quarter) or '2025' (a year)."""
        found = _FORM.match(text.strip())
        if found is None:
            raise ValidationError(f"{name} {text!r} is not a calendar period", expected=PERIOD_FORMS)
        year = int(found["year"])
        if year < 1:
            raise ValidationError(f"{name} {text!r} is not a calendar period", expected=PERIOD_FORMS)
        if found["month"] is not None:
            month = int(found["month"])
            if not 1 <= month <= 12:
                raise ValidationError(f"{name} {text!r}: there is no month {month}", expected=PERIOD_FORMS)
            return CalendarPeriod(date(year, month, 1), "month")
        if found["quarter"] is not None:
            return CalendarPeriod(date(year, 3 * int(found["quarter"]) - 2, 1), "quarter")
        return CalendarPeriod(date(year, 1, 1), "year")

    @staticmethod
    def month(year: int, month: int) -> CalendarPeriod:
        return CalendarPeriod(date(year, month, 1), "month")

    @staticmethod
    def quarter(year: int, quarter: int) -> CalendarPeriod:
        return CalendarPeriod(date(year, 3 * quarter - 2, 1), "quarter")

    @staticmethod
    def year(year: int) -> CalendarPeriod:
        return CalendarPeriod(date(year, 1, 1), "year")

    @property
    def label(self) -> str:
        """How the period is written in addresses, answers and options: 2025-03, 2025-Q1, 2025."""
        if self.kind == "month":
            return f"{self.start.year:04d}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year:04d}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year:04d}"

    @property
    def title(self) -> str:
        """The period in words, for pages and reports: 'March 2025', 'Q1 2025 (January-March)', '2025'."""
        if self.kind == "month":
            return f"{_MONTH_NAMES[self.start.month - 1]} {self.start.year}"
        if self.kind == "quarter":
            first, last = _MONTH_NAMES[self.start.month - 1], _MONTH_NAMES[self.start.month + 1]
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year} ({first}-{last})"
        return f"{self.start.year}"

    @property
    def end(self) -> date:
        """The period's last day."""
        length = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        return month_end(_add_months(self.start, length - 1))

    def months(self) -> list[CalendarPeriod]:
        """The calendar months of the period, in order."""
        length = {"month": 1, "quarter": 3, "year": 12}[self.kind]
        return [CalendarPeriod(_add_months(self.start, k), "month") for k in range(length)]

    def to_period(self, as_of: date) -> Period:
        """The analyst suite's Period for this calendar period, read as the log stood at `as_of`."""
        return Period(self.start, self.end, as_of)


_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_as_of(text: str, *, name: str = "as_of") -> date:
    """An `as_of` for published outputs: YYYY-MM-DD or YYYY-MM, snapped to the latest month end on or
    before it (YYYY-MM means that month's last day)."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}", text):
            return month_end(date.fromisoformat(f"{text}-01"))
        return last_month_end(date.fromisoformat(text))
    except ValueError:
        raise ValidationError(f"{name} {text!r} is not a date", expected="YYYY-MM-DD or YYYY-MM") from None


def published_periods(first: date, as_of: date) -> list[CalendarPeriod]:
    """Every calendar period published as of the month end `as_of`: each month from January of the year
    of `first` to `as_of`, and each quarter and year that is over by then; oldest first, years before
    their quarters before their months."""
    out: list[CalendarPeriod] = []
    for year in range(first.year, as_of.year + 1):
        candidates = [CalendarPeriod.year(year)]
        for quarter in range(1, 5):
            candidates.append(CalendarPeriod.quarter(year, quarter))
            candidates += [CalendarPeriod.month(year, m) for m in range(3 * quarter - 2, 3 * quarter + 1)]
        out += [p for p in candidates if p.end <= as_of]
    return out
