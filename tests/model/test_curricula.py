"""The shipped curricula cover every grade and track with all five skills, and bad files are refused."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from onward.errors import NotFoundError, ValidationError
from onward.model.curricula import (
    SOURCES_FILE,
    CurriculumError,
    allowed_minutes,
    build_curricula,
    expected_curricula,
    load_curricula,
    parse_curriculum,
    parse_sources,
)
from onward.model.skills import GRADES, Skill, Track


def test_every_grade_and_both_perinatal_tracks_teach_all_five_skills() -> None:
    curricula = load_curricula()
    assert [c.id for c in curricula.curricula] == expected_curricula()
    assert len(expected_curricula()) == 15  # prenatal, postpartum, K and 1-12
    for curriculum in curricula.curricula:
        missing = set(Skill) - curriculum.skills()
        assert not missing, f"{curriculum.id} lacks {sorted(missing)}"


def test_school_grades_are_k_to_12_and_perinatal_tracks_have_no_grade() -> None:
    curricula = load_curricula()
    assert [c.grade for c in curricula.curricula if c.track is Track.SCHOOL] == list(GRADES)
    for lesson in curricula.lessons(track=Track.SCHOOL):
        assert lesson.grade is not None and lesson.week is None and lesson.visit is None
    for track in (Track.PRENATAL, Track.POSTPARTUM):
        for lesson in curricula.lessons(track=track):
            assert lesson.grade is None and lesson.week is not None and lesson.visit


def test_perinatal_lessons_fit_a_10_to_15_minute_slot_and_school_lessons_a_class_period() -> None:
    curricula = load_curricula()
    for lesson in curricula.lessons():
        low, high = allowed_minutes(lesson.track, lesson.grade)
        assert low <= lesson.minutes <= high, lesson.id
        assert sum(step.minutes for step in lesson.steps) == lesson.minutes, lesson.id
        if lesson.track.perinatal:
            assert 10 <= lesson.minutes <= 15, lesson.id


def test_perinatal_weeks_run_from_about_12_weeks_to_birth_and_to_the_first_birthday() -> None:
    curricula = load_curricula()
    prenatal = [lesson.week or 0 for lesson in curricula.lessons(track=Track.PRENATAL)]
    postpartum = [lesson.week or 0 for lesson in curricula.lessons(track=Track.POSTPARTUM)]
    assert prenatal == sorted(prenatal) and 10 <= prenatal[0] <= 14 and prenatal[-1] >= 36
    assert postpartum == sorted(postpartum) and postpartum[0] <= 2 and postpartum[-1] >= 48


def test_each_perinatal_track_comes_back_to_every_skill() -> None:
    curricula = load_curricula()
    for track in (Track.PRENATAL, Track.POSTPARTUM):
        counts = Counter(lesson.skill for lesson in curricula.lessons(track=track))
        assert set(counts) == set(Skill) and min(counts.values()) >= 2, track


def test_ids_are_unique_and_say_where_the_lesson_belongs() -> None:
    lessons = load_curricula().lessons()
    counts = Counter(lesson.id for lesson in lessons)
    assert max(counts.values()) == 1
    for lesson in lessons:
        assert lesson.id.startswith(f"{lesson.curriculum_id}-{lesson.skill.code}-")


def test_every_lesson_is_complete_and_cites_evidence() -> None:
    for lesson in load_curricula().lessons():
        assert lesson.objectives and lesson.steps and lesson.practice_at_home and lesson.text, lesson.id
        adaptations = lesson.adaptations
        assert adaptations.disability and adaptations.language and adaptations.trauma_informed, lesson.id
        assert lesson.evidence and all(source.url.startswith("https://") for source in lesson.evidence)


def test_readers_follow_the_grade() -> None:
    curricula = load_curricula()
    assert {lesson.reader for lesson in curricula.lessons(grade="K")} == {"teacher"}
    assert {lesson.reader for lesson in curricula.lessons(grade=2)} == {"teacher"}
    assert {lesson.reader for lesson in curricula.lessons(grade=3)} == {"student"}
    assert {lesson.reader for lesson in curricula.lessons(track=Track.PRENATAL)} == {"parent"}


def test_lookups() -> None:
    curricula = load_curricula()
    lesson = curricula.lessons(grade=5)[0]
    assert curricula.lesson(lesson.id) is lesson
    assert curricula.curriculum(Track.SCHOOL, 5).lessons[0] is lesson
    with pytest.raises(NotFoundError, match="no lesson with id 'grade-5-zz-9'"):
        curricula.lesson("grade-5-zz-9")
    with pytest.raises(ValidationError, match="--grade applies to the school track"):
        curricula.lessons(track=Track.PRENATAL, grade=3)


def test_docs_list_every_lesson_and_every_source() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "skills.md").read_text(encoding="utf-8")
    curricula = load_curricula()
    missing = [lesson.id for lesson in curricula.lessons() if f"`{lesson.id}`" not in docs]
    missing += [key for key in curricula.sources if f"`{key}`" not in docs]
    assert not missing, f"docs/skills.md does not list: {missing}"


def test_a_lesson_serialises_to_json_with_its_text() -> None:
    lesson = load_curricula().lessons(track=Track.POSTPARTUM)[0]
    data = json.loads(json.dumps(lesson.as_dict()))
    assert data["text"] == lesson.text and data["reader"] == "parent"
    assert data["grade"] is None and data["week"] == lesson.week
    assert set(data["adaptations"]) == {"disability", "language", "trauma_informed"}
    assert data["evidence"][0]["url"].startswith("https://")


# --- malformed files -------------------------------------------------------------------------

SOURCES = parse_sources(
    '[a-source]\ncitation = "A. 2020."\nurl = "https://example.org/a"\nfinding = "Found."\n'
)

GOOD = """
[curriculum]
track = "school"
grade = 3
title = "Grade 3"
summary = "A test curriculum."
version = 1

