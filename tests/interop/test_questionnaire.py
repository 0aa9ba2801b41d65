from __future__ import annotations

import pytest

from onward.errors import ValidationError
from onward.interop.questionnaire import ORDINAL_VALUE, questionnaire_json, validated
from onward.model.eventlog import Instrument
from onward.model.instruments import INSTRUMENTS


@pytest.mark.parametrize("instrument", [i.value for i in Instrument])
def test_every_instrument_exports_a_valid_questionnaire(instrument: str) -> None:
    d = INSTRUMENTS[Instrument(instrument)]
    q = questionnaire_json(d)
    assert q["resourceType"] == "Questionnaire" and q["status"] == "active"
    questions = [item for item in q["item"] if item["type"] == "choice"]
    assert [item["linkId"] for item in questions] == [str(n) for n in range(1, d.n_items + 1)]
    for item, spec in zip(questions, d.items, strict=True):
        ordinals = [o["extension"][0]["valueDecimal"] for o in item["answerOption"]]
        assert ordinals == [spec.score(o.value) for o in spec.options]
        assert all(o["extension"][0]["url"] == ORDINAL_VALUE for o in item["answerOption"])
    assert d.licence in q["copyright"]


def test_loinc_codes_where_known() -> None:
    phq9 = questionnaire_json(INSTRUMENTS[Instrument.PHQ9])
    assert phq9["code"][0] == {"system": "http://loinc.org", "code": "44249-1"}
    assert phq9["item"][-1]["code"][0]["code"] == "44261-6"
    item9 = next(i for i in phq9["item"] if i["linkId"] == "9")
    assert item9["code"][0]["code"] == "44260-8"
    assert item9["answerOption"][3]["valueCoding"]["code"] == "LA6571-9"
    assert questionnaire_json(INSTRUMENTS[Instrument.GAD7])["item"][-1]["code"][0]["code"] == "70274-6"


def test_the_epds_ships_without_item_text_and_reverse_ordinals() -> None:
    q = questionnaire_json(INSTRUMENTS[Instrument.EPDS])
    questions = [i for i in q["item"] if i["type"] == "choice"]
    assert all("text" not in i for i in questions)
    assert all("display" not in o["valueCoding"] for i in questions for o in i["answerOption"])
    ordinals = [[o["extension"][0]["valueDecimal"] for o in i["answerOption"]] for i in questions]
    assert ordinals[0] == [0, 1, 2, 3] and ordinals[2] == [3, 2, 1, 0] and ordinals[9] == [3, 2, 1, 0]
    assert "Royal College of Psychiatrists" in q["copyright"]


def test_site_text_appears_in_the_export() -> None:
    texts = [(f"question {n}", [f"answer {n}.{v}" for v in range(4)]) for n in range(1, 11)]
    d = INSTRUMENTS[Instrument.EPDS].with_texts(licence="licensed to the county", stem=None, items=texts)
    q = questionnaire_json(d)
    assert q["item"][0]["text"] == "question 1"
    assert q["item"][0]["answerOption"][1]["valueCoding"]["display"] == "answer 1.1"
    assert "licensed to the county" in q["copyright"]


def test_a_malformed_resource_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"(?s)not a valid FHIR R4 Questionnaire.*item\.0\.linkId"):
        validated({"resourceType": "Questionnaire", "status": "active", "item": [{"type": "choice"}]})
    with pytest.raises(ValidationError, match="status"):
        validated({"resourceType": "Questionnaire"})
