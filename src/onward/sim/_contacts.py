"""Services and measurements of a recorded run: what each open episode-month looks like in the records.

Contact volumes follow the engine's staff hours per state (so metrics on the log agree with the run),
code mixes follow the service-code catalog, and the result is checked against AIHW 2016-17 (≈ 21
community contacts per patient-year, mean 36 min); PHQ-9 scores come from the engine's trajectories, GAD-7 is
drawn correlated with them, AUDIT-C / DAST-10 follow the state of substance-use episodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from onward.model.eventlog import Instrument, ProgramKind, ServiceCategory
from onward.model.service_codes import default_catalog
from onward.sim._arrow import Calendar, dates, ids, labels, on_weekdays, take
from onward.sim._county import County, Staff
from onward.sim._rows import Rows
from onward.sim.parameters import Parameters
from onward.sim.states import N_STATES, State

Arr = npt.NDArray[Any]
_CATALOG = default_catalog()
_CODES = list(_CATALOG)
_CODE = {c: i for i, c in enumerate(_CODES)}
_CATEGORIES = [c.value for c in ServiceCategory]
_CODE_CATEGORY = np.array([_CATEGORIES.index(_CATALOG[c].category.value) for c in _CODES])
_CODE_MINUTES = np.array([_CATALOG[c].minutes for c in _CODES])
# category → staff role index (StaffRole order: clinician, prescriber, case_manager, peer_specialist, …)
_ROLE_OF_CATEGORY = np.array(
    [{"medication": 1, "case_management": 2, "skills": 2, "peer_support": 3}.get(c, 0) for c in _CATEGORIES]
)

# Code mixes per (state, is_sud) in three groups. Treatment and case-management contacts are as many
# as it takes to deliver the engine's staff hours for that state (parameters hours_*), so the log's
# treatment share matches the engine's; peer and skills contacts come on top (monthly mean given).
Mix = list[tuple[str, float, int]]  # (code, share, units)
_L1, _L2, _L3 = State.TREATMENT_OUTPATIENT, State.TREATMENT_INTENSIVE, State.TREATMENT_RESIDENTIAL
_CMO, _RIS = State.CASE_MANAGEMENT_ONLY, State.RECOVERED_IN_SERVICE
_TREATMENT_MIX: dict[tuple[State, bool], Mix] = {
    (_L1, False): [
        ("90834", 0.45, 1),
        ("90837", 0.2, 1),
        ("90832", 0.15, 1),
        ("99213", 0.1, 1),
        ("99214", 0.05, 1),
        ("90847", 0.05, 1),
    ],
    (_L1, True): [
        ("H0020", 0.25, 1),
        ("J0572", 0.1, 1),
        ("H0016", 0.15, 1),
        ("99213", 0.15, 1),
        ("H0004", 0.25, 3),
        ("H0005", 0.1, 1),
    ],
    (_L2, False): [("90853", 0.7, 1), ("90837", 0.2, 1), ("99214", 0.1, 1)],
    (_L2, True): [("H0015", 0.6, 1), ("H0005", 0.2, 1), ("H0004", 0.1, 4), ("99213", 0.1, 1)],
    (_L3, False): [("99232", 0.35, 1), ("90853", 0.4, 1), ("90837", 0.15, 1), ("H2019", 0.1, 4)],
    (_L3, True): [("H0005", 0.5, 1), ("H0004", 0.3, 4), ("99213", 0.15, 1), ("H0014", 0.05, 1)],
    (_RIS, False): [("99213", 0.5, 1), ("90832", 0.5, 1)],
    (_RIS, True): [("H0016", 0.4, 1), ("99213", 0.3, 1), ("H0004", 0.3, 2)],
}
_CM_MIX: dict[tuple[State, bool], Mix] = {
    (_CMO, False): [("T1017", 0.6, 3), ("T1016", 0.3, 2), ("G9012", 0.1, 1)],
    (_CMO, True): [("H0006", 0.4, 1), ("T1017", 0.6, 3)],
    (_RIS, False): [("T1017", 1.0, 2)],
    (_RIS, True): [("H0006", 0.5, 1), ("T1017", 0.5, 2)],
    # a case manager beside treatment (only for people the engine gave one: Rows.cm)
    (_L1, False): [("T1017", 0.7, 2), ("T1016", 0.3, 1)],
    (_L1, True): [("H0006", 0.5, 1), ("T1017", 0.5, 2)],
    (_L2, False): [("T1017", 0.7, 2), ("T1016", 0.3, 1)],
    (_L2, True): [("H0006", 0.5, 1), ("T1017", 0.5, 2)],
    (_L3, False): [("T1016", 1.0, 1)],
    (_L3, True): [("H0006", 1.0, 1)],
}
_SUPPORT: dict[tuple[State, bool], tuple[float, Mix]] = {
    (_CMO, False): (0.5, [("H0038", 0.6, 4), ("H2014", 0.4, 4)]),
    (_CMO, True): (0.8, [("H0038", 0.7, 4), ("H2014", 0.3, 4)]),
    (_L1, True): (0.3, [("H0038", 1.0, 4)]),
    (_L3, True): (2.0, [("H0038", 1.0, 4)]),
    (_RIS, True): (0.3, [("H0038", 1.0, 4)]),
}
_GROUPS = 3  # treatment, case management, support
_N_MENUS = N_STATES * 2 * _GROUPS
_WIDTH = 6
_MENU_CODE = np.zeros((_N_MENUS, _WIDTH), dtype=np.int64)
_MENU_UNITS = np.ones((_N_MENUS, _WIDTH), dtype=np.int64)
_MENU_CUM = np.full((_N_MENUS, _WIDTH), 2.0)
_MENU_MINUTES = np.zeros(_N_MENUS)  # expected minutes of one contact
_SUPPORT_MEAN = np.zeros(_N_MENUS)


def _menu(state: State, sud: bool, group: int) -> int:
    return (int(state) * 2 + int(sud)) * _GROUPS + group


for _group, _table in enumerate((_TREATMENT_MIX, _CM_MIX, {k: v[1] for k, v in _SUPPORT.items()})):
    for (_state, _sud), _mix in _table.items():
        _m = _menu(_state, _sud, _group)
        for _j, (_code, _share, _units) in enumerate(_mix):
            _MENU_CODE[_m, _j], _MENU_UNITS[_m, _j] = _CODE[_code], _units
            _MENU_MINUTES[_m] += _share * _CODE_MINUTES[_CODE[_code]] * _units
        _MENU_CUM[_m, : len(_mix)] = np.cumsum([s for _, s, _ in _mix])
        _MENU_CUM[_m, len(_mix) - 1] = 1.0
for (_state, _sud), (_mean, _) in _SUPPORT.items():
    _SUPPORT_MEAN[_menu(_state, _sud, 2)] = _mean


def contact_means(params: Parameters) -> npt.NDArray[np.float64]:
    """Expected contacts per person-month for every menu: face-to-face staff minutes / minutes per contact."""
    hours = np.zeros((N_STATES, _GROUPS))
    hours[[_L1, _L2, _L3, _RIS], 0] = (
        params.hours_outpatient,
        params.hours_intensive,
        params.hours_residential,
        params.hours_maintenance,
    )
    hours[[_CMO, _RIS], 1] = (params.hours_case_management, params.hours_maintenance_case_management)
    hours[[_L1, _L2, _L3], 1] = params.hours_treatment_case_management
    minutes = np.repeat(hours, 2, axis=0).ravel() * 60.0 * params.direct_care_share
    means = np.divide(minutes, _MENU_MINUTES, out=np.zeros(_N_MENUS), where=_MENU_MINUTES > 0)
    return means + _SUPPORT_MEAN


# Chance of a PHQ-9 in an episode-month by state (measurement-based care; NHS Talking Therapies
# measures at every session); case management and maintenance a little less often, so that the
# "no measure in 90 days" arm of the stuck metric (docs/metrics.md) stays rare, as in the engine.
_MEASURE = np.zeros(N_STATES)
_MEASURE[[State.TREATMENT_OUTPATIENT, State.TREATMENT_INTENSIVE, State.TREATMENT_RESIDENTIAL]] = 0.9
_MEASURE[[State.CASE_MANAGEMENT_ONLY, State.RECOVERED_IN_SERVICE]] = 0.8
_INSTRUMENTS = [i.value for i in Instrument]


def _days_in_row(
    rng: np.random.Generator, cal: Calendar, step: Arr, start_day: Arr, clinic: Arr | None = None
) -> Arr:
    """A day of each row's step, not before its episode started; clinic contacts fall on weekdays."""
    lo = np.maximum(cal.start(step), start_day)
    hi = np.maximum(cal.start(step + 1) - 1, lo)
    days: Arr = np.minimum(lo + np.floor(rng.random(step.size) * (hi - lo + 1)).astype(np.int64), cal.end - 1)
    if clinic is not None:
        days = on_weekdays(days, lo, np.minimum(hi, cal.end - 1), clinic)
    return days