[[lessons]]
id = "grade-3-er-1"
skill = "emotion_regulation"
title = "A lesson"
objectives = ["Learn a thing."]
minutes = 30
materials = ["Paper"]
practice_at_home = "Practise it."
text = "A calm breath helps. We breathe slowly."
words_taught = ["calm"]
evidence = ["a-source"]

[[lessons.steps]]
minutes = 10
do = "Explain."

[[lessons.steps]]
minutes = 20
do = "Practise."

[lessons.adaptations]
disability = "Offer another way."
language = "Use home languages."
trauma_informed = "Offer choice."
"""


def test_prose_fields_are_one_paragraph_and_the_text_keeps_its_paragraphs_and_lines() -> None:
    wrapped = GOOD.replace(
        'practice_at_home = "Practise it."', 'practice_at_home = """Practise\n  it  daily."""'
    )
    wrapped = wrapped.replace(
        'text = "A calm breath helps. We breathe slowly."',
        'text = """A calm breath   helps.\n\n\nTry it:\nIn slowly.  \nOut slowly.\n"""',
    )
    lesson = parse_curriculum(wrapped, file="grade-3.toml", sources=SOURCES).lessons[0]
    assert lesson.practice_at_home == "Practise it daily."
    assert lesson.text == "A calm breath helps.\n\nTry it:\nIn slowly.\nOut slowly."


def test_the_fixture_itself_is_valid() -> None:
    curriculum = parse_curriculum(GOOD, file="grade-3.toml", sources=SOURCES)
    assert curriculum.lessons[0].evidence[0].key == "a-source"


@pytest.mark.parametrize(
    ("change", "lesson", "field", "message"),
    [
        (("minutes = 30", 'minutes = "30"'), "grade-3-er-1", "minutes", "whole number from 25 to 45"),
        (("minutes = 30", "minutes = 90"), "grade-3-er-1", "minutes", "whole number"),
        (
            ('skill = "emotion_regulation"', 'skill = "mindfulness"'),
            "grade-3-er-1",
            "skill",
            "must be one of",
        ),
        (('id = "grade-3-er-1"', 'id = "grade-3-dt-1"'), "grade-3-dt-1", "id", "grade-3-er-N"),
        (
            ('practice_at_home = "Practise it."', 'practise_at_home = "x"'),
            "grade-3-er-1",
            "practice_at_home",
            "missing",
        ),
        (('title = "A lesson"', 'title = "A lesson"\ncolour = "red"'), "grade-3-er-1", "colour", "misspelt"),
        (
            ('evidence = ["a-source"]', 'evidence = ["nowhere-2020"]'),
            "grade-3-er-1",
            "evidence",
            "nowhere-2020",
        ),
        (
            ('minutes = 20\ndo = "Practise."', 'minutes = 15\ndo = "Practise."'),
            "grade-3-er-1",
            "steps",
            "add up to 25",
        ),
        (('words_taught = ["calm"]', 'words_taught = ["serene"]'), "grade-3-er-1", "words_taught", "serene"),
        (('title = "A lesson"', 'title = "A lesson"\nweek = 3'), "grade-3-er-1", "week", "misspelt"),
        (('objectives = ["Learn a thing."]', "objectives = []"), "grade-3-er-1", "objectives", "1 to 4"),
        (('language = "Use home languages."', ""), "grade-3-er-1", "language", "missing"),
        (
            ('text = "A calm breath helps. We breathe slowly."', 'text = "  "'),
            "grade-3-er-1",
            "text",
            "non-empty",
        ),
    ],
)
def test_a_malformed_lesson_is_refused_naming_file_lesson_and_field(
    change: tuple[str, str], lesson: str, field: str, message: str
) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(CurriculumError) as raised:
        parse_curriculum(GOOD.replace(old, new, 1), file="grade-3.toml", sources=SOURCES)
    error = raised.value
    assert (error.file, error.lesson, error.field) == ("grade-3.toml", lesson, field)
    assert str(error).startswith(f"curricula/grade-3.toml, lesson {lesson}, field {field!r}: ")
    assert message in str(error)
    assert isinstance(error, ValidationError)  # the CLI turns it into one red line and exit 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("grade = 3", "grade = 13"), "grade", '"K" or 1-12'),
        (('track = "school"', 'track = "college"'), "track", "must be one of"),
        (("version = 1", "version = 0"), "version", "whole number"),
        (("[curriculum]", '[curriculum]\nowner = "me"'), "owner", "misspelt"),
    ],
)
def test_a_malformed_header_is_refused_naming_the_field(
    change: tuple[str, str], field: str, message: str
) -> None:
    with pytest.raises(CurriculumError) as raised:
        parse_curriculum(GOOD.replace(*change, 1), file="grade-3.toml", sources=SOURCES)
    assert raised.value.field == field and raised.value.lesson is None
    assert message in str(raised.value)


def test_a_file_must_be_named_after_its_curriculum() -> None:
    with pytest.raises(CurriculumError, match="must live in grade-3.toml"):
        parse_curriculum(GOOD, file="grade-4.toml", sources=SOURCES)


def test_invalid_toml_names_the_file() -> None:
    with pytest.raises(CurriculumError, match=r"^curricula/grade-3.toml: not valid TOML"):
        parse_curriculum(GOOD + "\n[[lessons\n", file="grade-3.toml", sources=SOURCES)


def test_perinatal_lessons_need_a_week_and_a_visit_and_fit_15_minutes() -> None:
    prenatal = (
        GOOD.replace('track = "school"\ngrade = 3', 'track = "prenatal"')
        .replace("grade-3-er-1", "prenatal-er-1")
        .replace("minutes = 30", "minutes = 12")
        .replace("minutes = 10\n", "minutes = 4\n")
        .replace("minutes = 20\n", "minutes = 8\n")
    )
    with pytest.raises(CurriculumError) as raised:
        parse_curriculum(prenatal, file="prenatal.toml", sources=SOURCES)
    assert (raised.value.lesson, raised.value.field) == ("prenatal-er-1", "visit")
    complete = prenatal.replace(
        'skill = "emotion_regulation"', 'skill = "emotion_regulation"\nweek = 12\nvisit = "Visit"'
    )
    assert parse_curriculum(complete, file="prenatal.toml", sources=SOURCES).lessons[0].week == 12
    too_long = complete.replace("minutes = 12", "minutes = 20").replace("minutes = 8\n", "minutes = 16\n")
    with pytest.raises(CurriculumError, match="field 'minutes': must be a whole number from 10 to 15"):
        parse_curriculum(too_long, file="prenatal.toml", sources=SOURCES)
    too_early = complete.replace("week = 12", "week = 2")
    with pytest.raises(CurriculumError, match="field 'week'"):
        parse_curriculum(too_early, file="prenatal.toml", sources=SOURCES)


def test_an_id_used_twice_is_refused() -> None:
    lesson = GOOD[GOOD.index("[[lessons]]") :]
    with pytest.raises(CurriculumError, match="lesson grade-3-er-1, field 'id': is used twice"):
        parse_curriculum(GOOD + lesson, file="grade-3.toml", sources=SOURCES)


def test_the_sources_file_is_required() -> None:
    with pytest.raises(CurriculumError, match=f"curricula/{SOURCES_FILE}: is missing"):
        build_curricula({"grade-3.toml": GOOD})


def test_a_bad_source_is_refused_naming_its_key() -> None:
    with pytest.raises(CurriculumError, match="source a-source, field 'url': must be an https:// address"):
        parse_sources('[a-source]\ncitation = "A."\nurl = "http://example.org"\nfinding = "F."\n')
