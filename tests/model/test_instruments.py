from __future__ import annotations

import pytest

from onward.errors import ValidationError
from onward.model.eventlog import Instrument
from onward.model.instruments import (
    INSTRUMENTS,
    DefinitionError,
    band,
    is_case,
    item_scores,
    nhs_outcome,
    risk_flag,
    score_answers,
    score_items,
    total,
    validate_answers,
)
from onward.model.instruments.definition import parse

ALL_BANDS = [(i.value, b.low, b.high, b.label) for i, d in INSTRUMENTS.items() for b in d.bands]
ALL_REVERSED = [(i.value, n) for i, d in INSTRUMENTS.items() for n in d.reversed_items]


def test_every_contract_instrument_has_a_sourced_definition_with_contiguous_bands() -> None:
    assert set(INSTRUMENTS) == set(Instrument)
    for d in INSTRUMENTS.values():
        assert d.licence and d.reference and d.bands_source and d.caseness_source
        assert all(rule.source for rule in d.flags)
        assert all(sub.source for sub in d.subscales)
        assert d.bands[0].low == 0 and d.bands[-1].high == d.max_total
        for a, b in zip(d.bands, d.bands[1:], strict=False):
            assert b.low == a.high + 1
        if d.reliable_change is not None:
            assert d.reliable_change_source


def test_item_text_ships_except_for_the_epds() -> None:
    for instrument, d in INSTRUMENTS.items():
        if instrument == Instrument.EPDS:
            assert d.item_text == "site" and not d.has_text
            assert all(o.text is None for item in d.items for o in item.options)
        else:
            assert d.item_text == "included" and d.has_text and d.stem


@pytest.mark.parametrize(("instrument", "low", "high", "label"), ALL_BANDS)
def test_every_band_boundary(instrument: str, low: int, high: int, label: str) -> None:
    assert band(instrument, low) == label
    assert band(instrument, high) == label
    if low > 0:
        assert band(instrument, low - 1) != label
    if high < INSTRUMENTS[Instrument(instrument)].max_total:
        assert band(instrument, high + 1) != label


@pytest.mark.parametrize(("instrument", "number"), ALL_REVERSED)
def test_every_reverse_scored_item_is_turned_round(instrument: str, number: int) -> None:
    d = INSTRUMENTS[Instrument(instrument)]
    top = max(d.items[number - 1].values)
    for value in d.items[number - 1].values:
        answers = [min(item.values) for item in d.items]
        answers[number - 1] = value
        assert item_scores(instrument, answers)[number - 1] == top - value


def test_only_the_published_items_are_reverse_scored() -> None:
    reversed_items = {i.value: d.reversed_items for i, d in INSTRUMENTS.items() if d.reversed_items}
    # EPDS scoring instructions: items 3, 5-10; DAST-10 scoring guide: item 3 ("No" scores 1).
    assert reversed_items == {"epds": (3, 5, 6, 7, 8, 9, 10), "dast10": (3,)}


# Worked examples, each computed by the scoring rule its public source prints.


def test_phq9_worked_example() -> None:
    # Kroenke et al. 2001: the total is the sum of the nine items (0-3); 10-14 is moderate.
    result = score_answers("phq9", [1, 2, 1, 1, 3, 1, 1, 1, 0])
    assert (result.total, result.band, result.flags) == (11, "moderate", ("caseness",))
    assert result.subscales == {"phq2": 3}
    assert score_answers("phq9", [3] * 9).to_json() == {
        "instrument": "phq9",
        "total": 27,
        "band": "severe",
        "subscales": {"phq2": 6},
        "flags": ["risk", "caseness"],
    }


def test_gad7_phq2_gad2_worked_examples() -> None:
    assert score_answers("gad7", [1, 1, 1, 1, 1, 1, 2]).total == 8
    assert score_answers("gad7", [1, 1, 1, 1, 1, 1, 2]).flags == ("caseness",)
    assert score_answers("gad7", [1, 1, 1, 1, 1, 1, 1]).flags == ()
    assert score_answers("phq2", [1, 2]).flags == ("positive_screen",)
    assert score_answers("phq2", [1, 1]).flags == ()
    assert score_answers("gad2", [0, 3]).band == "positive"


