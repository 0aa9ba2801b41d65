"""Load and check the skills curricula shipped as TOML package data (src/onward/model/curricula/).

One file per curriculum (`prenatal.toml`, `postpartum.toml`, `grade-k.toml` … `grade-12.toml`) and
one `sources.toml` of the public sources lessons cite. A malformed file is refused as a whole, with
an error naming the file, the lesson id and the field, so a bad edit never half-loads. The rules are
documented in docs/skills.md ("The data files").
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from onward.errors import NotFoundError, OnwardError, ValidationError
from onward.model.skills import (
    GRADES,
    Adaptations,
    Curriculum,
    Grade,
    Lesson,
    Skill,
    Source,
    Step,
    Track,
    curriculum_id,
    grade_rank,
    parse_grade,
)

DATA_PACKAGE = "onward.model"
DATA_FOLDER = "curricula"
SOURCES_FILE = "sources.toml"

PRENATAL_WEEKS = (10, 41)
"""Gestational weeks a prenatal lesson may be set at: the track runs from about 12 weeks to birth."""
POSTPARTUM_WEEKS = (0, 52)
"""Weeks after birth a postpartum lesson may be set at: birth to 12 months."""


def allowed_minutes(track: Track, grade: Grade | None) -> tuple[int, int]:
    """Shortest and longest lesson, in minutes (docs/skills.md, "Lesson length").

    Perinatal lessons fit a 10-15 minute slot in a routine visit. School lessons fit
    one class period: short for K-2, up to a 50-55 minute period in grades 6-12.
    """
    if track.perinatal:
        return (10, 15)
    assert grade is not None
    rank = grade_rank(grade)
    if rank <= 2:
        return (15, 30)
    if rank <= 5:
        return (25, 45)
    return (35, 55)


class CurriculumError(ValidationError):
    """A curriculum file breaks the data contract; names the file, the lesson (or source) and the field."""

    def __init__(
        self,
        message: str,
        *,
        file: str,
        lesson: str | None = None,
        field: str | None = None,
        kind: str = "lesson",
    ) -> None:
        self.lesson, self.field = lesson, field
        where = ", ".join(
            part
            for part in (
                f"curricula/{file}",
                f"{kind} {lesson}" if lesson else "",
                f"field {field!r}" if field else "",
            )
            if part
        )
        OnwardError.__init__(self, f"{where}: {message}")
        self.file, self.row, self.column, self.expected = file, None, field, None


_CURRICULUM_KEYS = {"track", "grade", "title", "summary", "version"}
_LESSON_REQUIRED = {
    "id",
    "skill",
    "title",
    "objectives",
    "minutes",
    "materials",
    "steps",
    "practice_at_home",
    "adaptations",
    "text",
    "words_taught",
    "evidence",
}
_PERINATAL_ONLY = {"week", "visit"}
_SOURCE_KEYS = {"citation", "url", "finding"}
_ADAPTATION_KEYS = ("disability", "language", "trauma_informed")
_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class _Where:
    """Where a value sits, so every complaint names it the same way."""

    file: str
    lesson: str | None = None
    kind: str = "lesson"

    def error(self, field: str | None, message: str) -> CurriculumError:
        return CurriculumError(message, file=self.file, lesson=self.lesson, field=field, kind=self.kind)

    def text(
        self, table: Mapping[str, Any], field: str, *, max_length: int | None = None, lines: bool = False
    ) -> str:
        """Non-empty text. Prose fields are one paragraph: line breaks in the file are only wrapping.

        With `lines`, the text keeps its shape: paragraphs apart by a blank line, and a single line
        break where the author meant one (a list item, a step), so pages can show it as written.
        """
        value = table.get(field)
        if not isinstance(value, str) or not value.strip():
            raise self.error(field, f"must be non-empty text (got {value!r})")
        if lines:
            paragraphs = (p.strip() for p in re.split(r"\n\s*\n", value.strip()))
            value = "\n\n".join("\n".join(" ".join(ln.split()) for ln in p.splitlines()) for p in paragraphs)
        else:
            value = " ".join(value.split())
        if max_length is not None and len(value) > max_length:
            raise self.error(field, f"must be at most {max_length} characters (got {len(value)})")
        return value

    def texts(self, table: Mapping[str, Any], field: str, *, least: int, most: int) -> tuple[str, ...]:
        value = table.get(field)
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error(field, f"must be a list of non-empty texts (got {value!r})")
        if not least <= len(value) <= most:
            raise self.error(field, f"must hold {least} to {most} entries (got {len(value)})")
        return tuple(" ".join(v.split()) for v in value)

    def whole(self, table: Mapping[str, Any], field: str, low: int, high: int) -> int:
        value = table.get(field)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.error(field, f"must be a whole number from {low} to {high} (got {value!r})")
        return value

    def keys(
        self, table: Mapping[str, Any], required: AbstractSet[str], optional: AbstractSet[str] = frozenset()
    ) -> None:
        missing = sorted(required - table.keys())
        if missing:
            raise self.error(missing[0], "is missing")
        unknown = sorted(table.keys() - required - optional)
        if unknown:
            raise self.error(unknown[0], "is not a field this file may have (misspelt?)")


def parse_sources(text: str, *, file: str = SOURCES_FILE) -> dict[str, Source]:
    """The public sources lessons may cite, keyed by a short stable key."""
    where = _Where(file)
    data = _toml(text, where)
    sources: dict[str, Source] = {}
    for key, entry in data.items():
        entry_where = _Where(file, key, kind="source")
        if not _KEY.match(key):
            raise entry_where.error(None, "a source key is lower-case words joined by hyphens")
        if not isinstance(entry, dict):
            raise entry_where.error(None, "must be a table with citation, url and finding")
        entry_where.keys(entry, _SOURCE_KEYS)
        url = entry_where.text(entry, "url")
        if not url.startswith("https://"):
            raise entry_where.error("url", f"must be an https:// address (got {url!r})")
        sources[key] = Source(
            key=key,
            citation=entry_where.text(entry, "citation"),
            url=url,
            finding=entry_where.text(entry, "finding"),
        )
    return sources


def parse_curriculum(text: str, *, file: str, sources: Mapping[str, Source]) -> Curriculum:
    """One curriculum file, checked field by field; raises CurriculumError on the first problem."""
    where = _Where(file)
    data = _toml(text, where)
    where.keys(data, {"curriculum", "lessons"})
    header = data["curriculum"]
    if not isinstance(header, dict):
        raise where.error("curriculum", "must be a table")
    head = _Where(file, None)
    head.keys(header, _CURRICULUM_KEYS - {"grade"}, {"grade"})
    try:
        track = Track(header["track"])
    except ValueError:
        raise head.error("track", f"must be one of {', '.join(t.value for t in Track)}") from None
    grade: Grade | None = None
    if track is Track.SCHOOL:
        grade = parse_grade(header.get("grade")) if isinstance(header.get("grade"), str | int) else None
        if grade is None:
            raise head.error(
                "grade", f'must be "K" or 1-12 for a school curriculum (got {header.get("grade")!r})'
            )
    elif "grade" in header:
        raise head.error("grade", "only school curricula have a grade")
    expected_file = f"{curriculum_id(track, grade)}.toml"
    if file != expected_file:
        raise head.error(None, f"this curriculum must live in {expected_file}")
    lessons_data = data["lessons"]
    if not isinstance(lessons_data, list) or not lessons_data:
        raise where.error("lessons", "must be a non-empty list of [[lessons]] tables")
    lessons = tuple(_lesson(entry, i, track, grade, file, sources) for i, entry in enumerate(lessons_data, 1))
    seen: set[str] = set()
    for lesson in lessons:
        if lesson.id in seen:
            raise _Where(file, lesson.id).error("id", "is used twice")
        seen.add(lesson.id)
    if track.perinatal:
        weeks = [lesson.week or 0 for lesson in lessons]
        for before, lesson in zip(weeks, lessons[1:], strict=False):
            if (lesson.week or 0) < before:
                raise _Where(file, lesson.id).error("week", "lessons must be in the order of their weeks")
    return Curriculum(
        id=curriculum_id(track, grade),
        track=track,
        grade=grade,
        title=head.text(header, "title", max_length=100),
        summary=head.text(header, "summary"),
        version=head.whole(header, "version", 1, 10_000),
        lessons=lessons,
    )


def _lesson(
    entry: object, position: int, track: Track, grade: Grade | None, file: str, sources: Mapping[str, Source]
) -> Lesson:
    if not isinstance(entry, dict):
        raise _Where(file, f"#{position}").error(None, "must be a [[lessons]] table")
    raw_id = entry.get("id")
    where = _Where(file, raw_id if isinstance(raw_id, str) and raw_id else f"#{position}")
    where.keys(entry, _LESSON_REQUIRED | (_PERINATAL_ONLY if track.perinatal else set()))
    try:
        skill = Skill(entry["skill"])
    except ValueError:
        raise where.error("skill", f"must be one of {', '.join(s.value for s in Skill)}") from None
    lesson_id = where.text(entry, "id")
    pattern = rf"^{re.escape(curriculum_id(track, grade))}-{skill.code}-[1-9][0-9]*$"
    if not re.match(pattern, lesson_id):
        raise where.error(
            "id", f"must read {curriculum_id(track, grade)}-{skill.code}-N for a {skill.value} lesson here"
        )
    low, high = allowed_minutes(track, grade)
    minutes = where.whole(entry, "minutes", low, high)
    steps = _steps(entry.get("steps"), where)
    if sum(step.minutes for step in steps) != minutes:
        raise where.error("steps", f"step minutes add up to {sum(s.minutes for s in steps)}, not {minutes}")
    adaptations = entry["adaptations"]
    if not isinstance(adaptations, dict):
        raise where.error("adaptations", "must be a table with disability, language and trauma_informed")
    where.keys(adaptations, set(_ADAPTATION_KEYS))
    text = where.text(entry, "text", lines=True)
    words = where.texts(entry, "words_taught", least=0, most=12)
    for word in words:
        if word.lower() not in text.lower():
            raise where.error("words_taught", f"{word!r} is taught but never used in the text")
    keys = where.texts(entry, "evidence", least=1, most=6)
    unknown = [key for key in keys if key not in sources]
    if unknown:
        raise where.error("evidence", f"unknown source {unknown[0]!r} (add it to curricula/{SOURCES_FILE})")
    week = visit = None
    if track.perinatal:
        week = where.whole(entry, "week", *(PRENATAL_WEEKS if track is Track.PRENATAL else POSTPARTUM_WEEKS))
        visit = where.text(entry, "visit", max_length=160)
    return Lesson(
        id=lesson_id,
        track=track,
        grade=grade,
        week=week,
        skill=skill,
        title=where.text(entry, "title", max_length=80),
        objectives=where.texts(entry, "objectives", least=1, most=4),
        minutes=minutes,
        materials=where.texts(entry, "materials", least=0, most=10),
        steps=steps,
        practice_at_home=where.text(entry, "practice_at_home"),
        adaptations=Adaptations(*(where.text(adaptations, key) for key in _ADAPTATION_KEYS)),
        text=text,
        words_taught=words,
        evidence=tuple(sources[key] for key in keys),
        visit=visit,
    )


def _steps(value: object, where: _Where) -> tuple[Step, ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise where.error("steps", "must be at least two [[lessons.steps]] tables")
    steps = []
    for number, step in enumerate(value, 1):
        if not isinstance(step, dict) or set(step) != {"minutes", "do"}:
            raise where.error(f"steps[{number}]", "must have exactly `minutes` and `do`")
        steps.append(Step(minutes=where.whole(step, "minutes", 1, 30), do=where.text(step, "do")))
    return tuple(steps)


def _toml(text: str, where: _Where) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise where.error(None, f"not valid TOML: {error}") from None


@dataclass(frozen=True)
class Curricula:
    """Every shipped curriculum, in teaching order: prenatal, postpartum, then grades K to 12."""

    curricula: tuple[Curriculum, ...]
    sources: Mapping[str, Source]

    def lessons(self, *, track: Track | None = None, grade: Grade | None = None) -> list[Lesson]:
        """Lessons of a track and/or grade (a grade implies the school track)."""
        if grade is not None and track not in (None, Track.SCHOOL):
            raise ValidationError(f"--grade applies to the school track, not {track}", column="--grade")
        return [
            lesson
            for curriculum in self.curricula
            if (track is None or curriculum.track is track) and (grade is None or curriculum.grade == grade)
            for lesson in curriculum.lessons
        ]

    def lesson(self, lesson_id: str) -> Lesson:
        for curriculum in self.curricula:
            for lesson in curriculum.lessons:
                if lesson.id == lesson_id:
                    return lesson
        raise NotFoundError(f"no lesson with id {lesson_id!r} (see `onward curricula list`)")

    def curriculum(self, track: Track, grade: Grade | None = None) -> Curriculum:
        wanted = curriculum_id(track, grade)
        for curriculum in self.curricula:
            if curriculum.id == wanted:
                return curriculum
        raise NotFoundError(f"no curriculum {wanted!r}")


def expected_curricula() -> list[str]:
    """The ids of the curricula Onward ships: both perinatal tracks and one per grade K-12."""
    return [Track.PRENATAL.value, Track.POSTPARTUM.value] + [curriculum_id(Track.SCHOOL, g) for g in GRADES]


def build_curricula(files: Mapping[str, str]) -> Curricula:
    """Check a whole set of files (name -> TOML text) and put them in teaching order.

    Lesson ids are unique across files without a further check: each id starts with its
    curriculum's id, and each curriculum must live in the one file named after it.
    """
    if SOURCES_FILE not in files:
        raise CurriculumError("is missing", file=SOURCES_FILE)
    sources = parse_sources(files[SOURCES_FILE])
    parsed = [
        parse_curriculum(text, file=name, sources=sources)
        for name, text in files.items()
        if name != SOURCES_FILE
    ]
    order = {cid: i for i, cid in enumerate(expected_curricula())}
    parsed.sort(key=lambda c: order.get(c.id, len(order)))
    return Curricula(curricula=tuple(parsed), sources=sources)


def _package_files() -> Iterable[tuple[str, str]]:
    folder = resources.files(DATA_PACKAGE).joinpath(DATA_FOLDER)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            yield entry.name, entry.read_text(encoding="utf-8")


@cache
def load_curricula() -> Curricula:
    """The curricula shipped with Onward, checked once per process."""
    return build_curricula(dict(_package_files()))
