"""An instrument definition as a FHIR R4 Questionnaire, checked by `fhir.resources` before it leaves.

Answer options carry the item score they earn in the `ordinalValue` extension (so a reverse-scored
EPDS item reads 3, 2, 1, 0 from the top box down), LOINC codes where the definition has them, and
Onward's own code system otherwise. An instrument whose text may not ship (the EPDS, unless the site
loaded its licensed wording) exports items without text: scoring and metadata only.
"""

from __future__ import annotations

from typing import Any

from onward.errors import ValidationError
from onward.model.instruments import Definition, Item

LOINC = "http://loinc.org"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
#: The code system of answer values that have no LOINC answer code: `<prefix><instrument id>`.
ANSWER_SYSTEM_PREFIX = "urn:onward:instrument-answer:"
QUESTIONNAIRE_URL_PREFIX = "urn:onward:questionnaire:"


def _coding(system: str, code: str, display: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _item(definition: Definition, item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"linkId": str(item.number), "type": "choice", "required": True}
    if item.text:
        out["text"] = item.text
    if item.loinc:
        out["code"] = [_coding(LOINC, item.loinc, None)]
    options = []
    for option in item.options:
        if option.loinc:
            coding = _coding(LOINC, option.loinc, option.text)
        else:
            coding = _coding(f"{ANSWER_SYSTEM_PREFIX}{definition.id.value}", str(option.value), option.text)
        options.append(
            {
                "valueCoding": coding,
                "extension": [{"url": ORDINAL_VALUE, "valueDecimal": item.score(option.value)}],
            }
        )
    out["answerOption"] = options
    return out


def questionnaire_json(definition: Definition) -> dict[str, Any]:
    """The Questionnaire resource (as JSON-ready dict), validated against the FHIR R4 model."""
    items: list[dict[str, Any]] = []
    if definition.stem:
        items.append({"linkId": "instructions", "type": "display", "text": definition.stem})
    items += [_item(definition, item) for item in definition.items]
    total: dict[str, Any] = {
        "linkId": "total",
        "type": "integer",
        "text": f"{definition.short_name} total score (0-{definition.max_total})",
        "readOnly": True,
    }
    if definition.loinc_total:
        total["code"] = [_coding(LOINC, definition.loinc_total, None)]
    items.append(total)
    licence = definition.texts_licence or definition.licence
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": f"onward-{definition.id.value}",
        "url": f"{QUESTIONNAIRE_URL_PREFIX}{definition.id.value}",
        "name": definition.short_name.replace("-", "").upper(),
        "title": f"{definition.name} ({definition.short_name})",
        "status": "active",
        "subjectType": ["Patient"],
        "description": definition.reference,
        "copyright": f"{definition.copyright} {licence}",
        "item": items,
    }
    if definition.loinc_panel:
        resource["code"] = [_coding(LOINC, definition.loinc_panel, None)]
    return validated(resource)


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource` parsed by fhir.resources' model and written back out (a bad field is refused).

    fhir.resources 8 ships R4B (4.3) rather than R4 (4.0.1) models; the Questionnaire elements Onward
    writes are the same in both."""
    from fhir.resources.R4B.questionnaire import Questionnaire

    try:
        model = Questionnaire.model_validate(resource)
    except Exception as error:  # pydantic's ValidationError, with the FHIR path of each problem
        raise ValidationError(f"not a valid FHIR R4 Questionnaire: {error}") from None
    return model.model_dump(mode="json", exclude_none=True)
