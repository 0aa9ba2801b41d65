"""Skills curricula as plain data: tracks, grades, the five skills, lessons and their sources.

A lesson is the unit a teacher or perinatal nurse delivers in one sitting. Its id never changes
meaning once published, so delivery logs, local copies and reviews can point at it for years
(docs/skills.md, "Lesson ids"). Nothing here reads files; `onward.model.curricula` loads the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Skill(StrEnum):
    """The five skills every grade and both perinatal tracks teach (docs/skills.md)."""

    EMOTION_REGULATION = "emotion_regulation"
    DISTRESS_TOLERANCE = "distress_tolerance"
    EFFECTIVE_COMMUNICATION = "effective_communication"
    RELATING_TO_OTHERS = "relating_to_others"
    SELF_REFLECTION = "self_reflection"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def code(self) -> str:
        """Two letters used inside lesson ids, e.g. `er` in `grade-3-er-1`."""
        return _SKILL_CODES[self]


_SKILL_CODES = {
    Skill.EMOTION_REGULATION: "er",
    Skill.DISTRESS_TOLERANCE: "dt",
    Skill.EFFECTIVE_COMMUNICATION: "ec",
    Skill.RELATING_TO_OTHERS: "ro",
    Skill.SELF_REFLECTION: "sr",
}


class Track(StrEnum):
    """Who a curriculum is for: expectant parents, new parents, or a school grade."""

    PRENATAL = "prenatal"
    POSTPARTUM = "postpartum"
    SCHOOL = "school"

    @property
    def perinatal(self) -> bool:
        return self is not Track.SCHOOL


Grade = Literal["K", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
"""A school grade as schools write it: kindergarten is "K", then 1 to 12."""

GRADES: tuple[Grade, ...] = ("K", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)

Reader = Literal["teacher", "student", "parent"]
"""Who reads a lesson's text: the teacher aloud (K-2), the student (3-12) or the parent."""


def parse_grade(value: object) -> Grade | None:
    """A grade from user input ("K", "k", 3, "12"), or None when it is not a school grade."""
    text = str(value).strip().upper()
    if text == "K":
        return "K"
    if text.isdigit() and 1 <= int(text) <= 12:
        return GRADES[int(text)]  # GRADES[n] is grade n for 1-12
    return None


def grade_slug(grade: Grade) -> str:
    """The grade as it appears in ids and file names: `k`, `1` … `12`."""
    return "k" if grade == "K" else str(grade)


def grade_rank(grade: Grade) -> int:
    """Kindergarten is 0, grade 1 is 1: for sorting and for grade bands."""
    return GRADES.index(grade)


@dataclass(frozen=True, slots=True)
class Source:
    """A public source a lesson draws on: a trial, a review, a framework or a guideline."""

    key: str
    citation: str
    url: str
    finding: str  # what the source shows, in one or two plain sentences


@dataclass(frozen=True, slots=True)
class Step:
    """One timed part of a lesson, written for the person who delivers it."""

    minutes: int
    do: str


@dataclass(frozen=True, slots=True)
class Adaptations:
    """How to deliver the lesson well for more people (docs/skills.md, "Adaptations")."""

    disability: str
    language: str
    trauma_informed: str


@dataclass(frozen=True, slots=True)
class Lesson:
    """One lesson of one skill, ready to deliver and to log."""

    id: str
    track: Track
    grade: Grade | None  # school only
    week: int | None  # perinatal only: gestational week (prenatal) or weeks after birth (postpartum)
    skill: Skill
    title: str
    objectives: tuple[str, ...]
    minutes: int
    materials: tuple[str, ...]
    steps: tuple[Step, ...]
    practice_at_home: str
    adaptations: Adaptations
    text: str  # what the student or parent reads; for K-2, the script the teacher reads aloud
    words_taught: tuple[str, ...]  # new words the lesson teaches on purpose
    evidence: tuple[Source, ...]
    visit: str | None = None  # perinatal only: the routine visit the lesson fits into

    @property
    def reader(self) -> Reader:
        if self.track.perinatal:
            return "parent"
        return "teacher" if self.grade is not None and grade_rank(self.grade) <= 2 else "student"

    @property
    def curriculum_id(self) -> str:
        return curriculum_id(self.track, self.grade)

    def summary(self) -> dict[str, object]:
        """The listing shape of `onward curricula list --json`."""
        return {
            "id": self.id,
            "track": self.track.value,
            "grade": self.grade,
            "week": self.week,
            "skill": self.skill.value,
            "title": self.title,
            "minutes": self.minutes,
        }

    def as_dict(self) -> dict[str, object]:
        """The whole lesson, as `onward curricula show ID --json` prints it."""
        return {
            **self.summary(),
            "curriculum": self.curriculum_id,
            "visit": self.visit,
            "reader": self.reader,
            "objectives": list(self.objectives),
            "materials": list(self.materials),
            "steps": [{"minutes": step.minutes, "do": step.do} for step in self.steps],
            "practice_at_home": self.practice_at_home,
            "adaptations": {
                "disability": self.adaptations.disability,
                "language": self.adaptations.language,
                "trauma_informed": self.adaptations.trauma_informed,
            },
            "text": self.text,
            "words_taught": list(self.words_taught),
            "evidence": [
                {"key": s.key, "citation": s.citation, "url": s.url, "finding": s.finding}
                for s in self.evidence
            ],
        }


@dataclass(frozen=True, slots=True)
class Curriculum:
    """All lessons of one track, or of one school grade, in teaching order."""

    id: str
    track: Track
    grade: Grade | None
    title: str
    summary: str
    version: int  # raised whenever the project changes a lesson's words; site copies start from one
    lessons: tuple[Lesson, ...]

    def skills(self) -> set[Skill]:
        return {lesson.skill for lesson in self.lessons}


def curriculum_id(track: Track, grade: Grade | None) -> str:
    """`prenatal`, `postpartum`, or `grade-k` … `grade-12`."""
    if track is Track.SCHOOL:
        if grade is None:
            raise ValueError("a school curriculum needs a grade")
        return f"grade-{grade_slug(grade)}"
    return track.value
