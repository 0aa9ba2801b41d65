"""One clinician's caseload: the flags of a few episodes, cheaply enough for a web page.

The whole-county query of `onward.metrics.flags` spends about a second compiling however few episodes it
is given. Here three small reads fetch the episodes' own rows (indexed on SQLite and PostgreSQL) and the
pure rules of `onward.model.flags` decide, which the engine is tested against (docs/flags.md).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import ibis

from onward.metrics.backends import EventLog, fetch_arrow, quiet_engine_warnings
from onward.metrics.flags import FlagsResult
from onward.metrics.period import Period
from onward.metrics.scope import make_scope
from onward.model.flags import (
    FLAG_NAMES,
    TREATMENT,
    EpisodeFacts,
    Flag,
    FlagRules,
    MeasurementFacts,
    ServiceFacts,
    episode_flags,
)


def caseload_flags(
    log: EventLog,
    episode_ids: Sequence[str],
    *,
    as_of: date | None = None,
    rules: FlagRules | None = None,
) -> FlagsResult:
    """The flags of `episode_ids` that are open on `as_of`, most urgent first. Pass `as_of` (e.g. today)
    to skip finding the latest recorded event."""
    rules = rules or FlagRules()
    ids = sorted(set(episode_ids))
    with quiet_engine_warnings(), log.lock:
        when = as_of if as_of is not None else make_scope(log, Period(), ()).period.data_end
        if not ids:
            return FlagsResult(when, [], 0)
        e, m, s = (log.tables[name] for name in ("episodes", "measurements", "services"))
        lit = ibis.literal(when, type="date")
        episodes = fetch_arrow(
            e.filter(e.episode_id.isin(ids)).select(
                "episode_id", "person_id", "start_date", "planned_end_date", "end_date"
            ),
            log,
        ).to_pylist()
        measured = fetch_arrow(
            m.filter(m.episode_id.isin(ids) & (m.measured_on <= lit)).select(
                "episode_id", "measurement_id", "instrument", "measured_on", "score", "items"
            ),
            log,
        ).to_pylist()
        served = fetch_arrow(
            s.filter(
                s.episode_id.isin(ids) & s.category.isin(list(TREATMENT)) & (s.service_date <= lit)
            ).select("episode_id", "service_date", "category"),
            log,
        ).to_pylist()
    by_episode: dict[str, list[MeasurementFacts]] = defaultdict(list)
    for row in measured:
        items = tuple(json.loads(row["items"])) if row["items"] else None
        by_episode[row["episode_id"]].append(
            MeasurementFacts(
                row["measurement_id"], row["instrument"], row["measured_on"], row["score"], items
            )
        )
    services: dict[str, list[ServiceFacts]] = defaultdict(list)
    for row in served:
        services[row["episode_id"]].append(ServiceFacts(row["service_date"], row["category"]))
    flagged: list[Flag] = []
    open_count = 0
    for row in episodes:
        end = row["end_date"] if row["end_date"] is not None and row["end_date"] <= when else None
        episode = EpisodeFacts(
            row["episode_id"], row["person_id"], row["start_date"], row["planned_end_date"], end
        )
        if episode.start_date > when or end is not None:
            continue
        open_count += 1
        flagged += episode_flags(
            episode, by_episode[row["episode_id"]], services[row["episode_id"]], as_of=when, rules=rules
        )
    order = {name: i for i, name in enumerate(FLAG_NAMES)}
    flagged.sort(key=lambda f: (order[f.flag], f.since, f.episode_id))
    return FlagsResult(when, flagged, open_count)