def test_audit_worked_example() -> None:
    # WHO 2001: items 1-8 score 0-4, items 9-10 score 0, 2 or 4; zones 0-7, 8-15, 16-19, 20-40.
    result = score_answers("audit", [2, 1, 1, 0, 0, 0, 1, 0, 2, 0])
    assert (result.total, result.band) == (7, "zone I")
    assert result.subscales == {"auditc": 4, "dependence": 0, "harmful": 3}
    assert score_answers("audit", [4] * 10).total == 40
    with pytest.raises(ValidationError, match="item 9"):
        validate_answers("audit", [0, 0, 0, 0, 0, 0, 0, 0, 1, 0])


def test_auditc_cut_offs_by_sex() -> None:
    # Bush et al. 1998: >= 4 in men; Bradley et al. 2003: >= 3 in women.
    three = score_answers("auditc", [1, 1, 1], sex="female")
    assert three.flags == ("positive_screen",) and three.band == "positive for women"
    assert score_answers("auditc", [1, 1, 1], sex="male").flags == ()
    assert score_answers("auditc", [2, 1, 1], sex="male").flags == ("positive_screen",)
    assert is_case("auditc", 3, sex="female") and not is_case("auditc", 3, sex="male")
    assert not is_case("auditc", 2, sex="female")


def test_dast10_worked_example() -> None:
    # Scoring guide: 1 point per "Yes" except item 3, where "No" scores 1.
    assert score_answers("dast10", [0] * 10).to_json()["total"] == 1
    assert score_answers("dast10", [0] * 10).band == "low"
    assert score_answers("dast10", [1] * 10).total == 9
    assert score_answers("dast10", [1] * 10).band == "severe"
    assert score_answers("dast10", [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]).band == "none"


def test_pcl5_worked_example_and_dsm5_rule() -> None:
    # National Center for PTSD: sum 0-80; clusters B 1-5, C 6-7, D 8-14, E 15-20; items >= 2 count.
    result = score_answers("pcl5", [2] * 20)
    assert (result.total, result.band) == (40, "provisional PTSD")
    assert result.subscales == {"B": 10, "C": 4, "D": 14, "E": 12}
    assert result.flags == ("positive_screen", "dsm5_rule")
    just = [2, 0, 0, 0, 0, 2, 0, 2, 2, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0]  # exactly 1 B, 1 C, 2 D, 2 E
    assert score_answers("pcl5", just).flags == ("dsm5_rule",)
    one_e_short = [*just[:15], 1, *just[16:]]
    assert score_answers("pcl5", one_e_short).flags == ()
    assert band("pcl5", 32) == "below cut-off" and band("pcl5", 33) == "provisional PTSD"


def test_epds_worked_example() -> None:
    # Cox et al. 1987: items 1, 2, 4 score the top box 0; items 3, 5-10 score it 3.
    top = score_answers("epds", [0] * 10)
    assert top.items == (0, 0, 3, 0, 3, 3, 3, 3, 3, 3) and top.total == 21
    assert top.flags == ("risk", "positive_screen")
    bottom = score_answers("epds", [3] * 10)
    assert bottom.total == 9 and bottom.band == "below cut-off" and bottom.flags == ()
    never_harm = score_answers("epds", [0, 0, 3, 0, 3, 3, 3, 3, 3, 3])  # "Never" on item 10 = bottom box
    assert "risk" not in never_harm.flags


def test_invalid_answers_name_the_item_and_why() -> None:
    with pytest.raises(ValidationError, match=r"PHQ-9 has 9 items, got 2"):
        score_answers("phq9", [1, 2])
    with pytest.raises(ValidationError, match=r"item 4: answer 5 is not one of its answers.*0, 1, 2, 3"):
        score_answers("phq9", [0, 0, 0, 5, 0, 0, 0, 0, 0])
    with pytest.raises(ValidationError, match="item 1"):
        score_answers("dast10", [2] + [0] * 9)
    with pytest.raises(ValidationError, match="item 1"):
        score_answers("gad7", [True, 0, 0, 0, 0, 0, 0])
    with pytest.raises(ValidationError, match="item 2: score 4 is out of range"):
        score_items("epds", [0, 4, 0, 0, 0, 0, 0, 0, 0, 0])
    with pytest.raises(ValidationError, match="unknown instrument"):
        score_answers("bdi", [0])


