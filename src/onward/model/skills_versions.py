"""A site's own copy of a lesson: the fields it may change, the checks an edit must pass, and the diff.

A site may reword a lesson for its people (its words, its examples, its materials, its timings) but not
what makes the lesson the same lesson for delivery logs and coverage: its id, track, grade or week,
and skill stay as shipped, and so do the sources it cites. An edit is checked by the same rules as the
shipped files (`onward.model.curricula.parse_lesson`: minutes in the band, steps adding up, taught words
used) and by the readability check of its band, before a curriculum lead may approve it
(docs/skills.md, "Local review"). Changes are shown line by line with Python's `difflib`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from onward.errors import ValidationError
from onward.model.curricula import Curricula, CurriculumError, parse_lesson
from onward.model.skills import Lesson

#: The fields a site may change, in the order pages and diffs show them.
EDITABLE: Final = (
    "title",
    "minutes",
    "objectives",
    "materials",
    "steps",
    "practice_at_home",
    "adaptations",
    "text",
    "words_taught",
)


def lesson_content(lesson: Lesson) -> dict[str, Any]:
    """The editable fields of a lesson as plain data (what a version stores as JSON)."""
    return {
        "title": lesson.title,
        "minutes": lesson.minutes,
        "objectives": list(lesson.objectives),
        "materials": list(lesson.materials),
        "steps": [{"minutes": step.minutes, "do": step.do} for step in lesson.steps],
        "practice_at_home": lesson.practice_at_home,
        "adaptations": {
            "disability": lesson.adaptations.disability,
            "language": lesson.adaptations.language,
            "trauma_informed": lesson.adaptations.trauma_informed,
        },
        "text": lesson.text,
        "words_taught": list(lesson.words_taught),
    }


def apply_content(curricula: Curricula, shipped: Lesson, content: Mapping[str, Any]) -> Lesson:
    """The shipped lesson with a site's content, checked as a lesson of the shipped files is.

    Raises ValidationError naming the field (as the edit form names it) on the first problem.
    """
    unknown = sorted(set(content) - set(EDITABLE))
    if unknown:
        raise ValidationError(f"{unknown[0]!r} may not be changed by a site", column=unknown[0])
    entry: dict[str, Any] = {
        **lesson_content(shipped),
        **content,
        "id": shipped.id,
        "skill": shipped.skill.value,
        "evidence": [source.key for source in shipped.evidence],
    }
    if shipped.track.perinatal:
        entry["week"], entry["visit"] = shipped.week, shipped.visit
    try:
        return parse_lesson(
            entry, 1, shipped.track, shipped.grade, f"{shipped.curriculum_id}.toml", curricula.sources
        )
    except CurriculumError as error:
        field = (error.field or "lesson").split("[")[0]
        message = str(error).split(": ", 1)[-1]
        raise ValidationError(message, column=field) from None


def form_content(form: Mapping[str, str]) -> dict[str, Any]:
    """The edit form's fields as content: one objective, material or taught word per line, and one
    step per line written `minutes | what to do`. A malformed line is refused, naming its field."""
    content: dict[str, Any] = {}
    for field in ("title", "practice_at_home", "text"):
        content[field] = form.get(field, "").replace("\r\n", "\n")
    minutes = form.get("minutes", "").strip()
    if not minutes.isdigit():
        raise ValidationError(f"not a whole number: {minutes!r}", column="minutes")
    content["minutes"] = int(minutes)
    for field in ("objectives", "materials", "words_taught"):
        content[field] = [line.strip() for line in form.get(field, "").splitlines() if line.strip()]
    steps = []
    for number, line in enumerate((ln for ln in form.get("steps", "").splitlines() if ln.strip()), 1):
        head, sep, do = line.partition("|")
        if not sep or not head.strip().isdigit():
            raise ValidationError(
                f"step {number} must read `minutes | what to do` (got {line.strip()!r})", column="steps"
            )
        steps.append({"minutes": int(head.strip()), "do": do.strip()})
    content["steps"] = steps
    content["adaptations"] = {
        key: form.get(f"adaptations_{key}", "") for key in ("disability", "language", "trauma_informed")
    }
    return content


def content_form(content: Mapping[str, Any]) -> dict[str, str]:
    """The other way round: content as the edit form's text fields."""
    return {
        "title": str(content["title"]),
        "minutes": str(content["minutes"]),
        "objectives": "\n".join(content["objectives"]),
        "materials": "\n".join(content["materials"]),
        "steps": "\n".join(f"{s['minutes']} | {s['do']}" for s in content["steps"]),
        "practice_at_home": str(content["practice_at_home"]),
        "text": str(content["text"]),
        "words_taught": "\n".join(content["words_taught"]),
        **{f"adaptations_{k}": str(v) for k, v in content["adaptations"].items()},
    }


def lesson_lines(lesson: Lesson) -> list[str]:
    """The lesson as lines of text, the unit of the diff a reviewer reads."""
    lines = [f"Title: {lesson.title}", f"Minutes: {lesson.minutes}", "Objectives:"]
    lines += [f"- {o}" for o in lesson.objectives]
    lines += ["Materials:", *[f"- {m}" for m in lesson.materials]]
    lines += ["Steps:", *[f"{n}. ({s.minutes} min) {s.do}" for n, s in enumerate(lesson.steps, 1)]]
    lines += [f"Practice at home: {lesson.practice_at_home}"]
    lines += [
        f"Adaptations, disability: {lesson.adaptations.disability}",
        f"Adaptations, language: {lesson.adaptations.language}",
        f"Adaptations, trauma-informed: {lesson.adaptations.trauma_informed}",
        "Text:",
        *lesson.text.splitlines(),
        f"Words taught: {', '.join(lesson.words_taught)}",
    ]
    return lines


DiffKind = Literal["context", "added", "removed", "hunk"]


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: DiffKind
    text: str


def lesson_diff(before: Lesson, after: Lesson, *, context: int = 2) -> list[DiffLine]:
    """What changed from `before` to `after`, as a unified diff (difflib) of their lines."""
    out = []
    raw = difflib.unified_diff(lesson_lines(before), lesson_lines(after), lineterm="", n=context)
    for line in raw:
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            out.append(DiffLine("hunk", line))
        elif line.startswith("+"):
            out.append(DiffLine("added", line[1:]))
        elif line.startswith("-"):
            out.append(DiffLine("removed", line[1:]))
        else:
            out.append(DiffLine("context", line[1:]))
    return out