def services_table(
    rng: np.random.Generator,
    rows: Rows,
    info: dict[str, Arr],
    *,
    cal: Calendar,
    county: County,
    staff: Staff,
    people_ids: pa.Array,
    episode_ids: pa.Array,
    cm_coverage: npt.NDArray[np.float64],
    params: Parameters,
    crisis: tuple[Arr, Arr],
    pregnancy_due: Arr,
) -> pa.Table:
    """Coded services: regular contacts per episode-month, intake and transfer services, crisis contacts."""
    spm = cal.days_per_step / (365.25 / 12)
    base = (rows.state.astype(np.int64) * 2 + rows.sud) * _GROUPS
    menu = (base[:, None] + np.arange(_GROUPS)[None, :]).ravel()  # every row × (treatment, cm, support)
    cell_row = np.repeat(np.arange(base.size), _GROUPS)
    treating = np.isin(rows.state, [_L1, _L2, _L3])
    supported = np.where(treating, rows.cm, True)[cell_row]  # treatment rows: only with a case manager
    coverage = np.where(menu % _GROUPS == 1, cm_coverage[rows.step[cell_row]] * supported, 1.0)
    coverage = coverage * (rows.step[cell_row] >= 0)  # no contacts before the recorded years
    n = rng.poisson(contact_means(params)[menu] * spm * coverage)
    # an episode's first month always has its main contact (treatment, or case management) on day one
    # (episodes already open when the recorded years began had theirs before them)
    main = np.where(rows.state == _CMO, 1, 0)
    starts = info["first_row"] & (info["intake"] | ~info["spell_start"])
    first_cell = np.flatnonzero(starts) * _GROUPS + main[starts]
    n[first_cell] = np.maximum(n[first_cell], 1)
    contact_cell = np.repeat(np.arange(n.size), n)
    row = cell_row[contact_cell]
    cm = menu[contact_cell]
    j = (rng.random(row.size)[:, None] >= _MENU_CUM[cm]).sum(axis=1)
    code = _MENU_CODE[cm, j]
    minutes = _CODE_MINUTES[code] * _MENU_UNITS[cm, j]
    day = _days_in_row(rng, cal, rows.step[row], info["start_day"][row], info["clinic"][row])
    day[(np.cumsum(n) - n)[first_cell]] = info["start_day"][row[(np.cumsum(n) - n)[first_cell]]]
    person, episode, program = rows.person[row], info["row_episode"][row], info["row_program"][row]

    # intake (assessment + brief measure) when an episode starts from a referral; service plan on transfers
    intake = np.flatnonzero(info["first_row"] & info["intake"])
    transfer = np.flatnonzero(info["first_row"] & ~info["spell_start"])
    extra_rows = np.concatenate([intake, intake, transfer])
    assess = np.where(rows.sud[intake], _CODE["H0001"], _CODE["90791"])
    extra_code = np.concatenate(
        [assess, np.full(intake.size, _CODE["96127"]), np.full(transfer.size, _CODE["H0032"])]
    )
    crisis_person, crisis_day = crisis
    crisis_code = np.where(rng.random(crisis_person.size) < 0.6, _CODE["90839"], _CODE["H2011"])
    expecting = np.flatnonzero((pregnancy_due - 84 >= cal.day0) & (pregnancy_due >= 0))
    perinatal_day = pregnancy_due[expecting] - 84
    keep = perinatal_day < cal.end
    expecting, perinatal_day = expecting[keep], perinatal_day[keep]

    all_person = np.concatenate([person, rows.person[extra_rows], crisis_person, expecting])
    all_episode = np.concatenate(
        [episode, info["row_episode"][extra_rows], np.full(crisis_person.size + expecting.size, -1)]
    )
    all_program = np.concatenate(
        [
            program,
            info["row_program"][extra_rows],
            np.full(crisis_person.size, county.index(ProgramKind.CRISIS)),
            np.full(expecting.size, county.index(ProgramKind.PERINATAL)),
        ]
    )
    all_code = np.concatenate([code, extra_code, crisis_code, np.full(expecting.size, _CODE["96127"])])
    units = np.where(all_code == _CODE["H2011"], 4, 1)
    all_minutes = np.concatenate([minutes, _CODE_MINUTES[all_code[minutes.size :]] * units[minutes.size :]])
    all_day = np.concatenate([day, info["start_day"][extra_rows], crisis_day, perinatal_day])
    category = _CODE_CATEGORY[all_code]
    staff_idx = staff.pick(all_program, _ROLE_OF_CATEGORY[category], all_person)
    order = np.lexsort((all_code, all_person, all_day))
    no_episode = all_episode[order] < 0
    return pa.table(
        {
            "service_id": ids("SVC", order.size, 9),
            "person_id": take(people_ids, all_person[order]),
            "episode_id": take(episode_ids, np.maximum(all_episode[order], 0), null=no_episode),
            "staff_id": take(staff.table["staff_id"].combine_chunks(), staff_idx[order]),
            "service_date": dates(all_day[order]),
            "code": labels(_CODES, all_code[order]),
            "minutes": pa.array(all_minutes[order], pa.int64()),
            "category": labels(_CATEGORIES, category[order]),
        }
    )


