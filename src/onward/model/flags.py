"""Clinician flags of one episode, as pure functions of its measurements and services on a given day.

A flag says what needs a clinician's attention now, and since when: `risk` (a risk item answered above 0),
`deteriorating`, `not_improving`, `stuck`, `exit_passed`, `measure_overdue`, `ready_to_graduate`.
docs/flags.md gives each rule, its threshold and the threshold's source. `since` is the first day of the
current unbroken stretch on which the rule has held; `reason` names the scores and dates in plain words.

The engine in `onward.metrics.flags` computes the same flags for every open episode at once on the
metric backends; a test holds the two to the same answers. Both hand their facts to `flag_reason`, so
the words are the same too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from onward.model.eventlog import Instrument, ServiceCategory
from onward.model.instruments import INSTRUMENTS

#: Most urgent first: the order a caseload lists an episode's flags in.
FLAG_NAMES: Final = (
    "risk",
    "deteriorating",
    "not_improving",
    "stuck",
    "exit_passed",
    "measure_overdue",
    "ready_to_graduate",
)

#: The stuck rule of the metrics (docs/metrics.md `stuck_count`): open a year, no measure in 90 days.
STUCK_MIN_OPEN_DAYS: Final = 365
STUCK_MEASURE_RECENT_DAYS: Final = 90

MOOD: Final = (Instrument.PHQ9.value, Instrument.GAD7.value)
RISK_INSTRUMENTS: Final = tuple(i.value for i, d in INSTRUMENTS.items() if d.risk_item is not None)
TREATMENT: Final = (ServiceCategory.TREATMENT.value, ServiceCategory.MEDICATION.value)

_PHQ, _GAD = INSTRUMENTS[Instrument.PHQ9], INSTRUMENTS[Instrument.GAD7]


@dataclass(frozen=True, slots=True)
class FlagRules:
    """Thresholds of the flags (settings `flag_*`; docs/flags.md names each source)."""

    not_improving_after_days: int = 56  # week 8 of active treatment
    measure_overdue_days: int = 30  # no measurement in the 30 days up to today
    recovery_sustained_days: int = 28  # reliable recovery held for 4 weeks


@dataclass(frozen=True, slots=True)
class EpisodeFacts:
    episode_id: str
    person_id: str
    start_date: date
    planned_end_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True, slots=True)
class MeasurementFacts:
    measurement_id: str
    instrument: str
    measured_on: date
    score: int
    items: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ServiceFacts:
    service_date: date
    category: str


@dataclass(frozen=True, slots=True)
class Flag:
    episode_id: str
    person_id: str
    flag: str
    since: date
    reason: str

    def to_json(self) -> dict[str, str]:
        return {
            "episode_id": self.episode_id,
            "person_id": self.person_id,
            "flag": self.flag,
            "since": self.since.isoformat(),
            "reason": self.reason,
        }


# --- NHS Talking Therapies change rules on running (count, first, latest) states ---------------------


@dataclass(frozen=True, slots=True)
class Change:
    improved: bool
    deteriorated: bool
    reliably_recovered: bool
    below: bool  # every instrument measured so far is below caseness on its latest score


def change(phq: tuple[int, int, int] | None, gad: tuple[int, int, int] | None) -> Change:
    """The rules of the outcome metrics on (count, first, latest) per instrument; an instrument measured
    fewer than twice does not count towards change or recovery, as in the metrics."""
    pairs = [(_PHQ, phq), (_GAD, gad)]
    paired = [(d, s) for d, s in pairs if s is not None and s[0] >= 2]
    case_first = any(s[1] >= d.caseness for d, s in paired)
    case_last = any(s[2] >= d.caseness for d, s in paired)
    drop = any(s[1] - s[2] >= (d.reliable_change or 0) for d, s in paired)
    rise = any(s[2] - s[1] >= (d.reliable_change or 0) for d, s in paired)
    improved = drop and not rise
    below = all(s[2] < d.caseness for d, s in pairs if s is not None)
    return Change(improved, rise and not drop, case_first and not case_last and improved, below)


@dataclass(frozen=True, slots=True)
class _Day:
    day: date
    phq: tuple[int, int, int] | None
    gad: tuple[int, int, int] | None
    status: Change


def _mood_days(measurements: Iterable[MeasurementFacts]) -> list[_Day]:
    mood = sorted(
        (m for m in measurements if m.instrument in MOOD), key=lambda m: (m.measured_on, m.measurement_id)
    )
    state: dict[str, tuple[int, int, int]] = {}
    days: list[_Day] = []
    for i, m in enumerate(mood):
        n, first, _ = state.get(m.instrument, (0, m.score, m.score))
        state[m.instrument] = (n + 1, first, m.score)
        if i + 1 == len(mood) or mood[i + 1].measured_on != m.measured_on:
            phq, gad = state.get(MOOD[0]), state.get(MOOD[1])
            days.append(_Day(m.measured_on, phq, gad, change(phq, gad)))
    return days


def _run_start(days: Sequence[_Day], holds: Any) -> date | None:
    """First day of the final unbroken run of days on which `holds(day)` is true (None if the last is not)."""
    start: date | None = None
    for d in days:
        start = (start or d.day) if holds(d) else None
    return start


def _risk_state(
    measurements: Sequence[MeasurementFacts], instrument: str
) -> tuple[int, date, date | None] | None:
    """(latest risk-item score, its day, first day of the final run of positive answers) of one instrument."""
    item = INSTRUMENTS[Instrument(instrument)].risk_item
    assert item is not None
    known = sorted(
        (m for m in measurements if m.instrument == instrument and m.items is not None),
        key=lambda m: (m.measured_on, m.measurement_id),
    )
    if not known:
        return None
    since: date | None = None
    for m in known:
        assert m.items is not None
        positive = m.items[item - 1] > 0
        since = (since or m.measured_on) if positive else None
    latest = known[-1]
    assert latest.items is not None
    return latest.items[item - 1], latest.measured_on, since


def _max_date(*values: date | None) -> date | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def episode_facts(
    episode: EpisodeFacts,
    measurements: Iterable[MeasurementFacts],
    services: Iterable[ServiceFacts],
    *,
    as_of: date,
) -> dict[str, Any]:
    """Everything the rules read about one episode on `as_of` (later events are ignored)."""
    seen = [m for m in measurements if m.measured_on <= as_of]
    days = _mood_days(seen)
    treatment = [s.service_date for s in services if s.category in TREATMENT and s.service_date <= as_of]
    last = days[-1] if days else None
    # The last day a stuck episode was *not* stuck on its measures: an improved day stays clear for 89 days.
    clear_until: date | None = None
    for i, d in enumerate(days):
        if d.status.improved:
            end = d.day + timedelta(days=STUCK_MEASURE_RECENT_DAYS - 1)
            if i + 1 < len(days):
                end = min(end, days[i + 1].day - timedelta(days=1))
            clear_until = _max_date(clear_until, end)
    below_start = _run_start(days, lambda d: d.status.below)
    below_second = next((d.day for d in days if below_start is not None and d.day > below_start), None)
    facts: dict[str, Any] = {
        "episode_id": episode.episode_id,
        "person_id": episode.person_id,
        "start_date": episode.start_date,
        "planned_end_date": episode.planned_end_date,
        "first_treatment": min(treatment) if treatment else None,
        "last_measured": max((m.measured_on for m in seen), default=None),
        "last_mood": last.day if last else None,
        "phq_n": last.phq[0] if last and last.phq else None,
        "phq_first": last.phq[1] if last and last.phq else None,
        "phq_last": last.phq[2] if last and last.phq else None,
        "gad_n": last.gad[0] if last and last.gad else None,
        "gad_first": last.gad[1] if last and last.gad else None,
        "gad_last": last.gad[2] if last and last.gad else None,
        "improved": bool(last and last.status.improved),
        "deteriorated": bool(last and last.status.deteriorated),
        "reliably_recovered": bool(last and last.status.reliably_recovered),
        "below": bool(last and last.status.below),
        "deteriorated_since": _run_start(days, lambda d: d.status.deteriorated),
        "recovered_since": _run_start(days, lambda d: d.status.reliably_recovered),
        "not_improving_since": _run_start(days, lambda d: not d.status.improved and not d.status.below),
        "below_since": below_start,
        "below_second": below_second,
        "clear_until": clear_until,
    }
    for instrument in RISK_INSTRUMENTS:
        state = _risk_state(seen, instrument)
        facts[f"{instrument}_risk_score"] = state[0] if state else None
        facts[f"{instrument}_risk_on"] = state[1] if state else None
        facts[f"{instrument}_risk_since"] = state[2] if state else None
    return facts


def decide(facts: Mapping[str, Any], *, as_of: date, rules: FlagRules) -> dict[str, date]:
    """Which flags hold on `as_of`, each with the day it began, from an episode's facts."""
    out: dict[str, date] = {}
    risk_since = [facts[f"{i}_risk_since"] for i in RISK_INSTRUMENTS if facts[f"{i}_risk_since"] is not None]
    if risk_since:
        out["risk"] = min(risk_since)
    if facts["deteriorated"]:
        out["deteriorating"] = facts["deteriorated_since"]
    active: date | None = facts["first_treatment"]
    if active is not None and facts["last_mood"] is not None and not facts["improved"] and not facts["below"]:
        week8 = active + timedelta(days=rules.not_improving_after_days)
        if as_of >= week8:
            out["not_improving"] = max(week8, facts["not_improving_since"])
    start: date = facts["start_date"]
    planned: date | None = facts["planned_end_date"]
    if start <= as_of - timedelta(days=STUCK_MIN_OPEN_DAYS) and (planned is None or planned <= as_of):
        last_mood: date | None = facts["last_mood"]
        recent = last_mood is not None and last_mood >= as_of - timedelta(days=STUCK_MEASURE_RECENT_DAYS - 1)
        if not (facts["improved"] and recent):
            clear: date | None = facts["clear_until"]
            begun = [start + timedelta(days=STUCK_MIN_OPEN_DAYS), planned]
            out["stuck"] = max(
                d for d in [*begun, clear + timedelta(days=1) if clear else None] if d is not None
            )
    if planned is not None and planned < as_of:
        out["exit_passed"] = planned + timedelta(days=1)
    if active is not None:
        base = _max_date(active, facts["last_measured"])
        assert base is not None
        due = base + timedelta(days=rules.measure_overdue_days)
        if as_of >= due:
            out["measure_overdue"] = due
    ready: list[date] = []
    if facts["below_second"] is not None:
        ready.append(facts["below_second"])
    if facts["reliably_recovered"]:
        held = facts["recovered_since"] + timedelta(days=rules.recovery_sustained_days)
        if as_of >= held:
            ready.append(held)
    if ready:
        out["ready_to_graduate"] = min(ready)
    return out


