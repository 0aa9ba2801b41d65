"""CLI `onward curricula list|show|check`: the skills curricula shipped with Onward (docs/skills.md)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

from onward.cli._app import app
from onward.errors import ValidationError
from onward.model.skills import Grade, Track, parse_grade

curricula_app = typer.Typer(
    name="curricula",
    help="Skills curricula (prenatal, postpartum, grades K-12): list lessons, show one, check readability.",
    no_args_is_help=True,
)
app.add_typer(curricula_app)

TrackOption = Annotated[
    str | None,
    typer.Option("--track", help="prenatal, postpartum or school.", show_default=False),
]
GradeOption = Annotated[
    str | None,
    typer.Option("--grade", help="A school grade: K or 1-12 (implies --track school).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _filters(track: str | None, grade: str | None) -> tuple[Track | None, Grade | None]:
    chosen_track = None
    if track is not None:
        try:
            chosen_track = Track(track.strip().lower())
        except ValueError:
            raise ValidationError(
                f"unknown track {track!r}", column="--track", expected="prenatal, postpartum or school"
            ) from None
    chosen_grade = None
    if grade is not None:
        chosen_grade = parse_grade(grade)
        if chosen_grade is None:
            raise ValidationError(f"unknown grade {grade!r}", column="--grade", expected="K or 1-12")
        if chosen_track is None:
            chosen_track = Track.SCHOOL
    return chosen_track, chosen_grade


@curricula_app.command("list")
def curricula_list(track: TrackOption = None, grade: GradeOption = None, as_json: JsonOption = False) -> None:
    """List lessons: id, track, grade (school) or week (perinatal), skill, title and minutes.

    \b
    Example:
      onward curricula list --track prenatal
      onward curricula list --grade K --json
    """
    from onward.model.curricula import load_curricula

    chosen_track, chosen_grade = _filters(track, grade)
    lessons = load_curricula().lessons(track=chosen_track, grade=chosen_grade)
    if as_json:
        typer.echo(json.dumps([lesson.summary() for lesson in lessons], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(lessons)} lessons")
    for column in ("id", "track", "grade / week", "skill", "title", "min"):
        table.add_column(column, justify="right" if column == "min" else "left")
    for lesson in lessons:
        when = f"grade {lesson.grade}" if lesson.grade is not None else f"week {lesson.week}"
        table.add_row(
            lesson.id, lesson.track.value, when, lesson.skill.label, lesson.title, str(lesson.minutes)
        )
    Console(soft_wrap=True).print(table)


@curricula_app.command("show")
def curricula_show(
    lesson_id: Annotated[str, typer.Argument(metavar="ID", help="A lesson id from `onward curricula list`.")],
    as_json: JsonOption = False,
) -> None:
    """Show a whole lesson: objectives, steps, practice at home, adaptations, the reader's text, evidence.

    \b
    Example:
      onward curricula show grade-3-er-1
      onward curricula show prenatal-dt-1 --json
    """
    from onward.model.curricula import load_curricula

    lesson = load_curricula().lesson(lesson_id.strip())
    if as_json:
        typer.echo(json.dumps(lesson.as_dict(), ensure_ascii=False, indent=2))
        return
    when = f"grade {lesson.grade}" if lesson.grade is not None else f"week {lesson.week} ({lesson.visit})"
    reader = {"teacher": "Script the teacher reads aloud", "student": "Student text", "parent": "Parent text"}
    lines = [
        f"# {lesson.title}",
        f"`{lesson.id}` · {lesson.track.value} · {when} · {lesson.skill.label} · {lesson.minutes} minutes",
        "## Objectives",
        *[f"- {objective}" for objective in lesson.objectives],
        "## Materials",
        *([f"- {material}" for material in lesson.materials] or ["- none"]),
        "## Steps",
        *[f"{n}. ({step.minutes} min) {step.do}" for n, step in enumerate(lesson.steps, 1)],
        "## Practice at home",
        lesson.practice_at_home,
        "## Adaptations",
        f"- **Disability:** {lesson.adaptations.disability}",
        f"- **Language:** {lesson.adaptations.language}",
        f"- **Trauma-informed:** {lesson.adaptations.trauma_informed}",
        f"## {reader[lesson.reader]}",
        *[paragraph.replace("\n", "  \n") + "\n" for paragraph in lesson.text.split("\n\n")],
        "## Evidence",
        *[f"- {source.citation} <{source.url}>" for source in lesson.evidence],
    ]
    Console().print(Markdown("\n".join(lines)))


@curricula_app.command("check")
def curricula_check(
    track: TrackOption = None, grade: GradeOption = None, as_json: JsonOption = False
) -> None:
    """Check that each lesson's text reads at its band's level (rules in docs/skills.md, "Readability").

    Exits with status 1 when any lesson fails its band's rule.

    \b
    Example:
      onward curricula check
      onward curricula check --grade 2 --json
    """
    from onward.model.curricula import load_curricula
    from onward.model.skills_readability import check

    chosen_track, chosen_grade = _filters(track, grade)
    results = [check(lesson) for lesson in load_curricula().lessons(track=chosen_track, grade=chosen_grade)]
    failed = any(not r.passed for r in results)
    if as_json:
        rows = [
            {
                "id": r.lesson_id,
                "band": r.band,
                "words": r.words,
                "flesch_kincaid": r.flesch_kincaid,
                "unfamiliar_share": r.unfamiliar_share,
                "sentence_words": r.sentence_words,
                "passed": r.passed,
                "problems": list(r.problems),
            }
            for r in results
        ]
        typer.echo(json.dumps({"lessons": rows, "passed": not failed}, indent=2))
    else:
        table = Table(title="readability by lesson")
        for column in ("id", "band", "words", "FK grade", "unfamiliar", "words/sentence", "result"):
            table.add_column(column)
        for r in results:
            table.add_row(
                r.lesson_id,
                r.band,
                str(r.words),
                f"{r.flesch_kincaid:.1f}",
                f"{r.unfamiliar_share:.1%}",
                f"{r.sentence_words:.1f}",
                "ok" if r.passed else "[red]" + "; ".join(r.problems) + "[/]",
            )
        Console(soft_wrap=True).print(table)
    if failed:
        raise typer.Exit(1)