def _items(rng: np.random.Generator, score: Arr, n_items: int, item_max: int) -> Arr:
    """Item scores (0..item_max each) that sum to `score`: `score` slots drawn without replacement."""
    slots = n_items * item_max
    if score.size == 0:
        return np.zeros((0, n_items), dtype=np.int64)
    order = np.argsort(rng.random((score.size, slots)), axis=1)
    chosen = np.zeros((score.size, slots), dtype=bool)
    np.put_along_axis(chosen, order, np.arange(slots)[None, :] < score[:, None], axis=1)
    items: Arr = chosen.reshape(score.size, n_items, item_max).sum(axis=2).astype(np.int64)
    return items


RISK_ODDS_AT_10 = 0.035
"""Odds that the risk item (PHQ-9 item 9, EPDS item 10) is above 0 at a total of 10 (assumption).

The odds rise by RISK_ODDS_PER_POINT per point of the total, so thoughts of death or self-harm are
rare at low totals and common only near the top of the scale. Over the county's measurements a few
percent of administrations are positive (tests/sim/test_eventlog.py), as in NHANES 2005-2010, where
3.5 % of people answered PHQ-9 item 9 above "not at all" (docs/references.md); Simon et al. 2013
(Psychiatr Serv) found item 9 answers rising with overall depression severity.
"""
RISK_ODDS_PER_POINT = 1.2
_RISK_VALUE_CUM = np.array([0.65, 0.87, 1.0])  # a positive answer: 1, 2 or 3 (assumption)


