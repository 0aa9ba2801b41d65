"""A site's edit of a lesson: checked like the shipped files, shown as a diff."""

from __future__ import annotations

import pytest

from onward.errors import ValidationError
from onward.model.curricula import load_curricula
from onward.model.skills_versions import (
    apply_content,
    content_form,
    form_content,
    lesson_content,
    lesson_diff,
)


def test_an_edit_round_trips_through_the_form_and_shows_as_a_diff() -> None:
    curricula = load_curricula()
    shipped = curricula.lesson("grade-3-er-1")
    form = content_form(lesson_content(shipped))
    assert apply_content(curricula, shipped, form_content(form)) == shipped
    form["title"] = "My calm-down plan for our class"
    edited = apply_content(curricula, shipped, form_content(form))
    assert edited.title == "My calm-down plan for our class" and edited.id == shipped.id
    diff = lesson_diff(shipped, edited)
    assert [(d.kind, d.text) for d in diff if d.kind in ("added", "removed")] == [
        ("removed", "Title: My calm-down plan"),
        ("added", "Title: My calm-down plan for our class"),
    ]


def test_an_edit_that_breaks_the_lesson_rules_is_refused_naming_the_field() -> None:
    curricula = load_curricula()
    shipped = curricula.lesson("prenatal-er-1")
    form = content_form(lesson_content(shipped))
    form["minutes"] = "20"
    with pytest.raises(ValidationError, match="minutes"):
        apply_content(curricula, shipped, form_content(form))
    form["minutes"] = "12"
    form["steps"] = "12 only one step"
    with pytest.raises(ValidationError, match="steps"):
        form_content(form)
    with pytest.raises(ValidationError, match="skill"):
        apply_content(curricula, shipped, {"skill": "distress_tolerance"})