def _scores(facts: Mapping[str, Any]) -> str:
    parts = []
    for prefix, d in (("phq", _PHQ), ("gad", _GAD)):
        n, first, last = facts[f"{prefix}_n"], facts[f"{prefix}_first"], facts[f"{prefix}_last"]
        if n is None:
            continue
        parts.append(f"{d.short_name} {first} → {last}" if n >= 2 else f"{d.short_name} {last} (once)")
    return ", ".join(parts) if parts else "no PHQ-9 or GAD-7 yet"


def _days(later: date, earlier: date) -> int:
    return (later - earlier).days


def flag_reason(flag: str, facts: Mapping[str, Any], *, as_of: date, rules: FlagRules) -> str:
    """The plain-words reason for a flag, naming the scores and dates behind it."""
    if flag == "risk":
        said = []
        for i in RISK_INSTRUMENTS:
            if facts[f"{i}_risk_since"] is not None:
                d = INSTRUMENTS[Instrument(i)]
                said.append(
                    f"{d.short_name} item {d.risk_item} scored {facts[f'{i}_risk_score']} on "
                    f"{facts[f'{i}_risk_on']}"
                )
        return "; ".join(said) + ": review risk today"
    last_mood = facts["last_mood"]
    if flag == "deteriorating":
        return f"reliable deterioration, first to latest ({last_mood}): {_scores(facts)}"
    if flag == "not_improving":
        weeks = _days(as_of, facts["first_treatment"]) // 7
        return (
            f"no reliable improvement {weeks} weeks after treatment began on {facts['first_treatment']} "
            f"(latest {last_mood}: {_scores(facts)}): review or step up"
        )
    if flag == "stuck":
        open_days = _days(as_of, facts["start_date"])
        planned = facts["planned_end_date"]
        exit_words = "no planned exit" if planned is None else f"planned exit {planned} passed"
        recent = last_mood is not None and _days(as_of, last_mood) < STUCK_MEASURE_RECENT_DAYS
        if facts["improved"] and not recent:
            measure = f"no PHQ-9 or GAD-7 in the last {STUCK_MEASURE_RECENT_DAYS} days (latest {last_mood})"
        elif last_mood is None:
            measure = "no PHQ-9 or GAD-7 at all"
        else:
            measure = f"no reliable improvement ({_scores(facts)})"
        return f"open {open_days} days since {facts['start_date']}, {exit_words}, {measure}"
    if flag == "exit_passed":
        planned = facts["planned_end_date"]
        return f"planned exit {planned} passed {_days(as_of, planned)} days ago"
    if flag == "measure_overdue":
        last = facts["last_measured"]
        if last is None or last < facts["first_treatment"]:
            return f"no measurement since treatment began on {facts['first_treatment']}"
        return f"no measurement for {_days(as_of, last)} days (latest {last})"
    if flag == "ready_to_graduate":
        if facts["below_second"] is not None:
            return (
                f"below caseness on every measurement since {facts['below_since']} "
                f"(latest {last_mood}: {_scores(facts)})"
            )
        return (
            f"reliable recovery since {facts['recovered_since']}, held {rules.recovery_sustained_days // 7} "
            f"weeks ({_scores(facts)})"
        )
    raise ValueError(f"unknown flag {flag!r}")


def flags_from_facts(facts: Mapping[str, Any], *, as_of: date, rules: FlagRules) -> list[Flag]:
    """The flags of one episode, most urgent first."""
    held = decide(facts, as_of=as_of, rules=rules)
    return [
        Flag(
            facts["episode_id"],
            facts["person_id"],
            name,
            held[name],
            flag_reason(name, facts, as_of=as_of, rules=rules),
        )
        for name in FLAG_NAMES
        if name in held
    ]


def episode_flags(
    episode: EpisodeFacts,
    measurements: Iterable[MeasurementFacts],
    services: Iterable[ServiceFacts],
    *,
    as_of: date,
    rules: FlagRules | None = None,
) -> list[Flag]:
    """The flags of one episode open on `as_of`, most urgent first (none for an episode not open then)."""
    if episode.start_date > as_of or (episode.end_date is not None and episode.end_date <= as_of):
        return []
    facts = episode_facts(episode, measurements, services, as_of=as_of)
    return flags_from_facts(facts, as_of=as_of, rules=rules or FlagRules())