def test_totals_and_risk_items() -> None:
    assert total("phq9", [1, 2, 3, 0, 0, 1, 2, 3, 1]) == 13
    assert risk_flag("phq9", [0] * 8 + [1])
    assert not risk_flag("phq9", [3] * 8 + [0])
    assert risk_flag("epds", [0] * 9 + [1]) and not risk_flag("epds", [3] * 9 + [0])
    assert not risk_flag("gad7", [3] * 7)
    assert INSTRUMENTS[Instrument.PHQ9].risk_item == 9 and INSTRUMENTS[Instrument.EPDS].risk_item == 10
    with pytest.raises(ValidationError, match="out of range"):
        band("phq9", 28)


def test_nhs_outcomes() -> None:
    recovered = nhs_outcome((16, 6), (12, 5))
    assert recovered.recovered and recovered.reliable_improvement and recovered.reliable_recovery
    one = nhs_outcome((8, 4), (10, 9))
    assert one.at_caseness_first and not one.recovered
    mixed = nhs_outcome((20, 13), (5, 10))
    assert not mixed.reliable_improvement and not mixed.reliable_deterioration
    assert nhs_outcome((10, 17), None).reliable_deterioration
    with pytest.raises(ValidationError):
        nhs_outcome(None, None)


def _minimal(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "id": "phq2",
        "name": "x",
        "short_name": "X",
        "item_text": "included",
        "licence": "l",
        "copyright": "c",
        "reference": "r",
        "bands_source": "s",
        "caseness": 3,
        "caseness_source": "s",
        "answers": {"a": {"options": [{"value": 0, "text": "no"}, {"value": 1, "text": "yes"}]}},
        "items": [{"text": "q1", "answers": "a"}, {"text": "q2", "answers": "a"}],
        "bands": [{"low": 0, "high": 1, "label": "low"}, {"low": 2, "high": 2, "label": "high"}],
    }
    raw.update(changes)
    return raw


def test_a_self_contradicting_data_file_is_refused() -> None:
    assert parse(_minimal(caseness=2), "x.toml").max_total == 2
    with pytest.raises(DefinitionError, match="band 'high' should start at 1"):
        parse(
            _minimal(bands=[{"low": 0, "high": 0, "label": "low"}, {"low": 2, "high": 2, "label": "high"}]),
            "x",
        )
    with pytest.raises(DefinitionError, match="maximum total is 2"):
        parse(_minimal(bands=[{"low": 0, "high": 3, "label": "all"}]), "x")
    with pytest.raises(DefinitionError, match="unknown answer set"):
        parse(_minimal(items=[{"text": "q", "answers": "b"}]), "x")
    with pytest.raises(DefinitionError, match="flag risk"):
        parse(
            _minimal(
                caseness=2,
                flags=[{"name": "risk", "kind": "item_above", "item": 3, "above": 0, "source": "s"}],
            ),
            "x",
        )
    with pytest.raises(DefinitionError, match="no text"):
        parse(_minimal(caseness=2, items=[{"answers": "a"}, {"text": "q2", "answers": "a"}]), "x")


def test_site_text_must_fit_the_definition() -> None:
    epds = INSTRUMENTS[Instrument.EPDS]
    texts = [(f"question {n}", [f"answer {n}.{v}" for v in range(4)]) for n in range(1, 11)]
    loaded = epds.with_texts(licence="licensed to the county", stem="In the past 7 days:", items=texts)
    assert loaded.has_text and loaded.texts_licence == "licensed to the county"
    assert loaded.items[2].options[0].text == "answer 3.0" and loaded.items[2].score(0) == 3
    with pytest.raises(DefinitionError, match="licence"):
        epds.with_texts(licence=" ", stem=None, items=texts)
    with pytest.raises(DefinitionError, match="9 items; the instrument has 10"):
        epds.with_texts(licence="l", stem=None, items=texts[:9])
    with pytest.raises(DefinitionError, match="item 4 has 3 answer texts"):
        epds.with_texts(licence="l", stem=None, items=[*texts[:3], ("q4", ["a", "b", "c"]), *texts[4:]])