def risk_item_probability(score: Arr) -> Arr:
    """Chance that the risk item is positive at each total score (logistic in the total)."""
    odds = RISK_ODDS_AT_10 * RISK_ODDS_PER_POINT ** (np.asarray(score, dtype=np.float64) - 10.0)
    result: Arr = np.where(np.asarray(score) > 0, odds / (1.0 + odds), 0.0)
    return result


def _items_with_risk(
    rng: np.random.Generator, score: Arr, n_items: int, item_max: int, risk_item: int
) -> Arr:
    """Item scores summing to `score` whose risk item (1-based) is positive with risk_item_probability."""
    positive = rng.random(score.size) < risk_item_probability(score)
    value = 1 + (rng.random(score.size)[:, None] >= _RISK_VALUE_CUM[None, :2]).sum(axis=1)
    risk = np.where(positive, np.minimum(value, score), 0)
    risk = np.maximum(risk, score - (n_items - 1) * item_max)  # the other items cannot hold it all
    rest = _items(rng, score - risk, n_items - 1, item_max)
    items: Arr = np.insert(rest, risk_item - 1, risk, axis=1)
    return items


def _json_items(rng: np.random.Generator, instrument: Instrument, score: Arr) -> pa.Array:
    from onward.sim._arrow import json_digit_lists

    n_items, item_max, risk_item = {
        Instrument.PHQ9: (9, 3, 9),
        Instrument.GAD7: (7, 3, 0),
        Instrument.AUDITC: (3, 4, 0),
        Instrument.DAST10: (10, 1, 0),
        Instrument.EPDS: (10, 3, 10),
    }[instrument]
    if risk_item:
        return json_digit_lists(_items_with_risk(rng, score, n_items, item_max, risk_item))
    return json_digit_lists(_items(rng, score, n_items, item_max))


