"""Episodes of care from a recorded run's service rows: programs, start and end days, end reasons.

A person's consecutive open episode-months form a spell; a spell breaks into episodes where the
program changes (a transfer, a step up or down). Episodes already open when the recorded years began
start where the engine says they did. Each episode is linked to the referral that opened it, and its
first appointment falls on a day after that referral (weekdays in clinic programs). An exit ends
inside the step after the last row, for the reason the person's next move gives (graduated,
disengaged, died, moved, stepped up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from onward.model.eventlog import EndReason, ProgramKind
from onward.sim._arrow import Calendar, on_weekdays
from onward.sim._county import County
from onward.sim._referrals import Referrals
from onward.sim._rows import Rows
from onward.sim.result import EventRecord
from onward.sim.states import IN_SERVICE, State

K = ProgramKind
END = {r: i for i, r in enumerate(EndReason)}
"""End reason → its code (the position in EndReason)."""
_ANY_DAY_KINDS = [K.CRISIS.value, K.INPATIENT.value, K.RESIDENTIAL.value]  # open every day


@dataclass(frozen=True, slots=True)
class Episodes:
    """The episodes of a run in row order (person, then start), and where the service rows fall."""

    row_program: npt.NDArray[np.int64]  # program of every service row
    spell_start: npt.NDArray[np.bool_]  # the row starts a spell (a person's consecutive rows)
    first_row: npt.NDArray[np.bool_]  # the row starts an episode
    person: npt.NDArray[np.int64]
    program: npt.NDArray[np.int64]
    sud: npt.NDArray[np.bool_]
    spell: npt.NDArray[np.bool_]  # the episode starts a spell (not a transfer from another program)
    golive: npt.NDArray[np.bool_]  # open when the recorded years began
    start: npt.NDArray[np.int64]  # day numbers
    end: npt.NDArray[np.int64]
    is_open: npt.NDArray[np.bool_]  # still open at the end of the run
    reason: npt.NDArray[np.int64]  # END code
    referral: npt.NDArray[np.int64]  # index of the referral that opened it (valid where has_referral)
    has_referral: npt.NDArray[np.bool_]
    clinic: npt.NDArray[np.bool_]  # in a clinic program (weekday contacts)


def l1_program(county: County, person: npt.NDArray[Any], sud: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    """Outpatient home of a person: medication for OUD for substance use, else their area's clinic."""
    clinic = county.clinics[person % county.clinics.size]
    return np.where(sud, county.index(K.MEDICATION_FOR_OUD), clinic)


