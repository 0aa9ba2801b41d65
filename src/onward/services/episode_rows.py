"""What the flag rules and the charts read about episodes: their measurements, first treatment and
stage, in a few indexed reads whatever their number; and the flags and score series made from them."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.model.flags import (
    MOOD,
    RISK_INSTRUMENTS,
    TREATMENT,
    EpisodeFacts,
    Flag,
    FlagRules,
    MeasurementFacts,
    ServiceFacts,
    episode_flags,
)
from onward.model.pathways import Stage
from onward.store.tables import Episode, Measurement, Service
from onward.store.tables_pathways import StageChange

_CHUNK = 500  # under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class Scores:
    instrument: str
    points: tuple[tuple[date, int], ...]

    @property
    def latest(self) -> tuple[date, int]:
        return self.points[-1]


@dataclass(frozen=True, slots=True)
class EpisodeRows:
    """What the flag rules and the charts read about a set of episodes."""

    measurements: dict[str, list[MeasurementFacts]]
    first_treatment: dict[str, date]
    stepping_down: set[str]


def chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def measurements_of(session: Session, ids: Sequence[str], day: date) -> dict[str, list[MeasurementFacts]]:
    """Each episode's measurements up to `day` (item scores parsed only for the risk instruments)."""
    measured: dict[str, list[MeasurementFacts]] = defaultdict(list)
    for chunk in chunks(ids):
        rows = session.execute(
            select(
                Measurement.episode_id,
                Measurement.measurement_id,
                Measurement.instrument,
                Measurement.measured_on,
                Measurement.score,
                Measurement.items,
            ).where(Measurement.episode_id.in_(chunk), Measurement.measured_on <= day)
        )
        for episode_id, mid, instrument, on, score, items in rows:
            parsed = tuple(json.loads(items)) if items and instrument in RISK_INSTRUMENTS else None
            measured[str(episode_id)].append(MeasurementFacts(mid, instrument, on, score, parsed))
    return dict(measured)


def treatment_and_stage(
    session: Session, ids: Sequence[str], day: date
) -> tuple[dict[str, date], dict[str, tuple[int, str]]]:
    """First treatment day, and the latest (change id, stage) other than `ended`, of each episode."""
    first: dict[str, date] = {}
    stages: dict[str, tuple[int, str]] = {}
    for chunk in chunks(ids):
        first.update(
            (str(e), d)
            for e, d in session.execute(
                select(Service.episode_id, func.min(Service.service_date))
                .where(
                    Service.episode_id.in_(chunk),
                    Service.category.in_(TREATMENT),
                    Service.service_date <= day,
                )
                .group_by(Service.episode_id)
            )
        )
        for episode_id, change_id, stage in session.execute(
            select(StageChange.episode_id, StageChange.change_id, StageChange.stage)
            .where(StageChange.episode_id.in_(chunk), StageChange.stage != Stage.ENDED.value)
            .order_by(StageChange.change_id)
        ):
            stages[str(episode_id)] = (int(change_id), stage)
    return first, stages


def episode_rows(session: Session, ids: Sequence[str], day: date) -> EpisodeRows:
    """Measurements (item scores only for the risk instruments), first treatment and stage of episodes."""
    first, stages = treatment_and_stage(session, ids, day)
    down = {e for e, (_, s) in stages.items() if s == Stage.STEPPING_DOWN.value}
    return EpisodeRows(measurements_of(session, ids, day), first, down)


def rows_of_one(
    episode_id: str,
    measurements: list[MeasurementFacts],
    services: Iterable[tuple[date, str]],
    stages: Iterable[tuple[int, str]],
    day: date,
) -> EpisodeRows:
    """`episode_rows` of one episode from its services (date, category) and stage changes (change id,
    stage), which the episode page reads whole anyway: two statements fewer than asking again."""
    treated = [d for d, category in services if category in TREATMENT and d <= day]
    latest = max(((c, s) for c, s in stages if s != Stage.ENDED.value), default=None)
    return EpisodeRows(
        {episode_id: measurements} if measurements else {},
        {episode_id: min(treated)} if treated else {},
        {episode_id} if latest is not None and latest[1] == Stage.STEPPING_DOWN.value else set(),
    )


def flags_of(episode: Episode, rows: EpisodeRows, *, as_of: date, rules: FlagRules) -> list[Flag]:
    """The episode's flags on `as_of`, most urgent first (`onward.model.flags`)."""
    treated = rows.first_treatment.get(episode.episode_id)
    return episode_flags(
        EpisodeFacts(
            episode.episode_id,
            episode.person_id,
            episode.start_date,
            episode.planned_end_date,
            episode.end_date,
        ),
        rows.measurements.get(episode.episode_id, []),
        [ServiceFacts(treated, TREATMENT[0])] if treated else [],
        as_of=as_of,
        rules=rules,
    )


def score_series(measurements: Iterable[MeasurementFacts], *, last: int | None = None) -> tuple[Scores, ...]:
    """PHQ-9 and GAD-7 scores of an episode in date order (the latest `last` of each when given)."""
    out = []
    for instrument in MOOD:
        points = sorted(
            (m.measured_on, m.score, m.measurement_id) for m in measurements if m.instrument == instrument
        )
        if points:
            kept = points[-last:] if last else points
            out.append(Scores(instrument, tuple((d, s) for d, s, _ in kept)))
    return tuple(out)
