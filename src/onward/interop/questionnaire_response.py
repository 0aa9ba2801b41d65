"""A completed form as a FHIR R4 QuestionnaireResponse, checked by `fhir.resources` before it is stored.

Each answer is the coding of the option chosen, exactly as the instrument's Questionnaire lists it
(`onward.interop.questionnaire`): LOINC answer codes where the definition has them, Onward's own code
system otherwise, so a response can be read back against the Questionnaire it answers. The total is
answered on the Questionnaire's read-only `total` item.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from onward.errors import ValidationError
from onward.interop.questionnaire import ANSWER_SYSTEM_PREFIX, LOINC, QUESTIONNAIRE_URL_PREFIX
from onward.model.instruments import Definition, Item, validate_answers


def _answer_coding(definition: Definition, item: Item, value: int) -> dict[str, Any]:
    option = next(o for o in item.options if o.value == value)
    if option.loinc:
        coding: dict[str, Any] = {"system": LOINC, "code": option.loinc}
    else:
        coding = {"system": f"{ANSWER_SYSTEM_PREFIX}{definition.id.value}", "code": str(option.value)}
    if option.text:
        coding["display"] = option.text
    return coding


def questionnaire_response_json(
    definition: Definition,
    answers: Sequence[int],
    *,
    response_id: str,
    person_id: str,
    authored: datetime,
    total: int,
) -> dict[str, Any]:
    """The QuestionnaireResponse of `answers` (one answer value per item), validated against FHIR R4."""
    checked = validate_answers(definition.id, answers)
    items: list[dict[str, Any]] = []
    for item, value in zip(definition.items, checked, strict=True):
        entry: dict[str, Any] = {
            "linkId": str(item.number),
            "answer": [{"valueCoding": _answer_coding(definition, item, value)}],
        }
        if item.text:
            entry["text"] = item.text
        items.append(entry)
    items.append({"linkId": "total", "answer": [{"valueInteger": total}]})
    moment = authored if authored.tzinfo is not None else authored.replace(tzinfo=UTC)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": f"{QUESTIONNAIRE_URL_PREFIX}{definition.id.value}",
        "status": "completed",
        "subject": {"reference": f"Patient/{person_id}"},
        "authored": moment.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "item": items,
    }
    return validated_response(resource)


def validated_response(resource: dict[str, Any]) -> dict[str, Any]:
    """`resource` parsed by fhir.resources' R4 model and written back out (a bad field is refused)."""
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    try:
        model = QuestionnaireResponse.model_validate(resource)
    except Exception as error:  # pydantic's ValidationError, with the FHIR path of each problem
        raise ValidationError(f"not a valid FHIR R4 QuestionnaireResponse: {error}") from None
    return model.model_dump(mode="json", exclude_none=True)


def _same_code(coding: dict[str, Any], definition: Definition, item: Item, value: int) -> bool:
    expected = _answer_coding(definition, item, value)
    return bool(coding.get("system") == expected["system"] and coding.get("code") == expected["code"])


def answers_from_response(definition: Definition, resource: dict[str, Any]) -> tuple[int, ...]:
    """The answer values of a QuestionnaireResponse of `definition`, in item order; a missing item or
    an answer that is not one of the item's options is refused naming the item."""
    by_link = {str(entry.get("linkId")): entry for entry in resource.get("item", [])}
    values: list[int] = []
    for item in definition.items:
        entry = by_link.get(str(item.number))
        answer = (entry or {}).get("answer") or []
        coding = answer[0].get("valueCoding") if answer else None
        if not coding:
            raise ValidationError(f"{definition.short_name} item {item.number} has no answer", column="item")
        value = next((o.value for o in item.options if _same_code(coding, definition, item, o.value)), None)
        if value is None:
            raise ValidationError(
                f"{definition.short_name} item {item.number}: "
                f"{coding.get('code')!r} is not one of its answers",
                column="item",
            )
        values.append(value)
    return validate_answers(definition.id, values)