def _row_programs(county: County, rows: Rows, spell_start: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Program of every service row; maintenance stays where the person was last seen (or outpatient)."""
    st, sud, person = rows.state, rows.sud, rows.person
    l1 = l1_program(county, person, sud)
    base = np.select(
        [
            st == State.TREATMENT_OUTPATIENT,
            st == State.TREATMENT_INTENSIVE,
            st == State.TREATMENT_RESIDENTIAL,
            st == State.CASE_MANAGEMENT_ONLY,
        ],
        [
            l1,
            county.index(K.INTENSIVE_OUTPATIENT),
            np.where(sud, county.index(K.RESIDENTIAL), county.index(K.INPATIENT)),
            np.where(person % 4 == 0, county.index(K.ACT_TEAM), county.index(K.CASE_MANAGEMENT)),
        ],
        default=-1,
    )
    kinds = np.array([k.value for k in county.kinds])
    keeps = np.isin(
        kinds, [K.OUTPATIENT.value, K.MEDICATION_FOR_OUD.value, K.CASE_MANAGEMENT.value, K.ACT_TEAM.value]
    )
    valid = st != State.RECOVERED_IN_SERVICE
    maintenance = np.where(valid & keeps[np.maximum(base, 0)], base, l1)
    source = np.maximum.accumulate(np.where(valid | spell_start, np.arange(st.size), 0))
    return np.where(valid, base, maintenance[source]).astype(np.int64)


def _lookup(
    keys_sorted: npt.NDArray[np.int64], query: npt.NDArray[np.int64], *, exact: bool
) -> npt.NDArray[np.int64]:
    """Index of the last key <= query (or == query when exact); -1 when there is none."""
    i = np.searchsorted(keys_sorted, query, side="right") - 1
    found = i >= 0
    if keys_sorted.size == 0:
        return np.full(np.shape(query), -1, dtype=np.int64)
    if exact:
        found &= keys_sorted[np.maximum(i, 0)] == query
    return np.where(found, i, -1)


def build_episodes(
    ev: EventRecord,
    rows: Rows,
    refs: Referrals,
    *,
    county: County,
    cal: Calendar,
    rng: np.random.Generator,
    n_steps: int,
) -> Episodes:
    """Episodes from the service rows, linked to `refs` (people as row numbers in both)."""
    T = n_steps
    r_step, r_person, r_day = refs.step, refs.person, refs.day
    base = int(min(0, r_step.min(initial=0), ev.pre_episode.min(initial=0))) - 2
    span = T - base + 2
    by_person = np.lexsort((r_step, r_person))
    r_keys = (r_person * span + (r_step - base))[by_person]

    n_rows = rows.person.size
    prev_same = np.zeros(n_rows, dtype=bool)
    prev_same[1:] = rows.person[1:] == rows.person[:-1]
    spell_start = np.ones(n_rows, dtype=bool)
    spell_start[1:] = ~prev_same[1:] | (rows.step[1:] != rows.step[:-1] + 1)
    prog = _row_programs(county, rows, spell_start)
    ep_break = spell_start.copy()
    ep_break[1:] |= prog[1:] != prog[:-1]
    first = np.flatnonzero(ep_break)
    last = np.append(first[1:] - 1, n_rows - 1)[: first.size].astype(np.int64)
    e_person, e_prog, e_sud = rows.person[first], prog[first], rows.sud[first]
    e_a, e_b = rows.step[first], rows.step[last]
    e_spell = spell_start[first]
    # episodes open when the recorded years began start where the engine says they did
    pre_in = IN_SERVICE[ev.pre_state]
    k = np.searchsorted(ev.pre_person, e_person)
    k = np.minimum(k, max(ev.pre_person.size - 1, 0))
    golive = e_spell & (e_a == -1) & (ev.pre_person.size > 0)
    if ev.pre_person.size:
        golive &= (ev.pre_person[k] == e_person) & pre_in[k]
    e_first = np.where(golive, ev.pre_episode[k] if ev.pre_person.size else 0, e_a).astype(np.int64)
    prev_step = np.where(prev_same[first], rows.step[np.maximum(first - 1, 0)], base)
    hit = _lookup(r_keys, e_person * span + (e_first - base), exact=False)
    ref_ok = hit >= 0
    ref_idx = np.where(ref_ok, by_person[np.maximum(hit, 0)], -1)
    ref_ok &= (r_person[np.maximum(ref_idx, 0)] == e_person) & (r_step[np.maximum(ref_idx, 0)] > prev_step)
    safe_ref = np.maximum(ref_idx, 0)
    # day resolution: the first appointment comes `delay` days after the referral once a place is free
    # (same step), or on a day of the step the engine admitted the person in after waiting
    appointment = r_day[safe_ref] + refs.delay[safe_ref]
    in_step = cal.within(e_first, rng.random(e_first.size))
    waited = e_first - r_step[safe_ref]
    e_start = np.where(ref_ok, np.where(waited <= 0, appointment, np.maximum(appointment, in_step)), in_step)
    clinic = ~np.isin(np.asarray([k_.value for k_ in county.kinds])[e_prog], _ANY_DAY_KINDS)
    step_end = cal.start(e_first + 1) - 1
    e_start = on_weekdays(
        e_start, np.where(ref_ok, appointment, cal.start(e_first)), np.maximum(step_end, e_start + 3), clinic
    )
    e_start = np.minimum(e_start, cal.end - 1)

    # ends: a transfer ends where the next episode starts; an exit ends inside the step after the last row
    n_ep = first.size
    transfer_next = np.zeros(n_ep, dtype=bool)
    transfer_next[:-1] = ~e_spell[1:]
    is_open = (e_b == T - 1) & ~transfer_next
    e_end = cal.within(np.clip(e_b + 1, 0, T - 1), rng.random(n_ep))
    e_end[:-1] = np.where(transfer_next[:-1], e_start[1:], e_end[:-1])
    e_end = np.maximum(e_end, e_start)
    levels = county.levels
    reason = np.full(n_ep, END[EndReason.OTHER], dtype=np.int64)
    nxt = np.minimum(np.arange(n_ep) + 1, max(n_ep - 1, 0))
    step_reason = np.select(
        [levels[e_prog[nxt]] > levels[e_prog], levels[e_prog[nxt]] < levels[e_prog]],
        [END[EndReason.STEPPED_UP], END[EndReason.STEPPED_DOWN]],
        default=END[EndReason.TRANSFERRED],
    )
    reason = np.where(transfer_next, step_reason, reason)
    c_order = np.lexsort((ev.chg_step, ev.chg_person))
    c_keys = ev.chg_person[c_order].astype(np.int64) * span + (ev.chg_step[c_order] - base)
    ci = _lookup(c_keys, e_person * span + (e_b + 1 - base), exact=True)
    to_state = np.where(ci >= 0, ev.chg_to[c_order][np.maximum(ci, 0)], State.WELL)
    g_order = np.lexsort((ev.gone_step, ev.gone_person))
    g_keys = ev.gone_person[g_order].astype(np.int64) * span + (ev.gone_step[g_order] - base)
    gi = _lookup(g_keys, e_person * span + (e_b + 1 - base), exact=True)
    died = (gi >= 0) & ev.gone_died[g_order][np.maximum(gi, 0)] if g_keys.size else np.zeros(n_ep, bool)
    exit_reason = np.select(
        [
            to_state == State.GRADUATED,
            to_state == State.UNWELL,
            (to_state == State.LEFT) & died,
            to_state == State.LEFT,
            to_state == State.WAITING,
        ],
        [
            END[EndReason.GRADUATED],
            END[EndReason.DISENGAGED],
            END[EndReason.DIED],
            END[EndReason.MOVED],
            END[EndReason.STEPPED_UP],
        ],
        default=END[EndReason.OTHER],
    )
    reason = np.where(transfer_next, reason, exit_reason)
    return Episodes(
        row_program=prog,
        spell_start=spell_start,
        first_row=ep_break,
        person=e_person,
        program=e_prog,
        sud=e_sud,
        spell=e_spell,
        golive=golive,
        start=e_start,
        end=e_end,
        is_open=is_open,
        reason=reason,
        referral=safe_ref,
        has_referral=ref_ok,
        clinic=clinic,
    )
