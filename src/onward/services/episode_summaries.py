"""Each episode's flags and latest scores on a day, remembered until anything they depend on changes.

A caseload page reads the same episodes again and again, and their flags change only when a
measurement, a treatment service, a stage or the episode itself changes, or the day turns. So the
caseload asks for a cheap signature of those facts per episode (three aggregate reads over indexed
columns) and recomputes the flags (the pure rules of `onward.model.flags`) only for the episodes whose
signature is new. The remembered results live in this process, bounded in size; a result is never
served for a signature other than the one it was computed from, so a change made by another worker or
an import is seen at the next read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onward.model.flags import TREATMENT, EpisodeFacts, Flag, FlagRules, ServiceFacts, episode_flags
from onward.model.pathways import Stage
from onward.services.episode_rows import (
    Scores,
    chunks,
    measurements_of,
    score_series,
    treatment_and_stage,
)
from onward.store.tables import Measurement

#: Scores shown in a caseload sparkline: the latest eight of each instrument.
SPARK_POINTS = 8
#: Episodes remembered per process (a few hundred bytes each).
MAX_REMEMBERED = 50_000


class EpisodeLike(Protocol):
    """What a summary needs of an episode: an ORM row or a row of the same columns."""

    @property
    def episode_id(self) -> str: ...
    @property
    def person_id(self) -> str: ...
    @property
    def start_date(self) -> date: ...
    @property
    def planned_end_date(self) -> date | None: ...
    @property
    def end_date(self) -> date | None: ...


@dataclass(frozen=True, slots=True)
class EpisodeSummary:
    flags: tuple[Flag, ...]
    scores: tuple[Scores, ...]
    stepping_down: bool


class _Remembered:
    """A bounded, thread-safe map from an episode's signature to its summary (least recently used out)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, EpisodeSummary] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> EpisodeSummary | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, value: EpisodeSummary) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


REMEMBERED = _Remembered(MAX_REMEMBERED)


def _measurement_signatures(session: Session, ids: Sequence[str], day: date) -> dict[str, tuple[object, ...]]:
    """Per episode: how many measurements up to `day`, the latest day and id, and sums that move when a
    score or its item scores are corrected in place."""
    out: dict[str, tuple[object, ...]] = {}
    for chunk in chunks(ids):
        rows = session.execute(
            select(
                Measurement.episode_id,
                func.count(),
                func.max(Measurement.measured_on),
                func.max(Measurement.measurement_id),
                func.sum(Measurement.score),
                func.sum(func.length(func.coalesce(Measurement.items, ""))),
            )
            .where(Measurement.episode_id.in_(chunk), Measurement.measured_on <= day)
            .group_by(Measurement.episode_id)
        )
        for episode_id, *signature in rows:
            out[str(episode_id)] = tuple(signature)
    return out


def summaries(
    session: Session, episodes: Sequence[EpisodeLike], *, day: date, rules: FlagRules
) -> dict[str, EpisodeSummary]:
    """The flags (most urgent first), latest scores and stage of each episode on `day`."""
    ids = [e.episode_id for e in episodes]
    first, stages = treatment_and_stage(session, ids, day)
    signatures = _measurement_signatures(session, ids, day)
    keys = {
        e.episode_id: (
            e.episode_id,
            day,
            rules,
            e.person_id,
            e.start_date,
            e.planned_end_date,
            e.end_date,
            first.get(e.episode_id),
            stages.get(e.episode_id),
            signatures.get(e.episode_id),
        )
        for e in episodes
    }
    out: dict[str, EpisodeSummary] = {}
    missing: list[EpisodeLike] = []
    for episode in episodes:
        found = REMEMBERED.get(keys[episode.episode_id])
        if found is None:
            missing.append(episode)
        else:
            out[episode.episode_id] = found
    measured = measurements_of(session, [e.episode_id for e in missing], day) if missing else {}
    for episode in missing:
        rows = measured.get(episode.episode_id, [])
        treated = first.get(episode.episode_id)
        flags = episode_flags(
            EpisodeFacts(
                episode.episode_id,
                episode.person_id,
                episode.start_date,
                episode.planned_end_date,
                episode.end_date,
            ),
            rows,
            [ServiceFacts(treated, TREATMENT[0])] if treated else [],
            as_of=day,
            rules=rules,
        )
        stage = stages.get(episode.episode_id)
        summary = EpisodeSummary(
            flags=tuple(flags),
            scores=score_series(rows, last=SPARK_POINTS),
            stepping_down=stage is not None and stage[1] == Stage.STEPPING_DOWN.value,
        )
        REMEMBERED.put(keys[episode.episode_id], summary)
        out[episode.episode_id] = summary
    return out