def measurements_table(
    rng: np.random.Generator,
    rows: Rows,
    info: dict[str, Arr],
    *,
    cal: Calendar,
    people_ids: pa.Array,
    episode_ids: pa.Array,
    pregnancy_due: Arr,
) -> pa.Table:
    """PHQ-9 (and GAD-7) at intake and about monthly; AUDIT-C or DAST-10 for SUD; EPDS in pregnancy."""
    first, spell = info["first_row"], info["spell_start"]
    months_per_step = cal.days_per_step / (365.25 / 12)
    monthly = np.minimum(1.0, _MEASURE[rows.state] * months_per_step)  # the same count per month, any step
    take_row = np.where(first, np.where(spell, 1.0, 0.8), np.where(rows.step >= 0, monthly, 0.0))
    r = np.flatnonzero(rng.random(rows.person.size) < take_row)
    phq_score = np.where(first[r] & spell[r], rows.base[r], rows.phq[r])
    day = np.where(
        first[r],
        info["start_day"][r],
        _days_in_row(rng, cal, rows.step[r], info["start_day"][r], info["clinic"][r]),
    )
    g = r[(rng.random(r.size) < 0.8) | first[r]]
    g_pos = np.searchsorted(r, g)
    gad_score = np.clip(np.rint(0.75 * phq_score[g_pos] + rng.normal(0, 1.5, g.size)), 0, 21).astype(np.int64)

    sud_rate = min(1.0, 0.25 * months_per_step)  # AUDIT-C / DAST-10 about every 4 months
    s = np.flatnonzero(
        rows.sud & ((first & spell) | ((rng.random(rows.person.size) < sud_rate) & (rows.step >= 0)))
    )
    s_day = np.where(
        first[s],
        info["start_day"][s],
        _days_in_row(rng, cal, rows.step[s], info["start_day"][s], info["clinic"][s]),
    )
    alcohol = rows.person[s] % 2 == 0
    treated = np.isin(
        rows.state[s], [State.TREATMENT_OUTPATIENT, State.TREATMENT_INTENSIVE, State.TREATMENT_RESIDENTIAL]
    )
    recovered = rows.state[s] == State.RECOVERED_IN_SERVICE
    lo = np.where(
        alcohol,
        np.where(treated, 4, np.where(recovered, 0, 3)),
        np.where(treated, 3, np.where(recovered, 0, 2)),
    )
    hi = np.where(
        alcohol,
        np.where(treated, 12, np.where(recovered, 3, 9)),
        np.where(treated, 9, np.where(recovered, 2, 7)),
    )
    s_score = rng.integers(lo, hi + 1)

    expecting = np.flatnonzero(pregnancy_due >= 0)
    e_day = pregnancy_due[expecting] - 84  # about 28 weeks of pregnancy
    keep = (e_day >= cal.day0) & (e_day < cal.end)
    expecting, e_day = expecting[keep], e_day[keep]
    e_score = np.where(
        rng.random(expecting.size) < 0.8,
        np.clip(np.rint(rng.normal(5, 3, expecting.size)), 0, 9),
        rng.integers(10, 21, expecting.size),
    ).astype(np.int64)

    parts = [
        (Instrument.PHQ9, rows.person[r], info["row_episode"][r], day, phq_score),
        (Instrument.GAD7, rows.person[g], info["row_episode"][g], day[g_pos], gad_score),
        (
            Instrument.AUDITC,
            rows.person[s][alcohol],
            info["row_episode"][s][alcohol],
            s_day[alcohol],
            s_score[alcohol],
        ),
        (
            Instrument.DAST10,
            rows.person[s][~alcohol],
            info["row_episode"][s][~alcohol],
            s_day[~alcohol],
            s_score[~alcohol],
        ),
        (Instrument.EPDS, expecting, np.full(expecting.size, -1), e_day, e_score),
    ]
    items = pa.concat_arrays([_json_items(rng, inst, score) for inst, _, _, _, score in parts])
    inst = np.concatenate([np.full(p[1].size, _INSTRUMENTS.index(p[0].value)) for p in parts])
    person, episode, mday, score = (np.concatenate([p[k] for p in parts]) for k in (1, 2, 3, 4))
    order = np.lexsort((inst, person, mday))
    no_episode = episode[order] < 0
    return pa.table(
        {
            "measurement_id": ids("MEA", order.size, 9),
            "person_id": take(people_ids, person[order]),
            "episode_id": take(episode_ids, np.maximum(episode[order], 0), null=no_episode),
            "instrument": labels(_INSTRUMENTS, inst[order]),
            "measured_on": dates(mday[order]),
            "score": pa.array(score[order].astype(np.int64), pa.int64()),
            "items": items.take(pa.array(order)),
        }
    )
