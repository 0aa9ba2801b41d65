"""Outcome metrics: NHS Talking Therapies recovery and reliable change, HEDIS DRR-E remission/response."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import ibis

from onward.metrics import thresholds as th
from onward.metrics.scope import Bag, Figure, Scope, Tally, build_tallies, days, flag, total
from onward.model.eventlog import Instrument

PHQ9: str = Instrument.PHQ9.value
GAD7: str = Instrument.GAD7.value


def change_flags(
    *, phq_n: Any, phq_first: Any, phq_last: Any, gad_n: Any, gad_first: Any, gad_last: Any
) -> dict[str, Any]:
    """NHS Talking Therapies rules on first vs last of each instrument; one with < 2 measures is ignored."""
    phq_ok = phq_n.fill_null(0) >= 2
    gad_ok = gad_n.fill_null(0) >= 2

    def known(condition: Any) -> Any:
        return condition.fill_null(False)

    case_first = known(phq_ok & (phq_first >= th.PHQ9_CASENESS)) | known(
        gad_ok & (gad_first >= th.GAD7_CASENESS)
    )
    case_last = known(phq_ok & (phq_last >= th.PHQ9_CASENESS)) | known(
        gad_ok & (gad_last >= th.GAD7_CASENESS)
    )
    drop = known(phq_ok & (phq_first - phq_last >= th.PHQ9_RELIABLE_CHANGE)) | known(
        gad_ok & (gad_first - gad_last >= th.GAD7_RELIABLE_CHANGE)
    )
    rise = known(phq_ok & (phq_last - phq_first >= th.PHQ9_RELIABLE_CHANGE)) | known(
        gad_ok & (gad_last - gad_first >= th.GAD7_RELIABLE_CHANGE)
    )
    recovered = case_first & ~case_last
    improved = drop & ~rise
    return {
        "eligible": phq_ok | gad_ok,
        "case_first": case_first,
        "recovered": recovered,
        "improved": improved,
        "deteriorated": rise & ~drop,
        "reliably_recovered": recovered & improved,
    }


def _mood_measurements(scope: Scope) -> Any:
    m = scope.tables["measurements"]
    return m.filter(m.instrument.isin([PHQ9, GAD7]) & m.episode_id.notnull())


def _first_last_per_episode(scope: Scope, episode_ids: Any) -> Any:
    """Per episode of `episode_ids` (column c_episode): count, first and last score of PHQ-9 and of GAD-7
    (ties on a day broken by measurement_id)."""
    m = _mood_measurements(scope)
    m = m.inner_join(episode_ids, m.episode_id == episode_ids.c_episode).drop("c_episode")
    order = ibis.window(group_by=[m.episode_id, m.instrument], order_by=[m.measured_on, m.measurement_id])
    ranked = m.mutate(first=m.score.first().over(order), last=m.score.last().over(order))  # one sort
    per_instrument = ranked.group_by(["episode_id", "instrument"]).aggregate(
        n=ranked.measurement_id.count(), first=ranked.first.max(), last=ranked.last.max()
    )
    p = per_instrument
    is_phq, is_gad = p.instrument == PHQ9, p.instrument == GAD7
    return p.group_by("episode_id").aggregate(
        phq_n=p.n.sum(where=is_phq),
        phq_first=p.first.max(where=is_phq),
        phq_last=p.last.max(where=is_phq),
        gad_n=p.n.sum(where=is_gad),
        gad_first=p.first.max(where=is_gad),
        gad_last=p.last.max(where=is_gad),
    )


def _recovery_tally(scope: Scope) -> Tally:
    episodes = scope.episodes()
    ended = episodes.filter(episodes.end_date.notnull() & scope.in_period(episodes.end_date))
    ended = ended.select("episode_id", "program_id", "end_date")
    scores = _first_last_per_episode(scope, ended.select(c_episode=ended.episode_id))
    joined = ended.inner_join(scores, "episode_id")
    f = change_flags(
        phq_n=joined.phq_n,
        phq_first=joined.phq_first,
        phq_last=joined.phq_last,
        gad_n=joined.gad_n,
        gad_first=joined.gad_first,
        gad_last=joined.gad_last,
    )
    rows = joined.mutate(
        **scope.keys(program=joined.program_id, when=joined.end_date), **{k: flag(v) for k, v in f.items()}
    )
    rows = rows.filter(rows.eligible == 1)
    expr = scope.aggregate(
        rows,
        eligible=rows.eligible.sum(),
        case_first=rows.case_first.sum(),
        recovered=rows.recovered.sum(),
        improved=rows.improved.sum(),
        deteriorated=rows.deteriorated.sum(),
        reliably_recovered=rows.reliably_recovered.sum(),
    )
    return Tally("recovery", expr)


def _drr_tally(scope: Scope) -> Tally:
    """HEDIS DRR-E: one index per person (first PHQ-9 > 9 in the period), last PHQ-9 on days 120-240."""
    m = scope.tables["measurements"]
    phq = m.filter(m.instrument == PHQ9)
    candidates = phq.filter(scope.in_period(phq.measured_on) & (phq.score > th.DRR_INDEX_ABOVE))
    # The first candidate per person by (day, id), with aggregates rather than a sorted window.
    first_day = candidates.group_by(candidates.person_id.name("d_person")).aggregate(
        d_date=candidates.measured_on.min()
    )
    on_first_day = candidates.inner_join(
        first_day,
        [candidates.person_id == first_day.d_person, candidates.measured_on == first_day.d_date],
    )
    first_id = on_first_day.group_by(on_first_day.person_id.name("i_person")).aggregate(
        i_id=on_first_day.measurement_id.min()
    )
    ranked = candidates.inner_join(first_id, candidates.measurement_id == first_id.i_id)
    index = ranked.filter(days(scope.data_end, ranked.measured_on) >= th.DRR_FOLLOWUP_LAST_DAY).select(
        idx_person=ranked.person_id,
        idx_date=ranked.measured_on,
        idx_score=ranked.score,
        idx_episode=ranked.episode_id,
    )
    follow = phq.select(
        f_person=phq.person_id, f_date=phq.measured_on, f_id=phq.measurement_id, f_score=phq.score
    )
    window = follow.inner_join(index, follow.f_person == index.idx_person)
    offset = days(window.f_date, window.idx_date)
    window = window.filter((offset >= th.DRR_FOLLOWUP_FIRST_DAY) & (offset <= th.DRR_FOLLOWUP_LAST_DAY))
    latest = ibis.window(group_by=window.f_person, order_by=[window.f_date.desc(), window.f_id.desc()])
    last = window.mutate(rn=ibis.row_number().over(latest))
    last = last.filter(last.rn == 0).select(l_person=last.f_person, l_score=last.f_score)
    episodes = scope.episodes().select(e_id=ibis._.episode_id, e_program=ibis._.program_id)
    rows = index.left_join(last, index.idx_person == last.l_person).left_join(
        episodes, index.idx_episode == episodes.e_id
    )
    rows = rows.mutate(
        **scope.keys(program=rows.e_program, when=rows.idx_date),
        remitted=flag(rows.l_score < th.DRR_REMISSION_BELOW),
        responded=flag(rows.l_score * 2 <= rows.idx_score),
    )
    expr = scope.aggregate(
        rows,
        index_events=rows.idx_person.count(),
        remitted=rows.remitted.sum(),
        responded=rows.responded.sum(),
    )
    return Tally("drr", expr)


#: The tallies each metric is finished from (lets a caller compute a subset of the suite).
NEEDS: dict[str, tuple[str, ...]] = {
    "recovery_rate": ("recovery",),
    "reliable_improvement_rate": ("recovery",),
    "reliable_recovery_rate": ("recovery",),
    "reliable_deterioration_rate": ("recovery",),
    "remission_6m": ("drr",),
    "response_6m": ("drr",),
}


_BUILDERS: dict[str, Callable[[Scope], Tally]] = {"recovery": _recovery_tally, "drr": _drr_tally}


def tallies(scope: Scope, needed: Collection[str] | None = None) -> list[Tally]:
    """The aggregate queries of this area (only those `needed`)."""
    return build_tallies(_BUILDERS, scope, needed)


def figures(bag: Bag) -> dict[str, Figure]:
    eligible, case_first = total(bag, "recovery", "eligible"), total(bag, "recovery", "case_first")
    index_events = total(bag, "drr", "index_events")
    return {
        "recovery_rate": Figure.rate(total(bag, "recovery", "recovered"), case_first),
        "reliable_improvement_rate": Figure.rate(total(bag, "recovery", "improved"), eligible),
        "reliable_recovery_rate": Figure.rate(total(bag, "recovery", "reliably_recovered"), case_first),
        "reliable_deterioration_rate": Figure.rate(total(bag, "recovery", "deteriorated"), eligible),
        "remission_6m": Figure.rate(total(bag, "drr", "remitted"), index_events),
        "response_6m": Figure.rate(total(bag, "drr", "responded"), index_events),
    }
