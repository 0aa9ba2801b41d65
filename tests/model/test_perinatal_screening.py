"""EPDS scoring in the perinatal tracks: probable depression at 13, any item-10 answer, set points."""

from __future__ import annotations

import pytest

from onward.errors import ValidationError
from onward.model.curricula import load_curricula
from onward.model.eventlog import Priority
from onward.model.perinatal_screening import SCREEN_POINTS, score_epds


def test_reverse_scored_items_and_the_probable_depression_cut_off() -> None:
    # Boxes ticked from the top: items 1, 2, 4 score the box; 3 and 5-10 score 3 - box.
    calm = score_epds([0, 0, 3, 0, 3, 3, 3, 3, 3, 3])
    assert calm.total == 0 and not calm.positive and calm.referral_priority is None
    twelve = score_epds([3, 3, 0, 3, 3, 3, 3, 3, 3, 3])
    assert twelve.total == 12 and twelve.band == "possible depression" and not twelve.positive
    thirteen = score_epds([3, 3, 0, 3, 2, 3, 3, 3, 3, 3])
    assert thirteen.total == 13 and thirteen.probable_depression and thirteen.positive
    assert thirteen.referral_priority is Priority.ROUTINE


def test_any_answer_above_zero_on_item_10_is_positive_and_urgent_whatever_the_total() -> None:
    result = score_epds([0, 0, 3, 0, 3, 3, 3, 3, 3, 2])
    assert result.total == 1 and result.self_harm and result.positive
    assert result.referral_priority is Priority.URGENT
    assert "item 10 scored 1" in result.summary()


def test_a_bad_form_is_refused() -> None:
    with pytest.raises(ValidationError, match="10 items"):
        score_epds([0, 1])
    with pytest.raises(ValidationError, match="item 3"):
        score_epds([0, 0, 4, 0, 0, 0, 0, 0, 0, 0])


def test_set_points_are_lessons_of_both_perinatal_tracks() -> None:
    curricula = load_curricula()
    tracks = {curricula.lesson(lesson_id).track.value for lesson_id in SCREEN_POINTS}
    assert tracks == {"prenatal", "postpartum"}
