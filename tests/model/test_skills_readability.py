"""Every lesson's text reads at its band's level; the measure itself tells hard text from easy text."""

from __future__ import annotations

from dataclasses import replace

import pytest

from onward.model.curricula import load_curricula
from onward.model.skills import Track
from onward.model.skills_readability import (
    BANDS,
    Readability,
    band_of,
    check,
    grade_ceiling,
    unfamiliar_words,
)


@pytest.fixture(scope="module")
def results() -> dict[str, Readability]:
    return {lesson.id: check(lesson) for lesson in load_curricula().lessons()}


def test_every_lesson_passes_its_band(results: dict[str, Readability]) -> None:
    failures = {lesson_id: r.problems for lesson_id, r in results.items() if not r.passed}
    assert not failures
    assert {r.band for r in results.values()} == set(BANDS)


def test_student_texts_read_at_or_below_their_own_grade(results: dict[str, Readability]) -> None:
    curricula = load_curricula()
    assert grade_ceiling(curricula.lessons(grade=3)[0]) == 3
    assert grade_ceiling(curricula.lessons(grade=7)[0]) == 7
    assert grade_ceiling(curricula.lessons(grade=12)[0]) == 10
    assert grade_ceiling(curricula.lessons(grade="K")[0]) is None
    assert grade_ceiling(curricula.lessons(track=Track.PRENATAL)[0]) == 6
    for lesson in curricula.lessons(track=Track.SCHOOL):
        ceiling = grade_ceiling(lesson)
        if ceiling is not None:
            assert results[lesson.id].flesch_kincaid <= ceiling, lesson.id


def test_each_band_is_checked_with_its_own_measure() -> None:
    curricula = load_curricula()
    assert band_of(curricula.lessons(grade="K")[0]).measure == "word_list"
    assert band_of(curricula.lessons(grade=2)[0]).name == "K-2"
    assert band_of(curricula.lessons(grade=3)[0]).name == "3-5"
    assert band_of(curricula.lessons(grade=8)[0]).name == "6-8"
    assert band_of(curricula.lessons(grade=9)[0]).name == "9-12"
    assert band_of(curricula.lessons(track=Track.POSTPARTUM)[0]).name == "perinatal"
    assert all(band.source for band in BANDS.values())


def test_inflections_of_familiar_words_and_taught_words_are_not_counted() -> None:
    text = "The friends helped. She cried and kept trying. Photosynthesis is complicated."
    assert unfamiliar_words(text) == ["photosynthesis", "complicated"]
    assert unfamiliar_words(text, taught=["photosynthesis"]) == ["complicated"]


SCHOLARLY = (
    "Emotional regulation encompasses physiological, cognitive, and behavioural processes through which "
    "individuals influence the occurrence, intensity, duration, and expression of affective experiences. "
) * 8


def test_hard_text_fails_the_k2_and_grade_3_to_5_bands() -> None:
    curricula = load_curricula()
    for lesson in (curricula.lessons(grade="K")[0], curricula.lessons(grade=4)[0]):
        result = check(replace(lesson, text=SCHOLARLY))
        assert not result.passed, lesson.id
    k_result = check(replace(curricula.lessons(grade="K")[0], text=SCHOLARLY))
    assert any("unfamiliar words" in problem for problem in k_result.problems)
    assert any("words per sentence" in problem for problem in k_result.problems)


def test_parent_text_above_grade_6_fails() -> None:
    lesson = load_curricula().lessons(track=Track.PRENATAL)[0]
    result = check(replace(lesson, text=SCHOLARLY))
    assert result.problems == (f"Flesch-Kincaid grade {result.flesch_kincaid:.1f} above 6",)


def test_a_grade_3_text_may_not_read_like_grade_5() -> None:
    lesson = load_curricula().lessons(grade=3)[0]
    fifth_grade_text = load_curricula().lessons(grade=5)[0].text
    result = check(replace(lesson, text=fifth_grade_text))
    assert result.flesch_kincaid > 3 and not result.passed


def test_text_under_100_words_is_too_short_to_measure() -> None:
    lesson = load_curricula().lessons(grade=10)[0]
    result = check(replace(lesson, text="Breathe in. Breathe out. You can do this."))
    assert not result.passed and "too short to measure" in result.problems[0]
